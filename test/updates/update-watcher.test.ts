/**
 * The registry watcher over the REAL docker-registry and a real deployer (real git repository,
 * real manifest cache, SQL on PGlite): tags are pushed, the watcher records the one the policy
 * allows and starts a canary at it through `deployer.canary`. The cluster is the recording
 * stand-in the deployer's route tests use (test/support/recording-cluster.ts): what is applied
 * is the deployer's business and proven against the test API server in test/e2e.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDeployer, type Deployer } from '../../src/deploy/index.js';
import { createNotifier } from '../../src/notify/index.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/store/index.js';
import {
  approveUpdate,
  createUpdateWatcher,
  listUpdates,
  updatesSettingsSchema,
  type UpdateWatcher,
} from '../../src/updates/index.js';
import { type UpdatesSettings } from '../../src/updates/schema.js';
import {
  createDeployFixture,
  webManifests,
  type DeployFixture,
} from '../support/deploy-fixture.js';
import { openTestStore } from '../support/engines.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { pollUntil } from '../support/poll-until.js';
import { createRecordingCluster } from '../support/recording-cluster.js';

describe('the update watcher against a real registry and deployer', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let registry: TestRegistry;
  let fixture: DeployFixture;
  let deployer: Deployer;
  let clock = new Date('2026-12-01T10:00:00Z');
  const now = () => clock;

  /** A release: a commit tagged `tag` in git, its image pushed under the same tag. */
  async function release(tag: string): Promise<void> {
    const sha = await fixture.commit();
    fixture.repo.git(['tag', tag, sha]);
    await registry.push('web', tag);
  }
  const watcher = (settings: Record<string, unknown>): UpdateWatcher =>
    createUpdateWatcher({
      store,
      deployer,
      settings: updatesSettingsSchema.parse({ enabled: true, services: { web: settings } }),
      logger: silentLogger,
      now,
    });
  const canaryOperations = async () =>
    (await deployer.show('web')).operations.filter(
      (operation) => (operation as { action: string }).action === 'canary',
    ).length;

  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    registry = await startRegistry();
    fixture = await createDeployFixture(registry);
    await release('1.0.0');
    deployer = createDeployer({
      store,
      intake: createIntake({ writer: createEventWriter(store) }),
      cluster: createRecordingCluster(),
      settings: fixture.settings(),
      logger: silentLogger,
    });
    assert.equal((await deployer.deploy('web', { tag: '1.0.0' }, 'test')).ok, true);
  });
  after(async () => {
    await registry.stop();
    fixture.remove();
    await dispose();
  });

  it('starts a canary at the newest allowed tag once, never a downgrade, and times its promotion', async () => {
    await release('0.9.0');
    await release('1.0.1');
    await release('1.1.0');
    const patches = watcher({ policy: 'patch', intervalSeconds: 60 });
    await patches.tick({ force: true });

    const [update] = await listUpdates(store);
    assert.equal(update?.tag, '1.0.1');
    assert.equal(update.fromVersion, '1.0.0');
    assert.equal(update.state, 'started');
    const versions = await deployer.version('web');
    assert.equal(versions.canary?.tag, '1.0.1');
    assert.equal(update.analysisId, `canary-${update.operationId}`);
    assert.deepEqual(
      patches.freshness().map(({ service, current, newest, versionsBehind, update: next }) => ({
        service,
        current,
        newest,
        versionsBehind,
        next,
      })),
      // 1.0.1 and 1.1.0 are newer; 0.9.0 and the main-<sha> tags are not versions ahead.
      [{ service: 'web', current: '1.0.0', newest: '1.1.0', versionsBehind: 2, next: '1.0.1' }],
    );

    // The canary is in flight: more passes start nothing, for this tag or any other.
    await patches.tick({ force: true });
    await patches.tick({ force: true });
    assert.equal(await canaryOperations(), 1);
    assert.equal((await listUpdates(store)).length, 1);

    // The analysis promotes it (here the deployer directly); the watcher sees stable at the tag.
    clock = new Date(clock.getTime() + 90_000);
    assert.equal((await deployer.promote('web', 'analysis')).ok, true);
    await patches.tick({ force: true });
    const [promoted] = await listUpdates(store);
    assert.equal(promoted?.state, 'promoted');
    assert.equal(promoted.leadTimeSeconds, 90);
    assert.equal(patches.freshness()[0]?.versionsBehind, 1); // only 1.1.0 is ahead now
    assert.equal(await canaryOperations(), 1);
  });

  it('waits for an approval, and never starts a rolled-back tag again', async () => {
    await release('1.0.2');
    const approved = watcher({ policy: 'patch', approval: true, intervalSeconds: 60 });
    await approved.tick({ force: true });
    const [pending] = await listUpdates(store, { open: true });
    assert.equal(pending?.tag, '1.0.2');
    assert.equal(pending.state, 'pending');
    assert.equal(await canaryOperations(), 1);

    await approveUpdate(store, pending.id, 'alice', clock);
    await approved.tick({ force: true });
    assert.equal((await deployer.version('web')).canary?.tag, '1.0.2');
    assert.equal(await canaryOperations(), 2);

    assert.equal((await deployer.rollback('web', 'analysis')).ok, true);
    await approved.tick({ force: true });
    await approved.tick({ force: true });
    const [rolledBack] = await listUpdates(store, { service: 'web' });
    assert.equal(rolledBack?.state, 'rolled-back');
    assert.equal(rolledBack.leadTimeSeconds, null);
    assert.equal(await canaryOperations(), 2);
    assert.equal((await deployer.version('web')).stable?.tag, '1.0.1');
  });

  it('supersedes a pending tag when a newer one arrives; two replicas start it once', async () => {
    await release('1.0.3');
    await watcher({ policy: 'patch', approval: true, intervalSeconds: 60 }).tick({ force: true });
    await release('1.0.4');
    const settings: Record<string, unknown> = { policy: 'patch', intervalSeconds: 60 };
    const replicas = [watcher(settings), watcher(settings)];
    await Promise.all(replicas.map((replica) => replica.tick({ force: true })));

    const byTag = new Map((await listUpdates(store)).map((u) => [u.tag, u.state]));
    assert.equal(byTag.get('1.0.3'), 'superseded');
    assert.equal(byTag.get('1.0.4'), 'started');
    assert.equal(await canaryOperations(), 3);
    assert.equal((await deployer.version('web')).canary?.tag, '1.0.4');
  });

  it('a tag whose canary cannot start is retried with backoff, then failed: one notification', async () => {
    assert.equal((await deployer.promote('web', 'analysis')).ok, true); // 1.0.4 done
    const posts: string[] = [];
    const webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        posts.push(body);
        response.end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const { port } = webhook.address() as AddressInfo;
    const notifying = createDeployer({
      store,
      intake: createIntake({ writer: createEventWriter(store) }),
      cluster: createRecordingCluster(),
      settings: fixture.settings(),
      logger: silentLogger,
      notifier: createNotifier({ type: 'slack', url: `http://127.0.0.1:${port}/` }, silentLogger),
    });
    // 1.0.5: a release whose Deployment the cluster refuses (a container without a name).
    const broken = webManifests(registry.host);
    broken['kubernetes/web.yaml'] = broken['kubernetes/web.yaml']!.replace(
      '- name: logger\n          image',
      '- image',
    );
    const sha = fixture.repo.commit('broken web', '2026-11-28T10:00:00Z', broken);
    fixture.repo.git(['tag', '1.0.5', sha]);
    await registry.push('web', '1.0.5');
    const retrying = createUpdateWatcher({
      store,
      deployer: notifying,
      settings: updatesSettingsSchema.parse({
        enabled: true,
        services: { web: { policy: 'patch', maxAttempts: 3, retryBackoffSeconds: 60 } },
      }),
      logger: silentLogger,
      now,
    });
    const failedCanaries = async () =>
      (await deployer.show('web')).operations.filter(
        (operation) =>
          (operation as { action: string; outcome: string }).action === 'canary' &&
          (operation as { outcome: string }).outcome === 'failure',
      ).length;
    const current = async () => (await listUpdates(store)).find((u) => u.tag === '1.0.5')!;

    await retrying.tick({ force: true });
    assert.equal((await current()).state, 'approved');
    assert.equal((await current()).attempts, 1);
    assert.match((await current()).error ?? '', /containers/);
    // Backing off: passes before retryAt try nothing.
    await retrying.tick({ force: true });
    await retrying.tick({ force: true });
    assert.equal(await failedCanaries(), 1);
    assert.equal((await current()).retryAt?.getTime(), clock.getTime() + 60_000);

    clock = new Date(clock.getTime() + 60_000);
    await retrying.tick({ force: true });
    assert.equal((await current()).attempts, 2);
    assert.equal((await current()).retryAt?.getTime(), clock.getTime() + 120_000, 'doubled');
    clock = new Date(clock.getTime() + 60_000);
    await retrying.tick({ force: true });
    assert.equal(await failedCanaries(), 2, 'still backing off');
    clock = new Date(clock.getTime() + 60_000);
    await retrying.tick({ force: true });
    const failed = await current();
    assert.equal(failed.state, 'failed');
    assert.equal(failed.attempts, 3);
    assert.ok(failed.finishedAt);

    clock = new Date(clock.getTime() + 3_600_000);
    for (let n = 0; n < 3; n++) await retrying.tick({ force: true });
    assert.equal(await failedCanaries(), 3, 'one audit row per attempt, no more attempts');
    await pollUntil(() => posts.length === 1, 'the notification');
    assert.match(posts[0]!, /canary web 1\.0\.5 failed/);
    assert.equal(posts.length, 1);
    await new Promise((resolve) => webhook.close(resolve));
  });

  it('rejects a glob policy without its pattern at start-up', () => {
    const parsed = updatesSettingsSchema.safeParse({ services: { web: { policy: 'glob' } } });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error.issues[0]?.path, ['services', 'web', 'glob']);
    const ok: UpdatesSettings = updatesSettingsSchema.parse({
      services: { web: { policy: 'glob', glob: 'main-*' } },
    });
    assert.equal(ok.services.web?.intervalSeconds, 300);
  });
});
