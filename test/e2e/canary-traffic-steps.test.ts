/**
 * Traffic steps with a real data plane. Cadence (the deployer over a real git repository and the
 * real docker-registry, the analysis runner with the sequential judge against a real
 * Prometheus) writes weights into an HTTPRoute in the test Kubernetes API server. No Gateway API
 * implementation runs here, so a small test-side controller (test/support/haproxy-route.ts)
 * translates every change of the route into a configuration of the real HAProxy (Debian) and
 * reloads it. A bounded load generator sends requests through HAProxy to the demo apps (one
 * stable, one canary; Prometheus scrapes both), and counts each answer under the route
 * generation that served it: the measured share per step is compared with its weight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createAnalysisRunner,
  createPrometheusClient,
  findAnalysis,
  listIntervals,
  startAnalysis,
  type AnalysisRunner,
} from '../../src/analysis/index.js';
import { type AnalysisSpecInput } from '../../src/analysis/schema.js';
import {
  analysisCanaryControl,
  createDeployer,
  createKubeCluster,
  createTrafficSteps,
  type Deployer,
} from '../../src/deploy/index.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { startDemoApp, type DemoApp } from '../support/demo-app.js';
import { startHaproxyRoute, type HaproxyRoute } from '../support/haproxy-route.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { pollUntil } from '../support/poll-until.js';
import { createTestPrometheus, type TestPrometheus } from '../support/prometheus.js';

const GATEWAY = 'gateway.networking.k8s.io';
const sequential: AnalysisSpecInput = {
  judge: 'sequential',
  alpha: 0.01,
  warmupSeconds: 2,
  intervalSeconds: 3,
  intervals: 2,
  stepSeconds: 1,
  sampleWindowSeconds: 4,
  evaluationDelaySeconds: 1,
  maxInconclusive: 40,
  metrics: [
    {
      name: 'error-rate',
      group: 'errors',
      critical: true,
      minSamples: 5,
      tolerance: { limit: 0.05, mode: 'absolute' },
    },
    { name: 'latency-p95', group: 'latency', critical: true, minSamples: 5 },
  ],
};

interface Answer {
  generation: number;
  track: string;
  code: number;
}

/** Requests through the proxy at a fixed rate, at most `maxInFlight` at once (loopback only). */
function startLoad(url: string, ratePerSecond: number, maxInFlight = 8) {
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    if (inFlight.size >= maxInFlight) return;
    const request = fetch(url)
      .then(async (response) => {
        await response.arrayBuffer();
        answers.push({
          generation: Number(response.headers.get('x-route-generation')),
          track: response.headers.get('x-track') ?? '?',
          code: response.status,
        });
      })
      .catch(() => undefined)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }, 1000 / ratePerSecond);
  return {
    answers,
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}

