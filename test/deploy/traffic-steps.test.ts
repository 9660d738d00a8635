/**
 * Traffic steps end to end below the HTTP layer, on both engines: the deployer over a real git
 * repository and the real docker-registry applies to the test Kubernetes API server (which
 * serves HTTPRoute as a custom resource; no Gateway implementation runs here, so nothing routes
 * by these weights in this test — test/e2e/canary-traffic-steps.test.ts is where requests
 * flow). The analysis's passing intervals are handed to the gate directly, as the runner does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  analysisCanaryControl,
  createDeployer,
  createKubeCluster,
  createTrafficSteps,
  type Deployer,
} from '../../src/deploy/index.js';
import type { TrafficSteps } from '../../src/deploy/traffic-steps.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/store/index.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { engines, openTestStore } from '../support/engines.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const GATEWAY = 'gateway.networking.k8s.io';

for (const engine of engines) {
  describe(`traffic steps through an HTTPRoute (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let registry: TestRegistry;
    let kube: KubeApiServer;
    let fixture: DeployFixture;
    let deployer: Deployer;
    let steps: TrafficSteps;
    const changes: string[] = [];

    const route = () => kube.get(GATEWAY, 'httproutes', 'production', 'web') as Json;
    /** [name, weight] of the route's weighted rule (the one without a header match). */
    const weights = () =>
      (route().spec.rules as Json[])
        .filter((rule) => !rule.matches?.some((match: Json) => match.headers))
        .flatMap((rule) => (rule.backendRefs as Json[]).map((ref) => [ref.name, ref.weight]));
    const sha = (n: number) => fixture.commits[n]!.slice(0, 7);
    let t0 = 0;
    const at = (seconds: number) => new Date(t0 + seconds * 1000);
    const passing = (analysisId: string, index: number, start: number, now: number) =>
      steps.gate(
        { service: 'web', namespace: 'production', analysisId, revision: sha(1) },
        { index, windowStart: at(start) },
        at(now),
      );

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      registry = await startRegistry();
      kube = await startKubeApiServer({ stepIntervalMs: 20 });
      fixture = await createDeployFixture(registry);
      for (let n = 0; n < 3; n++) await fixture.commit();
      const created = await kubectl(
        kube.kubeconfigPath,
        ['apply', '--server-side', '--field-manager=platform-team', '-f', '-'],
        `apiVersion: v1
kind: Namespace
metadata: { name: production }
---
apiVersion: ${GATEWAY}/v1
kind: HTTPRoute
metadata: { name: web, namespace: production }
spec:
  parentRefs: [{ name: edge, namespace: gateways }]
  hostnames: [web.example.com]
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: web, port: 80 }]
`,
      );
      assert.equal(created.status, 0, created.stderr);
      const settings = fixture.settings();
      settings.services.web!.strategy = {
        httpRoute: 'web',
        steps: [
          { weight: 5, pause: 60 },
          { weight: 25, pause: 0 },
          { weight: 50, pause: 0 },
        ],
        headerRoute: { name: 'x-canary', value: 'always', type: 'Exact' },
        confirmPromotion: true,
      };
      deployer = createDeployer({
        store,
        intake: createIntake({ writer: createEventWriter(store) }),
        cluster: createKubeCluster(loadKubeConfig({ kubeconfig: kube.kubeconfigPath })),
        settings,
        logger: silentLogger,
      });
      steps = createTrafficSteps({ store, deployer });
      kube.store.onChange((change) => {
        const object = change.object as Json;
        changes.push(`${change.type} ${change.kind.kind} ${object.metadata.name}`);
      });
    });
    after(async () => {
      await kube?.close();
      await registry?.stop();
      fixture?.remove();
      await dispose?.();
    });

    it('starts a canary at the first weight, with track Services and a header route', async () => {
      assert.ok((await deployer.deploy('web', { commit: sha(0) }, 'test')).ok);
      const canary = await deployer.canary('web', { commit: sha(1) }, 'test');
      assert.ok(canary.ok, canary.ok ? '' : canary.error.message);
      assert.deepEqual(weights(), [
        ['web-stable', 95],
        ['web-canary', 5],
      ]);
      const header = (route().spec.rules as Json[])[0]!;
      assert.deepEqual(header.matches[0].headers, [
        { type: 'Exact', name: 'x-canary', value: 'always' },
      ]);
      assert.deepEqual(
        header.backendRefs.map((ref: Json) => ref.name),
        ['web-canary'],
      );
      // The platform team's fields are kept: Cadence rewrote the rules only.
      assert.deepEqual(route().spec.parentRefs, [{ name: 'edge', namespace: 'gateways' }]);
      assert.deepEqual(route().spec.hostnames, ['web.example.com']);
      const selector = (name: string) =>
        (kube.get('', 'services', 'production', name) as Json).spec.selector;
      assert.deepEqual(selector('web-canary'), { app: 'web', track: 'canary' });
      assert.deepEqual(selector('web-stable'), { app: 'web', track: 'stable' });
      assert.deepEqual(selector('web'), { app: 'web' }, "the user's Service is left alone");
      const report = await steps.report('web');
      assert.equal(report.step, 1);
      assert.equal(report.weight, 5);
      // Step 1 began when the canary was applied; the intervals below count from there.
      t0 = Date.parse(report.stepStartedAt!);
    });

    it('moves a step per passing interval after the pause; each interval counts once', async () => {
      const held = await passing('a', 0, 0, 30);
      assert.equal(held.promote, false);
      assert.match(held.detail, /holds until/);
      assert.equal(weights()[1]![1], 5);
      const moved = await passing('a', 1, 30, 70);
      assert.match(moved.detail, /canary at 25 %/);
      assert.deepEqual(weights(), [
        ['web-stable', 75],
        ['web-canary', 25],
      ]);
      // The same interval again (a retry after a crash, or a second replica): no second step.
      const again = await passing('a', 1, 30, 71);
      assert.match(again.detail, /already counted/);
      assert.equal(weights()[1]![1], 25);
      // A second replica's TrafficSteps reads the same row.
      const other = createTrafficSteps({ store, deployer });
      assert.equal((await other.report('web')).step, 2);
    });

    it('moves no weight for an analysis bound to no revision, or of a service it does not run', async () => {
      // Both go on to the promotion, which refuses them as it does without steps.
      const unbound = await steps.gate(
        { service: 'web', namespace: 'production', analysisId: 'u' },
        { index: 0, windowStart: at(70) },
        at(400),
      );
      assert.deepEqual(unbound, { promote: true, detail: 'no traffic steps' });
      const unmanaged = await steps.gate(
        { service: 'other', namespace: 'production', analysisId: 'o', revision: sha(1) },
        { index: 0, windowStart: at(70) },
        at(400),
      );
      assert.deepEqual(unmanaged, { promote: true, detail: 'no traffic steps' });
      assert.equal(weights()[1]![1], 25);
      assert.equal((await steps.report('web')).step, 2);
    });

    it('a weight that could not be applied leaves the step as it was, for the retry', async () => {
      // The cluster refusing the shift, as an unreachable API server would (stopping the test
      // API server mid-suite is not possible): the deployer's shift rejects.
      const unreachable = createTrafficSteps({
        store,
        deployer: { ...deployer, shiftCanary: () => Promise.reject(new Error('cluster down')) },
      });
      await assert.rejects(
        unreachable.gate(
          { service: 'web', namespace: 'production', analysisId: 'a', revision: sha(1) },
          { index: 2, windowStart: at(200) },
          at(230),
        ),
        /cluster down/,
      );
      assert.equal((await steps.report('web')).step, 2, 'still step 2: the retry decides again');
      assert.equal(weights()[1]![1], 25);
    });

    it('a pause holds the step until resumed; the last step waits for a confirmation', async () => {
      const paused = await steps.pause('web', 'ana');
      assert.equal(paused.pausedBy, 'ana');
      const held = await passing('a', 2, 80, 110);
      assert.match(held.detail, /paused by ana/);
      assert.equal(weights()[1]![1], 25);
      await steps.resume('web', 'ana');
      assert.match((await passing('a', 3, 110, 140)).detail, /canary at 50 %/);
      assert.deepEqual(weights(), [
        ['web-stable', 50],
        ['web-canary', 50],
      ]);
      const waiting = await passing('a', 4, 140, 170);
      assert.equal(waiting.promote, false);
      assert.match(waiting.detail, /waiting for a confirmation/);
      const confirmed = await steps.confirm('web', 'ana');
      assert.equal(confirmed.confirmedBy, 'ana');
      assert.equal((await passing('a', 5, 170, 200)).promote, true);
    });

    it('rolls back by taking the canary out of the route before deleting it', async () => {
      const control = analysisCanaryControl(deployer, steps);
      changes.length = 0;
      const removed = await control.rollback({
        service: 'web',
        namespace: 'production',
        analysisId: 'a',
        revision: sha(1),
        reason: 'errors',
      });
      assert.equal(removed.applied, true, removed.detail);
      assert.deepEqual(weights(), [['web-stable', undefined]]);
      assert.equal((route().spec.rules as Json[]).length, 1, 'the header rule is gone');
      assert.equal(kube.get('apps', 'deployments', 'production', 'web-canary'), undefined);
      assert.equal(kube.get('', 'services', 'production', 'web-canary'), undefined);
      const routeChanged = changes.indexOf('MODIFIED HTTPRoute web');
      const canaryDeleted = changes.findIndex((change) =>
        /^(MODIFIED|DELETED) Deployment web-canary$/.test(change),
      );
      assert.ok(routeChanged >= 0 && canaryDeleted > routeChanged, changes.join('\n'));
      const report = await steps.report('web');
      assert.equal(report.step, null);
    });

    it('a new canary starts at step 1 again, and a promotion leaves the route on stable', async () => {
      const canary = await deployer.canary('web', { commit: sha(2) }, 'test');
      assert.ok(canary.ok);
      assert.equal((await steps.report('web')).step, 1);
      assert.equal(weights()[1]![1], 5);
      const promoted = await deployer.promote('web', 'test');
      assert.ok(promoted.ok);
      assert.deepEqual(weights(), [['web-stable', undefined]]);
      assert.equal(kube.get('', 'services', 'production', 'web-canary'), undefined);
      assert.deepEqual(
        (kube.get('', 'services', 'production', 'web-stable') as Json).spec.selector,
        { app: 'web', track: 'stable' },
      );
    });

    it('refuses a canary when the route does not exist, naming strategy.httpRoute', async () => {
      const gone = await kubectl(kube.kubeconfigPath, [
        'delete',
        '-n',
        'production',
        'httproute',
        'web',
      ]);
      assert.equal(gone.status, 0, gone.stderr);
      const canary = await deployer.canary('web', { commit: sha(1) }, 'test');
      assert.equal(canary.ok, false);
      assert.equal(!canary.ok && canary.error.field, 'strategy.httpRoute');
      assert.equal(kube.get('apps', 'deployments', 'production', 'web-canary'), undefined);
    });
  });
}
