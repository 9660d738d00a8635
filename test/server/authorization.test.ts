/**
 * The authorization table against the real app (issue 13): every operation the generated
 * /openapi.json lists is called with no token, a wrong token and a token with the wrong scope,
 * with server.auth on, and must answer 401/403 problem+json; the public ones stay open. Then the
 * defaults (server.auth off): deploy, canary, promote, rollback, analysis start and admin still
 * need a token, and an analysis start needs `canary` on its own service.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ACTIONS, createToken, type Action } from '../../src/auth/index.js';
import { alertmanagerSettingsSchema } from '../../src/sources/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import {
  documentOperations,
  everyRouteApp,
  type DocumentOperation,
} from '../support/every-route-app.js';
import { buildVendoringRepo } from '../support/git-fixture.js';

// A value for each path parameter the document names; `gitlab` has no secret in these tests,
// so its webhook is the one a token guards.
const PARAMS: Record<string, string> = {
  name: 'web',
  source: 'gitlab',
  seq: '1',
  id: '1',
  metric: 'lead-time',
  bucket: 'week',
  namespace: 'shop',
};

const fill = (path: string) =>
  path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => PARAMS[name] ?? 'x');

for (const engine of engines) {
  describe(`authorization on every operation (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    const vendoring = buildVendoringRepo();
    const mirrorDir = mkdtempSync(join(tmpdir(), 'cadence-auth-'));

    const appWith = (auth: { read: boolean; ingest: boolean } | undefined) =>
      everyRouteApp(store, {
        repository: vendoring.fixture.dir,
        cacheDir: mirrorDir,
        insecureDev: false,
        ...(auth ? { auth } : {}),
        sources: { alertmanager: alertmanagerSettingsSchema.parse({ token: 'am-secret' }) },
      }).app;

    let locked: FastifyInstance;
    let operations: DocumentOperation[];
    /** A token per action holding every other action, on every service and source. */
    const allBut = new Map<Action, string>();
    let otherService: string;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      locked = appWith({ read: true, ingest: true });
      await locked.ready();
      const response = await locked.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(response.statusCode, 200, 'the document is public');
      operations = documentOperations(response.json());
      for (const action of ACTIONS) {
        const { name, secret } = await createToken(store, {
          name: `all-but-${action}`,
          services: ['*'],
          actions: ACTIONS.filter((other) => other !== action),
          sources: ['*'],
        });
        allBut.set(action, `Bearer ${name}:${secret}`);
      }
      const other = await createToken(store, {
        name: 'other-service',
        services: ['api'],
        actions: [...ACTIONS],
        sources: ['*'],
      });
      otherService = `Bearer other-service:${other.secret}`;
    });
    after(async () => {
      await locked.close();
      await dispose();
      vendoring.fixture.remove();
      rmSync(mirrorDir, { recursive: true, force: true });
    });

    const call = (app: FastifyInstance, operation: DocumentOperation, authorization?: string) =>
      app.inject({
        method: operation.method as 'GET',
        url: fill(operation.path),
        headers: {
          ...(authorization ? { authorization } : {}),
          'content-type': 'application/json',
        },
        payload: operation.method === 'GET' || operation.method === 'DELETE' ? undefined : '{}',
      });

    const assertProblem = (
      response: Awaited<ReturnType<FastifyInstance['inject']>>,
      status: number,
      what: string,
    ) => {
      assert.equal(response.statusCode, status, `${what}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /application\/problem\+json/, what);
      assert.equal(response.json().field, 'authorization', what);
      if (status === 401) assert.match(String(response.headers['www-authenticate']), /Bearer/);
    };

    it('declares an action for every operation, and the document shows it', () => {
      assert.ok(operations.length > 40, `${operations.length} operations`);
      const undeclared = operations.filter((operation) => operation.action === '(none)');
      assert.deepEqual(undeclared, []);
      const publicOnes = operations.filter((operation) => operation.action === 'public');
      assert.deepEqual(publicOnes.map((operation) => operation.path).sort(), [
        '/',
        '/deployer/version',
        '/healthz',
        '/openapi.json',
        '/readyz',
        '/version',
      ]);
    });

    it('refuses every guarded operation without a token, with a bad one and with the wrong scope', async () => {
      let checked = 0;
      for (const operation of operations) {
        const what = `${operation.method} ${operation.path} (${operation.action})`;
        if (operation.action === 'public') {
          const response = await call(locked, operation);
          assert.ok(![401, 403].includes(response.statusCode), `${what} stays open`);
          continue;
        }
        assertProblem(await call(locked, operation), 401, `${what} without a token`);
        assertProblem(
          await call(locked, operation, 'Bearer cdt_not-a-token'),
          401,
          `${what} with a bad token`,
        );
        assertProblem(
          await call(locked, operation, allBut.get(operation.action as Action)),
          403,
          `${what} without ${operation.action}`,
        );
        if (/^\/(api\/v1\/services|deployer)\/\{name\}/.test(operation.path)) {
          assertProblem(
            await call(locked, operation, otherService),
            403,
            `${what} on another service`,
          );
        }
        checked++;
      }
      assert.ok(checked > 40, `${checked} guarded operations checked`);
    });

    it('an ingest token allowed other sources may not post to a webhook without a secret', async () => {
      const { secret } = await createToken(store, {
        name: 'github-only',
        services: ['*'],
        actions: ['ingest'],
        sources: ['github'],
      });
      const response = await locked.inject({
        method: 'POST',
        url: '/webhooks/gitlab',
        headers: {
          authorization: `Bearer github-only:${secret}`,
          'content-type': 'application/json',
        },
        payload: '{}',
      });
      assertProblem(response, 403, 'gitlab webhook with a github-only token');
      assert.match(response.json().detail, /may not send events for gitlab/);
    });

    describe('with server.auth off (the default)', () => {
      let open: FastifyInstance;
      before(async () => {
        open = appWith(undefined);
        await open.ready();
      });
      after(() => open.close());

      it('leaves reads and intake open, and keeps the rest behind a token', async () => {
        for (const operation of operations) {
          // An open stream never ends under inject; the rollout route tests cover it.
          if (operation.path.endsWith('/stream')) continue;
          const response = await call(open, operation);
          const what = `${operation.method} ${operation.path} (${operation.action})`;
          // The deployer's reads and read-only SQL ask for a read token even with reads open.
          const deployerRead = /^\/(api\/v1\/services|deployer|api\/v1\/sql$)/.test(operation.path);
          if (
            operation.action === 'public' ||
            ((operation.action === 'read' || operation.action === 'ingest') && !deployerRead)
          ) {
            assert.ok(![401, 403].includes(response.statusCode), `${what}: ${response.body}`);
          } else {
            assertProblem(response, 401, what);
          }
        }
      });

      it('an anonymous analysis start is refused, and one for another service is forbidden', async () => {
        const body = JSON.stringify({ service: 'web', revision: 'abc1234' });
        const post = (authorization?: string) =>
          open.inject({
            method: 'POST',
            url: '/api/v1/analyses',
            headers: {
              'content-type': 'application/json',
              ...(authorization ? { authorization } : {}),
            },
            payload: body,
          });
        assertProblem(await post(), 401, 'anonymous');
        const api = await createToken(store, {
          name: 'canary-api',
          services: ['api'],
          actions: ['canary'],
        });
        const forbidden = await post(`Bearer canary-api:${api.secret}`);
        assertProblem(forbidden, 403, 'canary on api only');
        assert.match(forbidden.json().detail, /may not canary web/);
        const web = await createToken(store, {
          name: 'canary-web',
          services: ['web'],
          actions: ['canary'],
        });
        const started = await post(`Bearer canary-web:${web.secret}`);
        assert.equal(started.statusCode, 201, started.body);
        assert.equal(started.json().revision, 'abc1234');
      });

      it('admin lists and revokes tokens; the revoked one stops working', async () => {
        const admin = await createToken(store, {
          name: 'root',
          services: ['*'],
          actions: ['admin'],
        });
        const doomed = await createToken(store, {
          name: 'doomed',
          services: ['*'],
          actions: ['read'],
        });
        const headers = { authorization: `Bearer root:${admin.secret}` };
        const listed = await open.inject({ method: 'GET', url: '/api/v1/tokens', headers });
        assert.equal(listed.statusCode, 200);
        const names = (listed.json() as { tokens: { name: string }[] }).tokens.map((t) => t.name);
        assert.ok(names.includes('doomed') && names.includes('root'));
        assert.ok(!listed.body.includes(doomed.secret.slice(4)), 'no secret is listed');
        const revoked = await open.inject({
          method: 'DELETE',
          url: '/api/v1/tokens/doomed',
          headers,
        });
        assert.equal(revoked.statusCode, 204);
        const after = await open.inject({
          method: 'GET',
          url: '/api/v1/services',
          headers: { authorization: `Bearer doomed:${doomed.secret}` },
        });
        assertProblem(after, 401, 'revoked token');
      });
    });
  });
}
