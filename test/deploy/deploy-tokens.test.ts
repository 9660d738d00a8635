import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import {
  authenticate,
  authorize,
  countDeployTokens,
  createDeployToken,
  mayAct,
} from '../../src/deploy/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { CadenceError } from '../../src/problem/index.js';
import { startServer } from '../../src/server/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { createRecordingCluster } from '../support/recording-cluster.js';

const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

for (const engine of engines) {
  describe(`deployer tokens (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => ({ store, dispose } = await openTestStore(engine)));
    after(() => dispose());

    it('stores only a hash of the secret, and authenticates by Basic or Bearer', async () => {
      const { secret } = await createDeployToken(store, {
        name: 'ci',
        services: ['web'],
        actions: ['deploy', 'read'],
      });
      assert.match(secret, /^cdt_[A-Za-z0-9_-]{43}$/);
      const { rows } = await store.query('select * from deploy_tokens');
      assert.ok(!JSON.stringify(rows).includes(secret.slice(4)), 'the secret is not stored');
      for (const header of [basic('ci', secret), `Bearer ${secret}`]) {
        const principal = await authenticate(store, header);
        assert.deepEqual(principal, { name: 'ci', services: ['web'], actions: ['deploy', 'read'] });
      }
      assert.equal(await countDeployTokens(store), 1);
    });

    it('refuses a missing, malformed or wrong credential as unauthorized', async () => {
      const { secret } = await createDeployToken(store, {
        name: 'ops',
        services: ['*'],
        actions: ['rollback'],
      });
      for (const header of [
        undefined,
        'Token x',
        'Basic !!!',
        `Bearer ${secret}x`,
        basic('ci', secret),
      ]) {
        await assert.rejects(
          authenticate(store, header),
          (error: CadenceError) => error.code === 'unauthorized' && error.field === 'authorization',
          String(header),
        );
      }
    });

    it('rotates a token: the old secret stops working', async () => {
      const old = await createDeployToken(store, {
        name: 'rot',
        services: ['a'],
        actions: ['read'],
      });
      const rotated = await createDeployToken(store, {
        name: 'rot',
        services: ['a'],
        actions: ['read'],
      });
      await assert.rejects(authenticate(store, `Bearer ${old.secret}`));
      assert.equal((await authenticate(store, `Bearer ${rotated.secret}`)).name, 'rot');
    });

    it('refuses bad token requests naming the field', async () => {
      const cases: [Parameters<typeof createDeployToken>[1], string][] = [
        [{ name: 'has space', services: ['web'], actions: ['read'] }, 'name'],
        [{ name: 'x', services: [], actions: ['read'] }, 'services'],
        [{ name: 'x', services: ['web'], actions: ['admin' as 'read'] }, 'actions'],
      ];
      for (const [request, field] of cases) {
        await assert.rejects(
          createDeployToken(store, request),
          (error: CadenceError) => error.field === field,
        );
      }
    });
  });
}

describe('token scopes', () => {
  const principal = { name: 'ci', services: ['web'], actions: ['read', 'deploy'] as const };
  const cases: [string, Parameters<typeof mayAct>[1], string, boolean][] = [
    ['its service and action', 'deploy', 'web', true],
    ['another service', 'deploy', 'api', false],
    ['another action', 'rollback', 'web', false],
  ];
  for (const [name, action, service, allowed] of cases) {
    it(name, () => {
      assert.equal(mayAct(principal, action, service), allowed);
      if (!allowed) assert.throws(() => authorize(principal, action, service), /ci may not/);
    });
  }
  it('a * token acts on every service', () => {
    assert.ok(mayAct({ name: 'x', services: ['*'], actions: ['promote'] }, 'promote', 'any'));
  });
});

describe('start-up with the deployer enabled', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'cadence-deploy-start-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const config = (insecureDev: boolean) => {
    const loaded = loadConfig({ flags: { port: 0, dataDir: join(dir, 'data') } });
    loaded.router.enabled = false;
    loaded.deployer = {
      ...loaded.deployer,
      enabled: true,
      insecureDev,
      cacheDir: join(dir, 'repos'),
    };
    return loaded;
  };

  it('refuses to start without tokens', async () => {
    await assert.rejects(
      startServer(config(false), silentLogger, { cluster: createRecordingCluster() }),
      (error: CadenceError) =>
        error.code === 'config-invalid' && /cadence token create/.test(error.message),
    );
  });

  it('starts with insecureDev, serving the deployer without a token', async () => {
    const server = await startServer(config(true), silentLogger, {
      cluster: createRecordingCluster(),
    });
    try {
      const response = await fetch(`${server.url}/api/v1/services`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { services: [] });
    } finally {
      await server.close();
    }
  });
});
