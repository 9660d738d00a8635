/**
 * The traffic-step routes over HTTP, on both engines: reading the steps, pausing and resuming
 * (a `canary` token), confirming the promotion (a `promote` token), and the refusals naming
 * their field. The deployer runs over a real git repository and the real docker-registry; the
 * cluster is the recording stand-in the route tests use (these tests are about the HTTP
 * surface; test/deploy/traffic-steps.test.ts drives the test Kubernetes API server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../../src/auth/index.js';
import { createDeployer, type Deployer } from '../../src/deploy/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/store/index.js';
import { testApp } from '../support/app.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { engines, openTestStore } from '../support/engines.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { createRecordingCluster } from '../support/recording-cluster.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const engine of engines) {
  describe(`traffic-step routes (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let registry: TestRegistry;
    let fixture: DeployFixture;
    let deployer: Deployer;
    let app: FastifyInstance;
    const tokens: Record<string, string> = {};
    const call = (method: 'GET' | 'POST', url: string, token?: string) =>
      app.inject({
        method,
        url,
        headers: token ? { authorization: `Bearer ${tokens[token]}` } : {},
      });

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      registry = await startRegistry();
      fixture = await createDeployFixture(registry);
      await fixture.commit();
      await fixture.commit();
      const cluster = createRecordingCluster();
      // The platform team's route, as it would be in the cluster before the first canary.
      await cluster.apply(
        [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'HTTPRoute',
            metadata: { name: 'web', namespace: 'production' },
            spec: { rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
          },
        ],
        { dryRun: false },
      );
      const settings = fixture.settings();
      settings.services.api = { ...settings.services.web! };
      settings.services.web!.strategy = {
        httpRoute: 'web',
        steps: [
          { weight: 5, pause: 0 },
          { weight: 50, pause: 0 },
        ],
        confirmPromotion: true,
      };
      ({ app } = testApp(store, {
        deployer: (intake) => {
          deployer = createDeployer({ store, intake, cluster, settings, logger: silentLogger });
          return { deployer, insecureDev: false };
        },
      }));
      for (const [name, actions] of [
        ['reader', ['read']],
        ['pauser', ['read', 'canary']],
        ['approver', ['promote']],
      ] as const) {
        tokens[name] = (
          await createToken(store, { name, services: ['web', 'api'], actions: [...actions] })
        ).secret;
      }
      assert.ok((await deployer.deploy('web', { commit: fixture.commits[0] }, 'test')).ok);
    });
    after(async () => {
      await app?.close();
      await registry?.stop();
      fixture?.remove();
      await dispose?.();
    });

    it('reads the steps: none without a canary, step 1 at 5 % with one', async () => {
      const none = await call('GET', '/api/v1/services/web/steps', 'reader');
      assert.equal(none.statusCode, 200, none.body);
      assert.equal(none.json().step, null);
      const canary = await deployer.canary('web', { commit: fixture.commits[1] }, 'test');
      assert.ok(canary.ok, canary.ok ? '' : canary.error.message);
      const steps = (await call('GET', '/api/v1/services/web/steps', 'reader')).json() as Json;
      assert.deepEqual(
        { step: steps.step, weight: steps.weight, confirm: steps.confirmPromotion },
        { step: 1, weight: 5, confirm: true },
      );
      assert.deepEqual(steps.steps, [
        { weight: 5, pauseSeconds: 0 },
        { weight: 50, pauseSeconds: 0 },
      ]);
    });

    it('pauses and resumes with a canary token; confirms only with a promote token', async () => {
      assert.equal((await call('POST', '/api/v1/services/web/pause')).statusCode, 401);
      const refused = await call('POST', '/api/v1/services/web/pause', 'reader');
      assert.equal(refused.statusCode, 403);
      const paused = await call('POST', '/api/v1/services/web/pause', 'pauser');
      assert.equal(paused.statusCode, 200, paused.body);
      assert.equal(paused.json().pausedBy, 'pauser');
      const resumed = await call('POST', '/api/v1/services/web/resume', 'pauser');
      assert.equal(resumed.json().pausedBy, null);
      assert.equal((await call('POST', '/api/v1/services/web/confirm', 'pauser')).statusCode, 403);
      const confirmed = await call('POST', '/api/v1/services/web/confirm', 'approver');
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      assert.equal(confirmed.json().confirmedBy, 'approver');
    });

    it('refuses, naming the field: no strategy, no canary, no such service', async () => {
      const noStrategy = await call('POST', '/api/v1/services/api/pause', 'pauser');
      assert.equal(noStrategy.statusCode, 409);
      assert.match(noStrategy.headers['content-type'] as string, /application\/problem\+json/);
      assert.equal(noStrategy.json().field, 'strategy');
      assert.ok((await deployer.rollback('web', 'test')).ok);
      const noCanary = await call('POST', '/api/v1/services/web/pause', 'pauser');
      assert.equal(noCanary.statusCode, 409);
      assert.equal(noCanary.json().field, 'service');
      const unknown = await call('GET', '/api/v1/services/nothing/steps', 'reader');
      assert.ok([403, 404].includes(unknown.statusCode), unknown.body);
    });
  });
}