describe('canary traffic steps through HAProxy by the HTTPRoute Cadence writes', () => {
  let registry: TestRegistry;
  let kube: KubeApiServer;
  let fixture: DeployFixture;
  let store: Store;
  let deployer: Deployer;
  let stable: DemoApp;
  let canary: DemoApp;
  let prometheus: TestPrometheus;
  let proxy: HaproxyRoute;
  let runner: AnalysisRunner;
  let load: ReturnType<typeof startLoad>;
  let unsubscribe: (() => void) | undefined;
  const sha = (n: number) => fixture.commits[n]!.slice(0, 7);

  before(async () => {
    registry = await startRegistry();
    kube = await startKubeApiServer({ stepIntervalMs: 20 });
    fixture = await createDeployFixture(registry);
    for (let n = 0; n < 3; n++) await fixture.commit();
    stable = await startDemoApp({ service: 'web', track: 'stable', namespace: 'production' });
    canary = await startDemoApp({ service: 'web', track: 'canary', namespace: 'production' });
    prometheus = await createTestPrometheus({
      targets: [stable.target, canary.target],
      scrapeIntervalMs: 1000,
    });
    proxy = await startHaproxyRoute({
      web: stable.target,
      'web-stable': stable.target,
      'web-canary': canary.target,
    });
    // The controller: every change of the route becomes an HAProxy configuration.
    unsubscribe = kube.store.onChange((change) => {
      if (change.kind.kind === 'HTTPRoute' && change.type !== 'DELETED') proxy.apply(change.object);
    });
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
  parentRefs: [{ name: edge }]
  rules:
    - backendRefs: [{ name: web, port: 80 }]
`,
    );
    assert.equal(created.status, 0, created.stderr);
    store = await openStore({});
    const settings = fixture.settings();
    settings.services.web!.strategy = {
      httpRoute: 'web',
      steps: [
        { weight: 5, pause: 0 },
        { weight: 25, pause: 0 },
        { weight: 50, pause: 0 },
      ],
      headerRoute: { name: 'x-canary', value: 'always', type: 'Exact' },
      confirmPromotion: false,
    };
    deployer = createDeployer({
      store,
      intake: createIntake({ writer: createEventWriter(store) }),
      cluster: createKubeCluster(loadKubeConfig({ kubeconfig: kube.kubeconfigPath })),
      settings,
      logger: silentLogger,
    });
    runner = createAnalysisRunner({
      store,
      prometheus: createPrometheusClient({ url: prometheus.url, timeoutMs: 2000 }),
      control: analysisCanaryControl(deployer, createTrafficSteps({ store, deployer })),
      logger: silentLogger,
      pollIntervalMs: 250,
    });
    runner.start();
    load = startLoad(proxy.url, 60);
    await pollUntil(
      () => load.answers.some((answer) => answer.generation >= 1 && answer.code === 200),
      'HAProxy to answer through the route',
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    assert.ok((await deployer.deploy('web', { commit: sha(0) }, 'test')).ok);
  });

  after(async () => {
    unsubscribe?.();
    await load?.stop();
    await runner?.stop();
    await proxy?.stop();
    await prometheus?.dispose();
    await stable?.close();
    await canary?.close();
    await store?.close();
    await kube?.close();
    await registry?.stop();
    fixture?.remove();
  });

  /** The measured canary share of each route generation from `first` on, with its weight. */
  const shares = (first: number) =>
    proxy.generations
      .filter((generation) => generation.generation >= first)
      .map((generation) => {
        const served = load.answers.filter((a) => a.generation === generation.generation);
        const toCanary = served.filter((a) => a.track === 'canary').length;
        return {
          generation: generation.generation,
          weight: generation.weights['web-canary'] ?? 0,
          requests: served.length,
          share: served.length ? (100 * toCanary) / served.length : NaN,
          toCanary,
        };
      });

  async function analysed(revision: string) {
    const started = await startAnalysis(store, {
      service: 'web',
      namespace: 'production',
      revision,
      analysis: sequential,
    });
    runner.wake();
    return pollUntil(
      async () => {
        const found = await findAnalysis(store, started.id);
        return found?.finishedAt ? found : undefined;
      },
      'the analysis to finish',
      { timeoutMs: 150_000, intervalMs: 250 },
    );
  }

  it('promotes a healthy canary through 5, 25 and 50 %, each share within 3 points', async () => {
    const firstGeneration = proxy.generations.length + 1;
    const started = await deployer.canary('web', { commit: sha(1) }, 'test');
    assert.ok(started.ok, started.ok ? '' : started.error.message);
    // The header route: these requests reach the canary whatever the weight.
    const tagged = await pollUntil(
      async () => {
        const response = await fetch(proxy.url, { headers: { 'x-canary': 'always' } });
        await response.arrayBuffer();
        // Answered by the configuration of the canary's route (HAProxy reloads asynchronously).
        const generation = Number(response.headers.get('x-route-generation'));
        return generation >= firstGeneration ? response : undefined;
      },
      'HAProxy to serve the canary route',
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.equal(tagged.headers.get('x-track'), 'canary');
    const done = await analysed(started.version);
    const trail = JSON.stringify(
      (await listIntervals(store, done.id)).map((i) => [i.verdict, i.missing]),
    );
    assert.equal(done.status, 'promoted', `${done.reason} ${trail}`);
    await pollUntil(
      () => load.answers.some((a) => a.generation === proxy.generations.length),
      'an answer under the route without the canary',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const measured = shares(firstGeneration);
    const weights = measured.map((m) => m.weight);
    assert.deepEqual(weights, [5, 25, 50, 0], JSON.stringify(measured));
    for (const step of measured.slice(0, 3)) {
      assert.ok(
        step.requests >= 40,
        `too few requests at ${step.weight} %: ${JSON.stringify(step)}`,
      );
      assert.ok(
        Math.abs(step.share - step.weight) <= 3,
        `measured ${step.share.toFixed(1)} % at weight ${step.weight} %`,
      );
    }
    console.log(`healthy canary: ${JSON.stringify(measured)}`);
  });

  it('rolls a failing canary back at 5 %: the route drops it before it is deleted', async () => {
    canary.set({ errorRatio: 0.3 });
    const firstGeneration = proxy.generations.length + 1;
    const started = await deployer.canary('web', { commit: sha(2) }, 'test');
    assert.ok(started.ok, started.ok ? '' : started.error.message);
    const done = await analysed(started.version);
    assert.equal(done.status, 'rolled-back', done.reason ?? '');
    await pollUntil(
      () => load.answers.some((a) => a.generation === proxy.generations.length),
      'an answer under the route without the canary',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const measured = shares(firstGeneration);
    assert.deepEqual(
      measured.map((m) => m.weight),
      [5, 0],
      `never above 5 %: ${JSON.stringify(measured)}`,
    );
    assert.ok(Math.abs(measured[0]!.share - 5) <= 3, JSON.stringify(measured));
    assert.equal(measured[1]!.toCanary, 0, 'nothing reaches the canary after the rollback');
    assert.equal(kube.get('apps', 'deployments', 'production', 'web-canary'), undefined);
    const exposure = measured[0]!.toCanary;
    console.log(`failing canary: ${exposure} requests served by it before the rollback`);
  });
});
