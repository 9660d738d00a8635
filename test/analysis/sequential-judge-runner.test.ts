/**
 * The sequential judge through the unchanged analysis runner, end to end: a real Prometheus
 * (Debian `prometheus`) scrapes stable/canary pairs of demo apps under a loopback load; the
 * runner queries every interval from the analysis's start (the judge's `window`), so each
 * interval judges all samples so far. The canary control is the recording stand-in for the
 * deployer (as in test/e2e/canary-analysis.test.ts); everything else is real. Intervals are 3 s,
 * shorter than `minSamples` allows for a per-interval judge: the samples accumulate.
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
  type CanaryRequest,
} from '../../src/analysis/index.js';
import { type AnalysisSpecInput } from '../../src/analysis/schema.js';
import { CadenceError } from '../../src/problem/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startDemoApp, startLoad, type DemoApp, type DemoBehaviour } from '../support/demo-app.js';
import { pollUntil } from '../support/poll-until.js';
import { createTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { recordingControl } from '../support/recording-control.js';

const sequential: AnalysisSpecInput = {
  judge: 'sequential',
  alpha: 0.01,
  warmupSeconds: 2,
  intervalSeconds: 3,
  intervals: 2,
  stepSeconds: 1,
  sampleWindowSeconds: 4,
  evaluationDelaySeconds: 1,
  maxInconclusive: 12,
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

describe('the sequential judge through the analysis runner, against a real Prometheus', () => {
  const services: Record<string, Partial<DemoBehaviour>> = {
    'seq-healthy': {},
    'seq-errors': { errorRatio: 0.3 },
    'seq-latency': { latencyMs: 160 },
    // Traffic steps: the control's gate holds the promotion of this healthy canary three times.
    'seq-gated': {},
  };
  const apps: DemoApp[] = [];
  let prometheus: TestPrometheus;
  let load: ReturnType<typeof startLoad>;
  let store: Store;
  let runner: AnalysisRunner;
  const gateCalls: { service: string; index: number }[] = [];
  const control = {
    ...recordingControl(),
    gate(request: CanaryRequest, interval: { index: number }) {
      gateCalls.push({ service: request.service, index: interval.index });
      const held =
        request.service === 'seq-gated' &&
        gateCalls.filter((c) => c.service === 'seq-gated').length <= 3;
      return Promise.resolve({
        promote: !held,
        detail: held ? 'step 2 of 4: canary at 25 %' : 'all steps passed',
      });
    },
  };

  before(async () => {
    for (const [service, behaviour] of Object.entries(services)) {
      apps.push(await startDemoApp({ service, track: 'stable' }));
      apps.push(await startDemoApp({ service, track: 'canary', behaviour }));
    }
    // A baseline (stable's version started beside the canary) as slow as the canary, while
    // the long-running stable is fast: judged against the baseline, the canary is no worse.
    apps.push(
      await startDemoApp({ service: 'seq-baseline', track: 'stable' }),
      await startDemoApp({
        service: 'seq-baseline',
        track: 'canary',
        behaviour: { latencyMs: 160 },
      }),
      await startDemoApp({
        service: 'seq-baseline',
        track: 'baseline',
        behaviour: { latencyMs: 160 },
      }),
    );
    prometheus = await createTestPrometheus({
      targets: apps.map((app) => app.target),
      scrapeIntervalMs: 1000,
    });
    load = startLoad(apps, { ratePerSecond: 10 });
    store = await openStore({});
    runner = createAnalysisRunner({
      store,
      prometheus: createPrometheusClient({ url: prometheus.url, timeoutMs: 2000 }),
      control,
      logger: silentLogger,
      pollIntervalMs: 250,
    });
    runner.start();
    const client = createPrometheusClient({ url: prometheus.url });
    await pollUntil(
      async () => {
        const outcome = await client.query('count(http_requests_total)', new Date());
        return outcome.outcome === 'values' && outcome.points[0]![1] >= apps.length;
      },
      'Prometheus to have every track',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });

  after(async () => {
    await runner?.stop();
    await load?.stop();
    await prometheus?.dispose();
    for (const app of apps) await app.close();
    await store?.close();
  });

  it('promotes the healthy canary, rolls back errors and latency, judging all samples so far', async () => {
    const started = await Promise.all(
      Object.keys(services).map((service) =>
        startAnalysis(store, { service, revision: `${service}-v2`, analysis: sequential }),
      ),
    );
    const done = await Promise.all(
      started.map((analysis) =>
        pollUntil(
          async () => {
            const found = await findAnalysis(store, analysis.id);
            return found?.finishedAt ? found : undefined;
          },
          `analysis ${analysis.service} to finish`,
          { timeoutMs: 90_000, intervalMs: 200 },
        ),
      ),
    );
    const [healthy, errors, latency, gated] = done;
    const trail = async (id: string) =>
      JSON.stringify(
        (await listIntervals(store, id)).map((i) => [
          i.verdict,
          i.judgement.metrics.map((m) => m.reason),
        ]),
      );

    assert.equal(healthy!.status, 'promoted', await trail(healthy!.id));
    assert.equal(errors!.status, 'rolled-back', await trail(errors!.id));
    assert.equal(latency!.status, 'rolled-back', await trail(latency!.id));
    // The gate held a promotion the judge allowed: passes beyond `intervals`, each asked once.
    assert.equal(gated!.status, 'promoted', await trail(gated!.id));
    const asked = gateCalls.filter((call) => call.service === 'seq-gated');
    assert.equal(asked.length, 4, JSON.stringify(asked));
    assert.equal(new Set(asked.map((call) => call.index)).size, 4, 'each interval asked once');
    assert.ok(gated!.passed >= 4, `promoted after ${gated!.passed} passes`);
    const passes = (await listIntervals(store, gated!.id)).filter((i) => i.verdict === 'pass');
    assert.deepEqual(
      asked.map((call) => call.index),
      passes.map((i) => i.index),
      'the gate is asked after passing intervals only',
    );
    for (const [analysis, metric] of [
      [errors!, 'error-rate'],
      [latency!, 'latency-p95'],
    ] as const) {
      const deciding = (await listIntervals(store, analysis.id)).at(-1)!;
      const judged = deciding.judgement.metrics.find((m) => m.metric === metric)!;
      assert.equal(judged.classification, 'high', judged.reason);
      assert.equal(deciding.judgement.judge, 'sequential');
    }
    assert.deepEqual(
      control.of(healthy!.id).map((a) => a.action),
      ['promote'],
    );

    // Every interval's samples start where the first interval starts: evidence accumulates.
    const intervals = await listIntervals(store, healthy!.id);
    assert.ok(intervals.length >= 2, await trail(healthy!.id));
    const firstStart = intervals[0]!.windowStart.getTime();
    for (const interval of intervals) {
      const points = interval.samples['latency-p95']!.canary;
      assert.ok(points.length > 0);
      assert.ok(points[0]![0] * 1000 - firstStart < 1500, `interval ${interval.index} starts late`);
    }
    const last = intervals.at(-1)!.samples['latency-p95']!.canary.length;
    assert.ok(last > 4, `the last interval judged ${last} samples, more than one 3 s interval has`);
  });

  it('judges the canary against the baseline track when compareWith is baseline', async () => {
    const [againstBaseline, againstStable] = await Promise.all(
      (['baseline', 'stable'] as const).map((compareWith) =>
        startAnalysis(store, {
          service: 'seq-baseline',
          revision: `v2-${compareWith}`,
          analysis: { ...sequential, compareWith },
        }),
      ),
    );
    const finished = (id: string) =>
      pollUntil(
        async () => {
          const found = await findAnalysis(store, id);
          return found?.finishedAt ? found : undefined;
        },
        `analysis ${id} to finish`,
        { timeoutMs: 90_000, intervalMs: 200 },
      );
    const [baseline, stable] = await Promise.all([
      finished(againstBaseline!.id),
      finished(againstStable!.id),
    ]);
    assert.equal(baseline.status, 'promoted', baseline.reason ?? '');
    assert.equal(stable.status, 'rolled-back', 'the same canary against the fast stable');
    const judged = (await listIntervals(store, baseline.id)).at(-1)!;
    const means = judged.samples['latency-p95']!;
    // The reference side's samples are the baseline's (slow), not stable's (fast).
    const mean = (points: [number, number][]) =>
      points.reduce((sum, [, value]) => sum + value, 0) / points.length;
    assert.ok(mean(means.stable) > 0.1, `reference p95 ${mean(means.stable)} s is the baseline's`);
  });

  it('refuses a sequential analysis with an alpha out of range, naming the field', async () => {
    await assert.rejects(
      startAnalysis(store, { service: 'seq-healthy', analysis: { ...sequential, alpha: 0.9 } }),
      (error: unknown) => error instanceof CadenceError && error.field === 'analysis.alpha',
    );
  });
});
