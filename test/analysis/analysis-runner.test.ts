/**
 * Analysis runs in SQL on both engines: starting, the progress rules, leases (exactly one
 * replica runs each analysis, a dead replica's lease is taken over, a clean stop hands over at
 * once) and retrying a failed canary action. Prometheus here is a closed loopback port — a real
 * refused connection — so every interval is inconclusive; verdicts from a real Prometheus are
 * proved in test/e2e/canary-analysis.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  analysisSettingsSchema,
  createAnalysisRunner,
  createPrometheusClient,
  findAnalysis,
  listIntervals,
  startAnalysis,
} from '../../src/analysis/index.js';
import { nextProgress } from '../../src/analysis/analysis-progress.js';
import { type AnalysisSpecInput } from '../../src/analysis/schema.js';
import { type PrometheusClient } from '../../src/analysis/prometheus-client.js';
import { silentLogger } from '../../src/log/index.js';
import { CadenceError } from '../../src/problem/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { freePort } from '../support/prometheus.js';
import { recordingControl } from '../support/recording-control.js';

const spec = {
  intervals: 3,
  failAfter: 1,
  maxInconclusive: 2,
  onInconclusive: 'hold' as const,
  afterHold: 'hold' as const,
};

describe('nextProgress', () => {
  const zero = { passed: 0, failed: 0, inconclusive: 0 };
  const rows = [
    {
      name: 'a pass, more to go',
      current: zero,
      verdict: 'pass',
      status: 'running',
      verdict_: null,
    },
    {
      name: 'the last pass promotes',
      current: { ...zero, passed: 2 },
      verdict: 'pass',
      status: 'promoting',
      verdict_: 'pass',
    },
    {
      name: 'a fail rolls back',
      current: { ...zero, passed: 2 },
      verdict: 'fail',
      status: 'rolling-back',
      verdict_: 'fail',
    },
    {
      name: 'inconclusive within the budget',
      current: { ...zero, inconclusive: 1 },
      verdict: 'inconclusive',
      status: 'running',
      verdict_: null,
    },
    {
      name: 'marginal counts as inconclusive',
      current: { ...zero, inconclusive: 2 },
      verdict: 'marginal',
      status: 'inconclusive',
      verdict_: 'inconclusive',
    },
    {
      name: 'inconclusive past the budget is held, never promoted',
      current: { ...zero, passed: 2, inconclusive: 2 },
      verdict: 'inconclusive',
      status: 'inconclusive',
      verdict_: 'inconclusive',
    },
  ] as const;
  for (const row of rows) {
    it(row.name, () => {
      const progress = nextProgress(row.current, row.verdict, spec);
      assert.equal(progress.status, row.status);
      assert.equal(progress.verdict, row.verdict_);
    });
  }
  it('a hold with a time limit is `holding` (rolled back later), without one `inconclusive`', () => {
    const over = { passed: 0, failed: 0, inconclusive: 2 };
    assert.equal(
      nextProgress(over, 'inconclusive', { ...spec, afterHold: 'rollback' }).status,
      'holding',
    );
    assert.equal(nextProgress(over, 'inconclusive', spec).status, 'inconclusive');
  });
  it('failAfter 2 tolerates one failing interval', () => {
    assert.equal(
      nextProgress({ passed: 0, failed: 0, inconclusive: 0 }, 'fail', { ...spec, failAfter: 2 })
        .status,
      'running',
    );
    assert.equal(
      nextProgress({ passed: 0, failed: 1, inconclusive: 0 }, 'fail', { ...spec, failAfter: 2 })
        .status,
      'rolling-back',
    );
  });
  it('onInconclusive rollback rolls back at the end of the budget', () => {
    const progress = nextProgress({ passed: 0, failed: 0, inconclusive: 2 }, 'inconclusive', {
      ...spec,
      onInconclusive: 'rollback',
    });
    assert.equal(progress.status, 'rolling-back');
    assert.equal(progress.verdict, 'inconclusive');
  });
});

const quick: AnalysisSpecInput = {
  intervalSeconds: 1,
  intervals: 2,
  stepSeconds: 0.25,
  sampleWindowSeconds: 0.5,
  evaluationDelaySeconds: 0,
  maxInconclusive: 2,
  metrics: [{ name: 'error-rate', minSamples: 5 }],
};

for (const engine of engines) {
  describe(`analysis runs on ${engine}`, () => {
    let store: Store;
    let second: Store;
    let dispose: () => Promise<void>;
    let prometheus: PrometheusClient;

    before(async () => {
      const opened = await openTestStore(engine);
      store = opened.store;
      // Two replicas: on PostgreSQL each with its own pool; PGlite is one process's database.
      second = opened.url
        ? await openStore({ databaseUrl: opened.url, poolSize: 3, migrate: false })
        : store;
      dispose = async () => {
        if (second !== store) await second.close();
        await opened.dispose();
      };
      prometheus = createPrometheusClient({
        url: `http://127.0.0.1:${await freePort()}`,
        timeoutMs: 500,
      });
    });
    after(() => dispose());

    it('refuses a bad start, naming the field', async () => {
      const refused = async (input: unknown, field: string) =>
        assert.rejects(startAnalysis(store, input), (error: unknown) => {
          assert.ok(error instanceof CadenceError, String(error));
          assert.equal(error.field, field);
          return true;
        });
      await refused({}, 'service');
      await refused({ service: 'web', extra: 1 }, 'extra');
      await refused({ service: 'web', analysis: { intervals: 0 } }, 'analysis.intervals');
      await refused(
        { service: 'web', analysis: { metrics: [{ name: 'nope' }] } },
        'metrics.0.query',
      );
      await refused(
        {
          service: 'web',
          analysis: {
            intervalSeconds: 10,
            stepSeconds: 5,
            metrics: [{ name: 'error-rate', minSamples: 5 }],
          },
        },
        'analysis.metrics.0.minSamples',
      );
      // 4 against 4 can never be significant at 0.98
      await refused(
        { service: 'web', analysis: { metrics: [{ name: 'error-rate', minSamples: 4 }] } },
        'analysis.metrics.0.minSamples',
      );
    });

    it('uses the service’s configured namespace, queries and settings', async () => {
      const settings = analysisSettingsSchema.parse({
        defaults: { intervals: 4 },
        services: {
          web: {
            namespace: 'shop',
            queries: { 'error-rate': 'errors{track="{{track}}"}' },
            analysis: { intervalSeconds: 120 },
          },
        },
      });
      const analysis = await startAnalysis(
        store,
        { service: 'web', revision: 'abc1234' },
        settings,
      );
      assert.equal(analysis.namespace, 'shop');
      assert.equal(analysis.spec.intervals, 4);
      assert.equal(analysis.spec.intervalSeconds, 120);
      assert.equal(
        analysis.spec.metrics.find((m) => m.name === 'error-rate')!.query,
        'errors{track="{{track}}"}',
      );
      // the same id again is the same analysis
      const again = await startAnalysis(store, { service: 'web', id: analysis.id });
      assert.equal(again.revision, 'abc1234');
    });

    it('two replicas: each interval judged once, by the lease holder; one rollback', async () => {
      const control = recordingControl();
      const past = new Date(Date.now() - 60_000);
      const analysis = await startAnalysis(
        store,
        { service: 'exactly-once', analysis: { ...quick, onInconclusive: 'rollback' } },
        undefined,
        past,
      );
      const a = createAnalysisRunner({ store, prometheus, control, logger: silentLogger });
      const b = createAnalysisRunner({ store: second, prometheus, control, logger: silentLogger });
      for (let round = 0; round < 4; round++) await Promise.all([a.tick(), b.tick()]);
      const done = (await findAnalysis(store, analysis.id))!;
      assert.equal(done.status, 'rolled-back');
      assert.equal(done.verdict, 'inconclusive');
      const intervals = await listIntervals(store, analysis.id);
      assert.deepEqual(
        intervals.map((interval) => interval.index),
        [0, 1, 2],
      );
      assert.equal(
        new Set(intervals.map((interval) => interval.evaluatedBy)).size,
        1,
        'one replica ran it',
      );
      for (const interval of intervals) {
        assert.equal(interval.verdict, 'inconclusive');
        assert.match(interval.missing.join(' '), /unreachable/);
      }
      assert.equal(control.of(analysis.id).length, 1);
      assert.equal(control.of(analysis.id)[0]!.action, 'rollback');
      await Promise.all([a.stop(), b.stop()]);
    });

    it('a dead replica’s analysis is taken over when its lease expires; a clean stop hands over at once', async () => {
      const control = recordingControl();
      // Started now: its first interval is not due yet, so claiming it changes nothing else.
      const analysis = await startAnalysis(store, {
        service: 'takeover',
        analysis: { ...quick, intervalSeconds: 60, stepSeconds: 15 },
      });
      let now = Date.now();
      const clock = () => new Date(now);
      const dead = createAnalysisRunner({
        store,
        prometheus,
        control,
        logger: silentLogger,
        leaseMs: 10_000,
        now: clock,
      });
      const live = createAnalysisRunner({
        store: second,
        prometheus,
        control,
        logger: silentLogger,
        leaseMs: 10_000,
        now: clock,
      });
      await dead.tick();
      assert.equal((await findAnalysis(store, analysis.id))!.leaseOwner, dead.replicaId);
      await live.tick();
      assert.equal(
        (await findAnalysis(store, analysis.id))!.leaseOwner,
        dead.replicaId,
        'held while the lease lasts',
      );
      now += 11_000; // the dead replica never renewed
      await live.tick();
      assert.equal(
        (await findAnalysis(store, analysis.id))!.leaseOwner,
        live.replicaId,
        'taken over',
      );
      await live.stop();
      assert.equal(
        (await findAnalysis(store, analysis.id))!.leaseOwner,
        null,
        'released on a clean stop',
      );
      await dead.tick();
      assert.equal(
        (await findAnalysis(store, analysis.id))!.leaseOwner,
        dead.replicaId,
        'claimed at once',
      );
      await dead.stop();
    });

    it('a held canary is rolled back once its hold is over, notified once when held', async () => {
      const control = recordingControl();
      const notices: string[] = [];
      const analysis = await startAnalysis(
        store,
        { service: 'held', analysis: { ...quick, holdSeconds: 600 } },
        undefined,
        new Date(Date.now() - 60_000),
      );
      let now = Date.now();
      const runner = createAnalysisRunner({
        store,
        prometheus,
        control,
        logger: silentLogger,
        now: () => new Date(now),
        notifiers: [
          {
            type: 'webhook',
            // Other tests' analyses share the store: only this one's notices count.
            notify: (notice) =>
              Promise.resolve(
                void (
                  notice.facts?.analysisId === analysis.id &&
                  notices.push(String(notice.facts.status))
                ),
              ),
          },
        ],
      });
      await runner.tick();
      const held = (await findAnalysis(store, analysis.id))!;
      assert.equal(held.status, 'holding');
      assert.equal(held.verdict, 'inconclusive');
      assert.equal(held.finishedAt, null);
      now += 300_000;
      await runner.tick();
      await runner.tick();
      assert.equal((await findAnalysis(store, analysis.id))!.status, 'holding', 'within the hold');
      assert.equal(control.of(analysis.id).length, 0);
      assert.deepEqual(notices, ['holding'], 'told once, when the hold began');

      now += 301_000;
      await runner.tick();
      const done = (await findAnalysis(store, analysis.id))!;
      assert.equal(done.status, 'rolled-back');
      assert.match(done.reason ?? '', /held 600 s, then rolled back/);
      assert.deepEqual(
        control.of(analysis.id).map((entry) => entry.action),
        ['rollback'],
      );
      await runner.tick();
      assert.equal(control.of(analysis.id).length, 1);
      assert.deepEqual(notices, ['holding', 'rolled-back']);
    });

    it('a canary action that fails is asked again on the next pass', async () => {
      const control = recordingControl({ failFirst: 1 });
      const analysis = await startAnalysis(
        store,
        { service: 'retry', analysis: { ...quick, onInconclusive: 'rollback' } },
        undefined,
        new Date(Date.now() - 60_000),
      );
      const runner = createAnalysisRunner({ store, prometheus, control, logger: silentLogger });
      await runner.tick();
      const stuck = (await findAnalysis(store, analysis.id))!;
      assert.equal(stuck.status, 'rolling-back');
      assert.equal(stuck.actionError, 'deployer unavailable');
      await runner.tick();
      assert.equal((await findAnalysis(store, analysis.id))!.status, 'rolled-back');
      assert.equal(control.of(analysis.id).length, 1);
      await runner.stop();
    });
  });
}
