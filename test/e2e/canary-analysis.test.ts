/**
 * Canary analysis end to end: a real Prometheus (Debian `prometheus`) scrapes pairs of demo
 * apps (stable and canary of one service, prom-client golden signals) under a loopback load
 * generator; the analysis runner queries it, judges each interval and decides. The canary
 * control is a recording stand-in for the deployer, which lives on another branch (`deploy`);
 * everything else is real. Intervals are seconds long so the file stays well under a minute.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createAnalysisRunner,
  createPrometheusClient,
  findAnalysis,
  listIntervals,
  startAnalysis,
  type Analysis,
  type AnalysisRunner,
} from '../../src/analysis/index.js';
import { intervalWindow } from '../../src/analysis/evaluate-interval.js';
import { type AnalysisSpecInput } from '../../src/analysis/schema.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createToken } from '../../src/auth/index.js';
import { testApp } from '../support/app.js';
import { startDemoApp, startLoad, type DemoApp, type DemoBehaviour } from '../support/demo-app.js';
import { createTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { recordingControl } from '../support/recording-control.js';
import { pollUntil } from '../support/poll-until.js';

/** Seconds-long intervals: 2 s warm-up, then 6 s intervals sampled every second. */
const quick: AnalysisSpecInput = {
  warmupSeconds: 2,
  intervalSeconds: 6,
  intervals: 2,
  stepSeconds: 1,
  // Four 1 s scrapes per window, so late scrapes on a busy machine do not empty it.
  sampleWindowSeconds: 4,
  evaluationDelaySeconds: 1,
  // Room for intervals a busy machine starves of scrapes: they delay a verdict, never make one.
  maxInconclusive: 4,
  metrics: [
    { name: 'error-rate', group: 'errors', critical: true, allowedIncrease: 1.2, minSamples: 5 },
    { name: 'latency-p95', group: 'latency', minSamples: 5 },
    { name: 'latency-p99', group: 'latency', allowedIncrease: 1.15, minSamples: 5 },
  ],
};

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) =>
  pollUntil(probe, what, { timeoutMs: 60_000, intervalMs: 200 });

const finished = (store: Store, id: string) =>
  waitFor(`analysis ${id} to finish`, async () => {
    const analysis = await findAnalysis(store, id);
    return analysis?.finishedAt ? analysis : undefined;
  });

interface Pair {
  service: string;
  stable: DemoApp;
  canary: DemoApp;
}

