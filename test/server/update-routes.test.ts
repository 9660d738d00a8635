/**
 * Continuous updates over HTTP, with the real registry (docker-registry), a real deployer (real
 * git, SQL on PGlite) and its watcher; the cluster is the recording stand-in the deploy route
 * tests use (test/support/recording-cluster.ts). The approval needs a deploy token allowed to
 * start a canary of the update's service: none → 401, another scope → 403, the right one → 200
 * and the canary starts (`cadence approve ID`, the CLI run from source); freshness in the API
 * and on /metrics.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type Deployer } from '../../src/deploy/index.js';
import { createToken as createDeployToken } from '../../src/auth/index.js';
import type { Store } from '../../src/store/index.js';
import type { UpdateWatcher } from '../../src/updates/index.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { openTestStore } from '../support/engines.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { deployerAndUpdatesApp } from '../support/every-route-app.js';

const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

describe('update routes', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let registry: TestRegistry;
  let fixture: DeployFixture;
  let deployer: Deployer;
  let watcher: UpdateWatcher;
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};

  async function release(tag: string): Promise<void> {
    const sha = await fixture.commit();
    fixture.repo.git(['tag', tag, sha]);
    await registry.push('web', tag);
  }

  let url: string;
  /** The CLI from source (`tsx`), run without blocking this process's server. */
  const cli = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        env: { ...process.env, CADENCE_TOKEN: '', CADENCE_CREDENTIALS: '/nonexistent' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    registry = await startRegistry();
    fixture = await createDeployFixture(registry);
    await release('v2.3.0');
    ({ app, deployer, watcher } = deployerAndUpdatesApp(store, fixture.settings(), {
      insecureDev: false,
    }));
    assert.equal((await deployer.deploy('web', { tag: 'v2.3.0' }, 'test')).ok, true);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    for (const [name, services, actions] of [
      ['ci', ['web'], ['read', 'canary']],
      ['reader', ['web'], ['read']],
      ['other', ['api'], ['canary']],
    ] as const) {
      tokens[name] = (
        await createDeployToken(store, { name, services: [...services], actions: [...actions] })
      ).secret;
    }
  });
  after(async () => {
    await app.close();
    await watcher.stop();
    await registry.stop();
    fixture.remove();
    await dispose();
  });

  it('shows a pending update and the freshness of each service', async () => {
    await release('v2.3.1');
    await release('v2.4.0');
    await release('v3.0.0');
    await release('v2.2.9');
    await watcher.tick({ force: true });
    const response = await app.inject({ method: 'GET', url: '/api/v1/updates' });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.updates.length, 1);
    assert.equal(body.updates[0].tag, 'v2.4.0');
    assert.equal(body.updates[0].state, 'pending');
    assert.equal(body.updates[0].leadTimeFrom, 'first-seen');
    assert.equal(body.services.length, 1);
    assert.equal(body.services[0].current, 'v2.3.0');
    assert.equal(body.services[0].newest, 'v3.0.0');
    assert.equal(body.services[0].versionsBehind, 3);
    assert.equal(body.services[0].update, 'v2.4.0');

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /^cadence_service_versions_behind\{service="web"\} 3$/m);

    const bad = await app.inject({ method: 'GET', url: '/api/v1/updates?all=maybe' });
    assert.equal(bad.statusCode, 400);
    assert.match(String(bad.headers['content-type']), /^application\/problem\+json/);
    assert.equal(bad.json().field, 'all');
  });

  it('approves only with a token that may start a canary of the service', async () => {
    const [pending] = (await app.inject({ method: 'GET', url: '/api/v1/updates' })).json()
      .updates as { id: number }[];
    const approve = (authorization?: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/updates/${pending!.id}/approve`,
        headers: authorization ? { authorization } : {},
      });

    const none = await approve();
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic /);
    assert.equal((await approve(basic('reader', tokens.reader!))).statusCode, 403);
    assert.equal((await approve(basic('other', tokens.other!))).statusCode, 403);
    assert.equal((await deployer.version('web')).canary, null);

    // The CLI approves over HTTP with the same token; a bad id never reaches the server.
    const refused = await cli(['approve', 'abc', '--server', url, '--token', `ci:${tokens.ci}`]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /not an update id/);
    const ok = await cli([
      'approve',
      String(pending!.id),
      '--server',
      url,
      '--token',
      `ci:${tokens.ci}`,
      '--json',
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { approvedBy: string }).approvedBy, 'ci');
    await watcher.tick(); // the approval's own pass, waited for
    assert.equal((await deployer.version('web')).canary?.tag, 'v2.4.0');
    const [started] = (await app.inject({ method: 'GET', url: '/api/v1/updates' })).json()
      .updates as { state: string; analysisId: string }[];
    assert.equal(started?.state, 'started');
    assert.match(started.analysisId, /^canary-\d+$/);

    const missing = await app.inject({
      method: 'POST',
      url: '/api/v1/updates/999999/approve',
      headers: { authorization: basic('ci', tokens.ci!) },
    });
    assert.equal(missing.statusCode, 404);
    const invalid = await app.inject({
      method: 'POST',
      url: '/api/v1/updates/abc/approve',
      headers: { authorization: basic('ci', tokens.ci!) },
    });
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json().field, 'id');
  });

  it('records the lead time once the canary is promoted', async () => {
    assert.equal((await deployer.promote('web', 'analysis')).ok, true);
    await watcher.tick({ force: true });
    const all = (await app.inject({ method: 'GET', url: '/api/v1/updates?all=true' })).json();
    const promoted = all.updates.find((u: { tag: string }) => u.tag === 'v2.4.0');
    assert.equal(promoted.state, 'promoted');
    assert.ok(promoted.leadTimeSeconds >= 0);
    assert.equal(
      promoted.leadTimeSeconds,
      (Date.parse(promoted.finishedAt) - Date.parse(promoted.firstSeenAt)) / 1000,
    );
    assert.equal(all.services[0].current, 'v2.4.0');
    assert.equal(all.services[0].versionsBehind, 1);
  });
});
