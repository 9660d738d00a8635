import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import {
  authenticate,
  authorize,
  countTokens as countDeployTokens,
  createToken as createDeployToken,
  listTokens,
  mayAct,
  maySendFor,
  parseLifetime,
  revokeToken,
} from '../../src/auth/index.js';
import { lastUsedIsStale } from '../../src/auth/expiry.js';
import { parseCredentials } from '../../src/auth/tokens.js';
import { silentLogger } from '../../src/log/index.js';
import type { CadenceError } from '../../src/problem/index.js';
import { startServer } from '../../src/server/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { createRecordingCluster } from '../support/recording-cluster.js';

const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

for (const engine of engines) {
  describe(`tokens (${engine})`, () => {
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
      for (const header of [basic('ci', secret), `Bearer ${secret}`, `Bearer ci:${secret}`]) {
        const principal = await authenticate(store, header);
        assert.deepEqual(principal, {
          name: 'ci',
          services: ['web'],
          actions: ['deploy', 'read'],
          sources: [],
        });
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
        `Bearer ci:${secret}`,
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
        [{ name: 'x', services: ['web'], actions: ['destroy' as 'read'] }, 'actions'],
        // An ingest token must say which producers it may send for.
        [{ name: 'x', services: ['*'], actions: ['ingest'] }, 'sources'],
      ];
      for (const [request, field] of cases) {
        await assert.rejects(
          createDeployToken(store, request),
          (error: CadenceError) => error.field === field,
        );
      }
    });

    it('refuses an expired token, naming when it expired', async () => {
      const now = new Date('2026-12-01T12:00:00Z');
      const { secret } = await createDeployToken(store, {
        name: 'short',
        services: ['*'],
        actions: ['read'],
        expiresAt: new Date(now.getTime() + 60_000),
      });
      assert.equal((await authenticate(store, `Bearer ${secret}`, now)).name, 'short');
      await assert.rejects(
        authenticate(store, `Bearer ${secret}`, new Date(now.getTime() + 60_000)),
        (error: CadenceError) =>
          error.code === 'unauthorized' &&
          /expired at 2026-12-01T12:01:00.000Z/.test(error.message),
      );
    });

    it('records last use at most once a minute', async () => {
      const { secret } = await createDeployToken(store, {
        name: 'used',
        services: ['*'],
        actions: ['read'],
      });
      const lastUsed = async () =>
        (await listTokens(store)).find((token) => token.name === 'used')!.lastUsedAt;
      assert.equal(await lastUsed(), null);
      const t0 = new Date('2026-12-01T12:00:00Z');
      await authenticate(store, `Bearer ${secret}`, t0);
      assert.equal((await lastUsed())?.toISOString(), t0.toISOString());
      // Within the minute: not written again (a hot read path stays a read).
      await authenticate(store, `Bearer ${secret}`, new Date(t0.getTime() + 59_000));
      assert.equal((await lastUsed())?.toISOString(), t0.toISOString());
      const t1 = new Date(t0.getTime() + 60_000);
      await authenticate(store, `Bearer ${secret}`, t1);
      assert.equal((await lastUsed())?.toISOString(), t1.toISOString());
    });

    it('lists tokens without secrets and revokes one at once', async () => {
      const { secret } = await createDeployToken(store, {
        name: 'gone',
        services: ['*'],
        actions: ['ingest'],
        sources: ['github', 'cdevents'],
      });
      const listed = (await listTokens(store)).find((token) => token.name === 'gone');
      assert.deepEqual(listed?.sources, ['github', 'cdevents']);
      assert.ok(!JSON.stringify(await listTokens(store)).includes(secret.slice(4)));
      await revokeToken(store, 'gone');
      await assert.rejects(authenticate(store, `Bearer ${secret}`), /not valid/);
      assert.equal(
        (await listTokens(store)).find((token) => token.name === 'gone'),
        undefined,
      );
      await assert.rejects(
        revokeToken(store, 'gone'),
        (error: CadenceError) => error.code === 'not-found' && error.field === 'name',
      );
    });
  });
}

describe('token lifetimes and credentials', () => {
  const lifetimes: [string, number | undefined][] = [
    ['90m', 90 * 60_000],
    ['12h', 12 * 3_600_000],
    ['30d', 30 * 86_400_000],
    ['8w', 8 * 7 * 86_400_000],
    ['0d', undefined],
    ['30', undefined],
    ['1y', undefined],
    ['-1d', undefined],
  ];
  for (const [text, ms] of lifetimes) {
    it(`lifetime ${text}`, () => {
      if (ms === undefined) assert.throws(() => parseLifetime(text), /expires/);
      else assert.equal(parseLifetime(text), ms);
    });
  }
  it('last use is stale after a minute', () => {
    const t = new Date('2026-12-01T00:00:00Z');
    assert.equal(lastUsedIsStale(null, t), true);
    assert.equal(lastUsedIsStale(new Date(t.getTime() - 59_999), t), false);
    assert.equal(lastUsedIsStale(new Date(t.getTime() - 60_000), t), true);
  });
  const headers: [string, ReturnType<typeof parseCredentials>][] = [
    ['Bearer cdt_x', { secret: 'cdt_x' }],
    ['Bearer ci:cdt_x', { name: 'ci', secret: 'cdt_x' }],
    [basic('ci', 'cdt_x'), { name: 'ci', secret: 'cdt_x' }],
    ['Basic bm9jb2xvbg==', undefined],
    ['Bearer', undefined],
    ['Digest abc', undefined],
  ];
  for (const [header, expected] of headers) {
    it(`credentials of ${header}`, () => assert.deepEqual(parseCredentials(header), expected));
  }
});

describe('token scopes', () => {
  const principal = {
    name: 'ci',
    services: ['web'],
    actions: ['read', 'deploy', 'ingest'] as const,
    sources: ['github'],
  };
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
    assert.ok(
      mayAct({ name: 'x', services: ['*'], actions: ['promote'], sources: [] }, 'promote', 'any'),
    );
  });
  it('an ingest token sends only for its sources', () => {
    assert.equal(maySendFor(principal, 'github'), true);
    assert.equal(maySendFor(principal, 'alertmanager'), false);
    assert.equal(maySendFor({ ...principal, actions: ['read'] }, 'github'), false);
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