describe('canary analysis against a real Prometheus', () => {
  const pairs = new Map<string, Pair>();
  const regressions: Record<string, Partial<DemoBehaviour>> = {
    healthy: {},
    errors: { errorRatio: 0.3 },
    latency: { latencyMs: 160 },
    quiet: {},
    outage: {},
    restart: {},
  };
  let prometheus: TestPrometheus;
  let load: ReturnType<typeof startLoad>;
  let store: Store;
  const control = recordingControl();
  let runner: AnalysisRunner;
  const dataDir = mkdtempSync(join(tmpdir(), 'cadence-analysis-restart-'));

  before(async () => {
    for (const [service, canaryBehaviour] of Object.entries(regressions)) {
      pairs.set(service, {
        service,
        stable: await startDemoApp({ service, track: 'stable' }),
        canary: await startDemoApp({ service, track: 'canary', behaviour: canaryBehaviour }),
      });
    }
    const all = [...pairs.values()].flatMap((pair) => [pair.stable, pair.canary]);
    prometheus = await createTestPrometheus({
      targets: all.map((app) => app.target),
      scrapeIntervalMs: 1000,
    });
    // The quiet canary gets no traffic at all.
    load = startLoad(
      all.filter((app) => !(app.service === 'quiet' && app.track === 'canary')),
      { ratePerSecond: 10 },
    );
    store = await openStore({});
    const intake = createIntake({ writer: createEventWriter(store) });
    runner = createAnalysisRunner({
      store,
      prometheus: createPrometheusClient({ url: prometheus.url, timeoutMs: 2000 }),
      control,
      logger: silentLogger,
      emit: (events) => intake.acceptDecoded(events, 'cdevent'),
      pollIntervalMs: 250,
    });
    runner.start();
    // Let Prometheus scrape every app a few times before the analyses start.
    const client = createPrometheusClient({ url: prometheus.url });
    await waitFor('Prometheus to have every track', async () => {
      const outcome = await client.query('count(http_requests_total)', new Date());
      return outcome.outcome === 'values' && outcome.points[0]![1] >= all.length - 1
        ? true
        : undefined;
    });
  });

  after(async () => {
    await runner?.stop();
    await load?.stop();
    await prometheus?.dispose();
    for (const pair of pairs.values()) {
      await pair.stable.close();
      await pair.canary.close();
    }
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (service: string, overrides: AnalysisSpecInput = {}) =>
    startAnalysis(store, {
      service,
      revision: `${service}-v2`,
      analysis: { ...quick, ...overrides },
    });

  it('healthy is promoted, errors and latency are rolled back, no traffic is inconclusive; a restarted runner resumes', async () => {
    const { app } = testApp(store);
    // One through the API, as a user would (with a token allowed to canary it, issue 13); the
    // rest as the deployer does (startAnalysis).
    const { secret } = await createToken(store, {
      name: 'ci',
      services: ['healthy'],
      actions: ['canary'],
    });
    const posted = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      headers: { 'content-type': 'application/json', authorization: `Bearer ci:${secret}` },
      payload: JSON.stringify({ service: 'healthy', revision: 'healthy-v2', analysis: quick }),
    });
    assert.equal(posted.statusCode, 201, posted.body);
    const healthy = JSON.parse(posted.body) as Analysis;
    const errors = await start('errors');
    const latency = await start('latency');
    // Held for good (no hold time): its end is the verdict this test checks.
    const quiet = await start('quiet', { maxInconclusive: 2, afterHold: 'hold' });
    const restarting = restartScenario();

    const [healthyDone, errorsDone, latencyDone, quietDone] = await Promise.all(
      [healthy, errors, latency, quiet].map((analysis) => finished(store, analysis.id)),
    );

    assert.equal(healthyDone.status, 'promoted', healthyDone.reason ?? '');
    assert.equal(healthyDone.verdict, 'pass');
    assert.deepEqual(
      control.of(healthy.id).map((action) => action.action),
      ['promote'],
    );

    for (const [done, metric] of [
      [errorsDone, 'error-rate'],
      [latencyDone, 'latency-p95'],
    ] as const) {
      assert.equal(done.status, 'rolled-back', done.reason ?? '');
      assert.equal(done.verdict, 'fail');
      assert.deepEqual(
        control.of(done.id).map((action) => action.action),
        ['rollback'],
      );
      // Rolled back on the first interval with enough data (the first one, unless a busy
      // machine starved Prometheus's first scrapes): within the 2-interval target.
      const intervals = await listIntervals(store, done.id);
      const detail = JSON.stringify(intervals.map((i) => [i.verdict, i.missing]));
      const interval = intervals.at(-1);
      assert.equal(interval!.verdict, 'fail', detail);
      assert.ok(
        intervals.slice(0, -1).every((i) => i.verdict === 'inconclusive'),
        detail,
      );
      const judged = interval!.judgement.metrics.find((m) => m.metric === metric)!;
      assert.equal(judged.classification, 'high', judged.reason);
    }

    assert.equal(quietDone.status, 'inconclusive');
    assert.equal(quietDone.verdict, 'inconclusive');
    assert.deepEqual(control.of(quiet.id), [], 'never promoted, never rolled back');
    const quietIntervals = await listIntervals(store, quiet.id);
    assert.ok(quietIntervals.every((interval) => interval.verdict === 'inconclusive'));
    assert.match(quietIntervals[0]!.missing.join('\n'), /traffic needed: .*canary served 0 req\/s/);

    // Every sample and judgement behind a verdict is in the API.
    const shown = await app.inject({ method: 'GET', url: `/api/v1/analyses/${errors.id}` });
    assert.equal(shown.statusCode, 200);
    const document = JSON.parse(shown.body) as {
      status: string;
      intervals: {
        verdict: string;
        samples: Record<string, { canary: [number, number][]; stable: [number, number][] }>;
        judgement: { metrics: { metric: string; test?: { pValue: number } }[] };
      }[];
    };
    assert.equal(document.status, 'rolled-back');
    const deciding = document.intervals.at(-1)!;
    assert.equal(deciding.verdict, 'fail');
    const samples = deciding.samples['error-rate']!;
    assert.ok(samples.canary.length >= 4 && samples.stable.length >= 4);
    assert.ok(deciding.judgement.metrics.every((metric) => metric.test !== undefined));
    const listed = await app.inject({ method: 'GET', url: '/api/v1/analyses?service=latency' });
    assert.deepEqual(
      (JSON.parse(listed.body) as { analyses: { id: string }[] }).analyses.map((a) => a.id),
      [latency.id],
    );
    assert.equal(
      (await app.inject({ method: 'GET', url: '/api/v1/analyses/nope' })).statusCode,
      404,
    );
    await app.close();

    await restarting;
  });

  /** The runner with its own embedded store is stopped mid-analysis and a new one resumes it. */
  async function restartScenario() {
    const before = await openStore({ dataDir });
    const first = createAnalysisRunner({
      store: before,
      prometheus: createPrometheusClient({ url: prometheus.url }),
      control,
      logger: silentLogger,
      pollIntervalMs: 250,
    });
    first.start();
    const analysis = await startAnalysis(before, {
      service: 'restart',
      revision: 'restart-v2',
      analysis: { ...quick, intervals: 3 },
    });
    await waitFor('the first interval', async () =>
      (await listIntervals(before, analysis.id)).length > 0 ? true : undefined,
    );
    await first.stop();
    await before.close();
    // Down until the next interval comes due: it must be judged by the replica that resumes.
    const nextDue = intervalWindow(analysis, 1).dueAt.getTime();
    await pollUntil(() => Date.now() > nextDue, 'interval 1 to come due while nothing runs', {
      intervalMs: 100,
    });
    const after = await openStore({ dataDir });
    const second = createAnalysisRunner({
      store: after,
      prometheus: createPrometheusClient({ url: prometheus.url }),
      control,
      logger: silentLogger,
      pollIntervalMs: 250,
    });
    second.start();
    try {
      const done = await finished(after, analysis.id);
      assert.equal(done.status, 'promoted', done.reason ?? '');
      const intervals = await listIntervals(after, analysis.id);
      assert.deepEqual(
        intervals.map((interval) => interval.index),
        [0, 1, 2],
      );
      assert.equal(intervals[0]!.evaluatedBy, first.replicaId);
      assert.ok(intervals.slice(1).every((interval) => interval.evaluatedBy === second.replicaId));
      assert.deepEqual(
        control.of(analysis.id).map((action) => action.action),
        ['promote'],
      );
    } finally {
      await second.stop();
      await after.close();
    }
  }

  it('Prometheus stopped mid-analysis: inconclusive intervals, then it recovers and promotes', async () => {
    const analysis = await start('outage', { intervals: 2, maxInconclusive: 6 });
    await waitFor('the first interval', async () =>
      (await listIntervals(store, analysis.id)).length > 0 ? true : undefined,
    );
    await prometheus.stop();
    await waitFor('an interval judged while Prometheus is down', async () =>
      (await listIntervals(store, analysis.id)).some(
        (interval) => interval.verdict === 'inconclusive',
      )
        ? true
        : undefined,
    );
    await prometheus.start();
    const done = await finished(store, analysis.id);
    const intervals = await listIntervals(store, analysis.id);
    const down = intervals.filter((interval) =>
      interval.missing.some((line) => /unreachable/.test(line)),
    );
    assert.ok(down.length >= 1, 'an interval says Prometheus was unreachable');
    assert.ok(down.every((interval) => interval.verdict === 'inconclusive'));
    // Recovered: judged again once Prometheus was back.
    const lastDown = intervals.indexOf(down.at(-1)!);
    assert.ok(intervals.slice(lastDown + 1).some((interval) => interval.verdict === 'pass'));
    assert.equal(
      done.status,
      'promoted',
      `${done.reason}: ${intervals.map((i) => `${i.verdict} ${i.missing.join('; ')}`).join(' | ')}`,
    );
    assert.equal(done.passed, 2);
    assert.deepEqual(
      control.of(analysis.id).map((action) => action.action),
      ['promote'],
    );
  });
});
