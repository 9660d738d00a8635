import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDeployer, deployerSettingsSchema, type Deployer } from '../../src/deploy/index.js';
import { createToken as createDeployToken } from '../../src/auth/index.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { cadenceVersion } from '../../src/version/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createNotifier } from '../../src/notify/index.js';
import { buildApp } from '../../src/server/app.js';
import type { Store } from '../../src/store/index.js';
import { testApp } from '../support/app.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { engines, openTestStore } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { createRecordingCluster, type RecordingCluster } from '../support/recording-cluster.js';

const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of engines) {
  describe(`deployer HTTP API (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let registry: TestRegistry;
    let fixture: DeployFixture;
    let cluster: RecordingCluster;
    let deployer: Deployer;
    let app: FastifyInstance;
    let webhook: Server;
    const notifications: Json[] = [];
    let ci: string;
    let other: string;
    let reader: string;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      registry = await startRegistry();
      fixture = await createDeployFixture(registry);
      await fixture.commit();
      await fixture.commit();
      webhook = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          notifications.push(JSON.parse(body) as Json);
          response.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
      cluster = createRecordingCluster();
      const intake = createIntake({ writer: createEventWriter(store) });
      deployer = createDeployer({
        store,
        intake,
        cluster,
        settings: fixture.settings(),
        logger: silentLogger,
        notifier: createNotifier(
          {
            type: 'slack',
            url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
          },
          silentLogger,
        ),
      });
      app = buildApp({
        store,
        intake,
        logger: silentLogger,
        bodyLimitBytes: 1024 * 1024,
        deployer: { deployer, insecureDev: false },
      });
      ci = (
        await createDeployToken(store, {
          name: 'ci',
          services: ['web'],
          actions: ['read', 'deploy', 'canary', 'promote', 'rollback'],
        })
      ).secret;
      other = (
        await createDeployToken(store, {
          name: 'other',
          services: ['api'],
          actions: ['read', 'deploy'],
        })
      ).secret;
      reader = (
        await createDeployToken(store, { name: 'reader', services: ['*'], actions: ['read'] })
      ).secret;
    });
    after(async () => {
      await app.close();
      await new Promise((resolve) => webhook.close(resolve));
      await registry.stop();
      fixture.remove();
      await dispose();
    });

    const deploy = (
      path: string,
      payload: string,
      authorization = basic('ci', ci),
      method: 'POST' | 'PUT' = 'POST',
    ) => app.inject({ method, url: path, headers: { ...form, authorization }, payload });

    it('refuses without a token (401, with a Basic challenge) and with a bad one', async () => {
      const none = await app.inject({ method: 'GET', url: '/api/v1/services' });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.match(String(none.headers['www-authenticate']), /^Basic /);
      assert.equal(none.json().field, 'authorization');
      const bad = await deploy('/deployer/web/deploy', 'commit=abc1234', basic('ci', 'cdt_wrong'));
      assert.equal(bad.statusCode, 401);
      const wrongName = await deploy('/deployer/web/deploy', 'commit=abc1234', basic('other', ci));
      assert.equal(wrongName.statusCode, 401, 'the Basic user must be the token name');
    });

    it('refuses a token for another service or another action (403)', async () => {
      const forOther = await deploy(
        '/deployer/web/deploy',
        `commit=${fixture.commits[0]!.slice(0, 7)}`,
        basic('other', other),
      );
      assert.equal(forOther.statusCode, 403);
      assert.match(forOther.json().detail, /other may not deploy web/);
      const readOnly = await deploy(
        '/api/v1/services/web/deploy',
        'commit=abc1234',
        `Bearer ${reader}`,
      );
      assert.equal(readOnly.statusCode, 403);
      assert.equal(cluster.calls.length, 0);
    });

    it('lists the services a token may read, by Basic or Bearer', async () => {
      const listed = await app.inject({
        method: 'GET',
        url: '/api/v1/services',
        headers: { authorization: `Bearer ${reader}` },
      });
      assert.equal(listed.statusCode, 200);
      assert.deepEqual(
        listed.json().services.map((service: Json) => service.name),
        ['web'],
      );
      const scoped = await app.inject({
        method: 'GET',
        url: '/deployer',
        headers: { authorization: basic('other', other) },
      });
      assert.deepEqual(scoped.json().services, []);
    });

    it('names the field of bad input (400) and an unknown service (404)', async () => {
      const cases: [string, string, number, string][] = [
        ['/deployer/web/deploy', 'commit=not-a-sha', 400, 'commit'],
        ['/deployer/web/deploy', 'commit=abc1234&colour=blue', 400, 'colour'],
        ['/deployer/web/deploy', '', 400, 'commit'],
        ['/deployer/web/deploy', 'commit=deadbeefdeadbeef', 404, 'commit'],
        ['/deployer/web/deploy', 'tag=v9', 404, 'tag'],
        ['/deployer/api/deploy', 'commit=abc1234', 403, 'authorization'],
      ];
      for (const [url, payload, status, field] of cases) {
        const response = await deploy(url, payload);
        assert.equal(response.statusCode, status, `${url} ${payload}: ${response.body}`);
        assert.equal(response.json().field, field, `${url} ${payload}`);
      }
      const json = await app.inject({
        method: 'POST',
        url: '/api/v1/services/web/deploy',
        headers: { authorization: basic('ci', ci), 'content-type': 'application/json' },
        payload: '{"commit": 42}',
      });
      assert.equal(json.statusCode, 400);
      assert.equal(json.json().field, 'commit');
      const xml = await app.inject({
        method: 'POST',
        url: '/api/v1/services/web/deploy',
        headers: { authorization: basic('ci', ci), 'content-type': 'text/xml' },
        payload: '<a/>',
      });
      assert.equal(xml.statusCode, 415);
      const unknown = await app.inject({
        method: 'GET',
        url: '/api/v1/services/nope',
        headers: { authorization: `Bearer ${reader}` },
      });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().field, 'service');
      assert.equal(cluster.calls.filter((call) => !call.dryRun).length, 0);
    });

    it('deploys at a short commit, form-encoded, the way curl --data does', async () => {
      const [first] = fixture.commits;
      const response = await deploy('/deployer/web/deploy', `commit=${first!.slice(0, 7)}`);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.ok, true);
      assert.equal(body.commit, first);
      assert.equal(body.version, `main-${first!.slice(0, 7)}`);
      assert.deepEqual(body.images, [
        `${registry.host}/web:main-${first!.slice(0, 7)}`,
        'debian:wheezy',
      ]);
      assert.deepEqual(
        body.applied.map((ref: Json) => `${ref.kind}/${ref.name}`),
        ['Deployment/web', 'Service/web'],
      );
      // every change was dry-run before any was made
      assert.deepEqual(
        cluster.calls.map((call) => `${call.verb}${call.dryRun ? ' (dry run)' : ''} ${call.key}`),
        [
          'apply (dry run) Deployment/production/web',
          'apply (dry run) Service/production/web',
          'apply Deployment/production/web',
          'apply Service/production/web',
        ],
      );
      const applied = cluster.objects.get('Deployment/production/web') as Json;
      assert.equal(applied.spec.template.metadata.labels.track, 'stable');
      assert.equal(
        applied.spec.template.spec.containers[0].image,
        `${registry.host}/web:main-${first!.slice(0, 7)}`,
      );
    });

    it('counts the deploy in DORA metrics through its CDEvent', async () => {
      const { settle } = testApp(store);
      await settle();
      const metrics = await app.inject({
        method: 'GET',
        url: '/api/v1/metrics?service=web&environment=production',
      });
      assert.equal(metrics.statusCode, 200, metrics.body);
      assert.equal(metrics.json().overall.deployments, 1);
    });

    it('refuses a commit whose image tag is not in the registry before touching the cluster, and tells the webhook', async () => {
      const unpushed = await fixture.commit({ push: false });
      const before = cluster.calls.length;
      const response = await deploy('/api/v1/services/web/deploy', `commit=${unpushed}`);
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().field, 'commit');
      assert.match(response.json().detail, /no image tag <branch>-<sha>/);
      assert.equal(cluster.calls.length, before, 'no dry run, no apply');
      const notification = notifications.at(-1)!;
      assert.match(notification.text, /deploy web .* failed \(validate\)/);
      assert.ok(Array.isArray(notification.blocks));
      const { rows } = await store.query<{ outcome: string; actor: string }>(
        "select outcome, actor from deploy_operations where service = 'web' order by id desc limit 1",
      );
      assert.deepEqual(rows[0], { outcome: 'failure', actor: 'ci' });
    });

    it('refuses a tag whose image the registry lacks', async () => {
      fixture.repo.git(['tag', 'v2', fixture.commits[1]!]);
      const response = await deploy('/api/v1/services/web/deploy', 'tag=v2');
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().field, 'tag');
      assert.match(
        response.json().detail,
        new RegExp(`not in registry ${registry.host}: ${registry.host}/web:v2`),
      );
    });

    it('starts a canary next to stable (PUT deploy_canary, JSON), Services selecting both tracks', async () => {
      const second = fixture.commits[1]!;
      const response = await app.inject({
        method: 'PUT',
        url: '/deployer/web/deploy_canary',
        headers: { authorization: basic('ci', ci), 'content-type': 'application/json' },
        payload: JSON.stringify({ commit: second }),
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(
        response.json().applied.map((ref: Json) => ref.name),
        ['web-canary'],
      );
      const canary = cluster.objects.get('Deployment/production/web-canary') as Json;
      assert.equal(canary.spec.replicas, 1);
      assert.deepEqual(canary.spec.selector.matchLabels, { app: 'web', track: 'canary' });
      assert.equal(canary.spec.template.metadata.labels.version, `main-${second.slice(0, 7)}`);
      const service = cluster.objects.get('Service/production/web') as Json;
      assert.deepEqual(service.spec.selector, { app: 'web' });
      const version = await app.inject({
        method: 'GET',
        url: '/api/v1/services/web/version',
        headers: { authorization: `Bearer ${reader}` },
      });
      assert.equal(version.json().stable.commit, fixture.commits[0]);
      assert.equal(version.json().canary.commit, second);
    });

    it("answers Cadence's version at /version and /deployer/version, never a service's", async () => {
      for (const url of ['/version', '/deployer/version']) {
        const response = await app.inject({ method: 'GET', url });
        assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
        assert.deepEqual(response.json(), { version: cadenceVersion() });
      }
      const reserved = deployerSettingsSchema.safeParse({
        services: { version: { repository: '/srv/git', namespace: 'production' } },
      });
      assert.equal(reserved.success, false);
      assert.deepEqual(reserved.error!.issues[0]!.path, ['services', 'version']);
    });

    it("starts an API analysis in the deployer service's namespace unless one is given", async () => {
      const { secret: canary } = await createDeployToken(store, {
        name: 'analyst',
        services: ['*'],
        actions: ['canary'],
      });
      const start = (body: unknown) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/analyses',
          headers: { 'content-type': 'application/json', authorization: basic('analyst', canary) },
          payload: JSON.stringify(body),
        });
      const defaulted = await start({ service: 'web' });
      assert.equal(defaulted.statusCode, 201, defaulted.body);
      assert.equal(defaulted.json().namespace, 'production');
      assert.equal((await start({ service: 'web', namespace: 'shop' })).json().namespace, 'shop');
      assert.equal((await start({ service: 'unknown' })).json().namespace, 'default');
    });

    it('refuses a bad manifest at the dry run, changing nothing', async () => {
      const broken = fixture.repo.commit('broken', '2026-11-20T10:00:00Z', {
        'kubernetes/web.yaml': (await import('node:fs'))
          .readFileSync(`${fixture.repo.dir}/kubernetes/web.yaml`, 'utf8')
          .replace('- name: web', '- nom: web'),
      });
      await registry.push('web', `main-${broken.slice(0, 7)}`);
      const before = [...cluster.objects.values()].map((object) => JSON.stringify(object));
      const response = await deploy('/api/v1/services/web/deploy', `commit=${broken}`);
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().field, 'manifests');
      assert.match(response.json().detail, /^dry run: /);
      assert.deepEqual(
        [...cluster.objects.values()].map((object) => JSON.stringify(object)),
        before,
      );
    });

    it('promotes: the canary version becomes stable and the canary goes', async () => {
      const response = await deploy('/deployer/web/promote', '');
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(
        response.json().removed.map((ref: Json) => ref.name),
        ['web-canary'],
      );
      assert.equal(cluster.objects.has('Deployment/production/web-canary'), false);
      const stable = cluster.objects.get('Deployment/production/web') as Json;
      assert.equal(
        stable.spec.template.metadata.labels.version,
        `main-${fixture.commits[1]!.slice(0, 7)}`,
      );
      assert.equal(stable.spec.template.metadata.labels.track, 'stable');
      const again = await deploy('/deployer/web/promote', '');
      assert.equal(again.statusCode, 409);
    });

    it('rolls back: a canary is removed; without one, stable returns to the previous revision', async () => {
      await deploy('/deployer/web/canary', `commit=${fixture.commits[0]}`);
      assert.ok(cluster.objects.has('Deployment/production/web-canary'));
      const removeCanary = await deploy('/deployer/web/rollback', '', basic('ci', ci), 'PUT');
      assert.equal(removeCanary.statusCode, 200, removeCanary.body);
      assert.equal(cluster.objects.has('Deployment/production/web-canary'), false);
      assert.equal(
        (cluster.objects.get('Deployment/production/web') as Json).spec.template.metadata.labels
          .version,
        `main-${fixture.commits[1]!.slice(0, 7)}`,
      );

      const toPrevious = await deploy('/api/v1/services/web/rollback', '');
      assert.equal(toPrevious.statusCode, 200, toPrevious.body);
      assert.equal(toPrevious.json().commit, fixture.commits[0]);
      assert.equal(
        (cluster.objects.get('Deployment/production/web') as Json).spec.template.metadata.labels
          .version,
        `main-${fixture.commits[0]!.slice(0, 7)}`,
      );
      const nowhere = await deploy('/api/v1/services/web/rollback', '');
      assert.equal(nowhere.statusCode, 409);
    });

    it('a deploy removes an old canary: never more than two versions', async () => {
      await deploy('/deployer/web/canary', `commit=${fixture.commits[1]}`);
      const response = await deploy('/deployer/web/deploy', `commit=${fixture.commits[1]}`);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(
        response.json().removed.map((ref: Json) => ref.name),
        ['web-canary'],
      );
      assert.equal(cluster.objects.has('Deployment/production/web-canary'), false);
    });

    it('serializes two concurrent deploys of one service, in this process and across deployers', async () => {
      const deployerOver = (watched: LeaseWatch) =>
        createDeployer({
          store: watched.store,
          intake: createIntake({ writer: createEventWriter(store) }),
          cluster,
          settings: fixture.settings(),
          logger: silentLogger,
        });
      const mine = leaseWatch(store);
      const theirs = leaseWatch(store);
      const here = deployerOver(mine);
      const replica = deployerOver(theirs);
      for (const second of [here, replica]) {
        const held = cluster.hold();
        const start = cluster.calls.length;
        const first = here.deploy('web', { commit: fixture.commits[0] }, 'one');
        await held.reached; // the first is inside its apply, holding the service
        const taken = mine.taken + theirs.taken;
        const refused = theirs.refused;
        const next = second.deploy('web', { commit: fixture.commits[1] }, 'two');
        // In this process the replica asks too, after the second: its lease query is issued after
        // any the second would make, so when it has been refused twice (two polls) a second deploy
        // that was not serialized would have taken the lease or gone on to the cluster.
        const probe =
          second === here
            ? replica.deploy('web', { commit: fixture.commits[1] }, 'probe')
            : undefined;
        await pollUntil(
          () => theirs.refused >= refused + 2,
          'the replica to be refused the lease the held deploy has',
        );
        assert.equal(mine.taken + theirs.taken, taken, 'nobody took the lease while it was held');
        assert.equal(
          cluster.calls.length,
          start + 2,
          "only the first deploy's two dry runs happened while it was held",
        );
        held.release();
        const results = await Promise.all([first, next, ...(probe ? [probe] : [])]);
        assert.ok(results.every((result) => result.ok));
        const order = cluster.calls.slice(start).map((call) => `${call.dryRun ? 'dry' : 'apply'}`);
        assert.deepEqual(
          order,
          results.flatMap(() => ['dry', 'dry', 'apply', 'apply']),
          'each deploy dry-ran and applied before the next began',
        );
      }
      const version = await deployer.version('web');
      assert.equal(version.stable?.commit, fixture.commits[1]);
    });

    it('audits every operation with who, what, ref, result and timing', async () => {
      const show = await app.inject({
        method: 'GET',
        url: '/deployer/web',
        headers: { authorization: basic('ci', ci) },
      });
      assert.equal(show.statusCode, 200);
      const operations = show.json().operations as Json[];
      assert.ok(operations.length >= 10);
      const latest = operations[0]!;
      assert.equal(latest.action, 'deploy');
      assert.equal(latest.actor, 'two');
      assert.equal(latest.outcome, 'success');
      assert.equal(latest.commit, fixture.commits[1]);
      assert.equal(typeof latest.durationMs, 'number');
      const tags = await app.inject({
        method: 'GET',
        url: '/api/v1/services/web/tags',
        headers: { authorization: basic('ci', ci) },
      });
      assert.equal(tags.statusCode, 200, tags.body);
      assert.deepEqual(tags.json().images[0].image, `${registry.host}/web`);
      assert.ok(tags.json().images[0].tags.includes(`main-${fixture.commits[0]!.slice(0, 7)}`));
    });

    it('keeps the previous versions: rollback to any kept one, an unknown one refused naming `to`', async () => {
      const version = (sha: string) => `main-${sha.slice(0, 7)}`;
      const versions = async () => {
        const response = await app.inject({
          method: 'GET',
          url: '/api/v1/services/web/version',
          headers: { authorization: basic('ci', ci) },
        });
        assert.equal(response.statusCode, 200, response.body);
        return response.json() as Json;
      };
      const stableLabel = () =>
        (cluster.objects.get('Deployment/production/web') as Json).spec.template.metadata.labels
          .version;
      const [a, b, c] = [await fixture.commit(), await fixture.commit(), await fixture.commit()];
      for (const sha of [a, b, c]) {
        const response = await deploy('/api/v1/services/web/deploy', `commit=${sha}`);
        assert.equal(response.statusCode, 200, response.body);
      }
      const kept = await versions();
      assert.equal(kept.stable.version, version(c!));
      assert.deepEqual(
        (kept.previousVersions as Json[]).slice(0, 3).map((revision) => revision.version),
        [version(b!), version(a!), version(fixture.commits[1]!)],
      );
      assert.equal(kept.previous.version, version(b!));

      const unknown = await deploy('/api/v1/services/web/rollback', 'to=v9.9.9');
      assert.equal(unknown.statusCode, 404, unknown.body);
      assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);
      assert.equal(unknown.json().field, 'to');
      assert.match(unknown.json().detail, new RegExp(`kept: ${version(b!)} .*${version(a!)}`));
      const malformed = await deploy('/deployer/web/rollback', 'to=../etc');
      assert.equal(malformed.statusCode, 400);
      assert.equal(malformed.json().field, 'to');
      assert.equal(stableLabel(), version(c!), 'a refused rollback changed nothing');

      const toA = await app.inject({
        method: 'POST',
        url: '/api/v1/services/web/rollback',
        headers: { 'content-type': 'application/json', authorization: basic('ci', ci) },
        payload: JSON.stringify({ to: version(a!) }),
      });
      assert.equal(toA.statusCode, 200, toA.body);
      assert.equal(toA.json().commit, a);
      assert.equal(stableLabel(), version(a!));
      // What is kept is what ran before the version now stable: b and c are gone from the list.
      const after = await versions();
      assert.equal(after.previous.version, version(fixture.commits[1]!));
      assert.ok(
        !(after.previousVersions as Json[]).some((revision) =>
          [version(b!), version(c!)].includes(revision.version),
        ),
      );

      // A second rollback has somewhere to go; a canary must go before stable moves `to` one.
      await deploy('/deployer/web/canary', `commit=${c}`);
      const blocked = await deploy(
        '/api/v1/services/web/rollback',
        `to=${fixture.commits[1]!.slice(0, 10)}`,
      );
      assert.equal(blocked.statusCode, 409, blocked.body);
      assert.equal(blocked.json().field, 'to');
      assert.equal((await deploy('/api/v1/services/web/rollback', '')).statusCode, 200);
      const second = await deploy(
        '/api/v1/services/web/rollback',
        `to=${fixture.commits[1]!.slice(0, 10)}`,
      );
      assert.equal(second.statusCode, 200, second.body);
      assert.equal(stableLabel(), version(fixture.commits[1]!));

      const audited = (
        await app.inject({
          method: 'GET',
          url: '/deployer/web',
          headers: { authorization: basic('ci', ci) },
        })
      ).json().operations as Json[];
      assert.deepEqual(
        audited.slice(0, 7).map((op) => `${op.action} ${op.outcome}`),
        [
          'rollback success',
          'rollback success',
          'rollback failure',
          'canary success',
          'rollback success',
          'rollback failure',
          'deploy success',
        ],
      );
    });
  });
}

interface LeaseWatch {
  store: Store;
  /** Times this deployer asked for a service's lease and got it, or was refused. */
  taken: number;
  refused: number;
}

/** The store as one deployer sees it, counting its answers on the service lease. */
function leaseWatch(store: Store): LeaseWatch {
  const watch: LeaseWatch = { store, taken: 0, refused: 0 };
  watch.store = new Proxy(store, {
    get(target, key) {
      if (key === 'query') {
        return async (sql: string, params?: unknown[]) => {
          const result = await target.query(sql, params);
          if (/set lock_owner = \$2/.test(sql)) {
            if (result.rows.length > 0) watch.taken++;
            else watch.refused++;
          }
          return result;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return watch;
}
