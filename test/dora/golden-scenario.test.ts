/**
 * The golden scenario: a scripted stream of CDEvents (merges, a push, a squash merge, a first
 * deployment, an incident caused by one deployment and resolved while a later one shipped, a
 * rollback, a failed canary, an explicitly linked incident) goes through the real intake and
 * router on each engine; every metric is computed by hand below and asserted exactly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { metricsReport } from '../../src/dora/index.js';
import type { Store } from '../../src/store/index.js';
import { postCdevents, testApp } from '../support/app.js';
import { HOUR, scenario, settings, window } from '../support/dora-scenario.js';
import { engines, openTestStore } from '../support/engines.js';

for (const engine of engines) {
  describe(`DORA golden scenario on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let settle: (rules?: typeof settings) => Promise<void>;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app, settle } = testApp(store, { dora: settings }));
      await postCdevents(app, scenario);
      await settle();
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('computes every metric over all production services exactly', async () => {
      const { overall, tiers } = await metricsReport(store, window, settings);
      // Successful production deployments: D1, A1, D2, D3, D4, D6.
      assert.equal(overall.deployments, 6);
      assert.equal(overall.days, 14);
      assert.equal(overall.deploymentsPerDay, 6 / 14);
      // Six distinct days over two weeks.
      assert.equal(overall.deployDaysPerWeek, 3);
      // Lead times in hours: D1 a1 26, a2 4; D2 b1 29, c1 26, c2 8; D3 d1 4; D4 e1 3.
      // Sorted 3 4 4 8 26 26 29: median 8; p90 at rank 5.4 → 26 + 0.4 × 3 = 27.2.
      assert.equal(overall.leadTime.count, 7);
      assert.equal(overall.leadTime.median, 8 * HOUR);
      assert.ok(Math.abs(overall.leadTime.p90! - 27.2 * HOUR) < 1e-6);
      // Attempts: six successes and D5; failed: D2 (I1), D4 (rolled back), D5 (its outcome),
      // A1 (I2, linked explicitly).
      assert.deepEqual(overall.changeFailureRate, { numerator: 4, denominator: 7, rate: 4 / 7 });
      // Recovery in hours: D4 1 (rollback), D2 19.5 (I1 resolved), D5 24 (D6), A1 218 (I2).
      // Median (19.5 + 24) / 2 = 21.75; p90 at rank 2.7 → 24 + 0.7 × 194 = 159.8.
      assert.equal(overall.failedDeploymentRecoveryTime.count, 4);
      assert.equal(overall.failedDeploymentRecoveryTime.median, 21.75 * HOUR);
      assert.ok(Math.abs(overall.failedDeploymentRecoveryTime.p90! - 159.8 * HOUR) < 1e-6);
      // Time to restore: I1 17.5 h, I2 2 h → median 9.75; p90 2 + 0.9 × 15.5 = 15.95.
      assert.equal(overall.timeToRestore.median, 9.75 * HOUR);
      assert.ok(Math.abs(overall.timeToRestore.p90! - 15.95 * HOUR) < 1e-6);
      // Rework: D3 shipped while I1 was open.
      assert.deepEqual(overall.reworkRate, { numerator: 1, denominator: 6, rate: 1 / 6 });
      // 2023 bands: 0.43/day → high; 8 h → elite; 57 % → low; 21.75 h → high.
      assert.deepEqual(tiers[2023], {
        deploymentFrequency: 'high',
        leadTime: 'elite',
        changeFailureRate: 'low',
        failedDeploymentRecoveryTime: 'high',
      });
    });

    it('narrows to one service and to a team', async () => {
      const webOnly = await metricsReport(store, { ...window, service: 'web' }, settings);
      assert.equal(webOnly.overall.deployments, 5);
      assert.deepEqual(webOnly.overall.changeFailureRate, {
        numerator: 3,
        denominator: 6,
        rate: 0.5,
      });
      assert.equal(webOnly.overall.timeToRestore.median, 17.5 * HOUR);
      assert.deepEqual(webOnly.overall.reworkRate, { numerator: 1, denominator: 5, rate: 0.2 });

      const platform = await metricsReport(store, { ...window, team: 'platform' }, settings);
      assert.equal(platform.overall.deployments, 1);
      assert.equal(platform.overall.leadTime.count, 0);
      assert.equal(platform.overall.leadTime.median, null);
      assert.deepEqual(platform.overall.changeFailureRate.rate, 1);
      assert.equal(platform.overall.failedDeploymentRecoveryTime.median, 218 * HOUR);
    });

    it('buckets by week (ISO weeks, Monday first)', async () => {
      const report = await metricsReport(store, { ...window, bucket: 'week' }, settings);
      const points = report.series!.points.map((p) => [p.bucket, p.deployments, p.leadTime.count]);
      assert.deepEqual(points, [
        // The window starts on Sunday 1 March: its week began on Monday 23 February.
        ['2026-02-23T00:00:00.000Z', 0, 0],
        ['2026-03-02T00:00:00.000Z', 4, 6],
        ['2026-03-09T00:00:00.000Z', 2, 1],
      ]);
    });

    it('looks at staging when asked', async () => {
      const staging = await metricsReport(store, { ...window, environment: 'staging' }, settings);
      assert.equal(staging.overall.deployments, 1);
      // Staging's first deployment is credited with r1's change: a1 25 h, a2 3 h.
      assert.deepEqual(staging.overall.leadTime.median, 14 * HOUR);
    });

    it('serves the same numbers over HTTP, with the seed-compatible frequency endpoint', async () => {
      const range = 'from=2026-03-01T00:00:00Z&to=2026-03-15T00:00:00Z';
      const overview = await app.inject({ url: `/api/v1/metrics?${range}` });
      assert.equal(overview.statusCode, 200, overview.body);
      assert.equal(overview.json().overall.deployments, 6);
      assert.equal(overview.json().overall.changeFailureRate.rate, 4 / 7);

      const leadTime = await app.inject({ url: `/api/v1/metrics/lead-time?${range}&bucket=week` });
      assert.deepEqual(
        leadTime.json().points.map((p: { count: number }) => p.count),
        [0, 6, 1],
      );

      const production = await app.inject({ url: '/deploy-frequency/week?environment=production' });
      assert.deepEqual(production.json(), [
        { DeployName: 'api', Deployments: 1, Time: '2026-03-02T00:00:00.000Z' },
        { DeployName: 'web', Deployments: 3, Time: '2026-03-02T00:00:00.000Z' },
        { DeployName: 'web', Deployments: 2, Time: '2026-03-09T00:00:00.000Z' },
      ]);
      // Like the seed tutorial, every environment unless one is asked for: staging's web too.
      const every = await app.inject({ url: '/deploy-frequency/week' });
      assert.deepEqual(every.json(), [
        { DeployName: 'api', Deployments: 1, Time: '2026-03-02T00:00:00.000Z' },
        { DeployName: 'web', Deployments: 4, Time: '2026-03-02T00:00:00.000Z' },
        { DeployName: 'web', Deployments: 2, Time: '2026-03-09T00:00:00.000Z' },
      ]);
      const web = await app.inject({ url: '/deploy-frequency/week?service=api' });
      assert.deepEqual(web.json(), [
        { DeployName: 'api', Deployments: 1, Time: '2026-03-02T00:00:00.000Z' },
      ]);
    });

    const bad: [string, number, string][] = [
      ['/api/v1/metrics?bucket=fortnight', 400, 'bucket'],
      ['/api/v1/metrics?from=yesterday', 400, 'from'],
      ['/api/v1/metrics?from=2026-03-15T00:00:00Z&to=2026-03-01T00:00:00Z', 400, 'from'],
      ['/api/v1/metrics?colour=blue', 400, 'colour'],
      ['/api/v1/metrics/happiness', 400, 'metric'],
      ['/deploy-frequency/fortnight', 400, 'bucket'],
      ['/deploy-frequency/day?env=default', 400, 'env'],
      ['/metrics?colour=blue', 400, 'colour'],
    ];
    for (const [url, status, field] of bad) {
      it(`answers ${url} with ${status} naming ${field}`, async () => {
        const response = await app.inject({ url });
        assert.equal(response.statusCode, status, response.body);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        assert.equal(response.json().field, field);
      });
    }
  });
}

/**
 * The rules' results are kept per stream and rewritten as facts arrive. Whatever the order of
 * arrival, and however often metrics are read in between, the answer must be the one computed
 * from all the facts at once; a change of the configured rules recomputes every stream.
 */
for (const engine of engines) {
  describe(`DORA rules kept up to date incrementally on ${engine}`, () => {
    it('gives the same metrics for events arriving one by one, newest first, as all at once', async () => {
      const reports = [];
      for (const order of [scenario, [...scenario].reverse()]) {
        const { store, dispose } = await openTestStore(engine);
        const { app, settle } = testApp(store, { dora: settings });
        try {
          for (const event of order) {
            const response = await app.inject({
              method: 'POST',
              url: '/cdevents',
              headers: { 'content-type': 'application/json' },
              payload: JSON.stringify(event),
            });
            assert.equal(response.statusCode, 202, response.body);
            if (order !== scenario) {
              await settle();
              await metricsReport(store, window, settings);
            }
          }
          await settle();
          const report = await metricsReport(store, { ...window, bucket: 'week' }, settings);
          // Settled: nothing is pending, and the read says so.
          assert.deepEqual(report.freshness.pending, {
            events: 0,
            cdevents: 0,
            streams: 0,
            days: 0,
          });
          assert.equal(report.freshness.lagSeconds, 0);
          reports.push({ ...report, freshness: undefined });
          if (order !== scenario) {
            // A zero-hour attribution window attributes no incident by time: only the explicitly
            // linked one (I2 → A1) still fails its deployment.
            const strictRules = { ...settings, attributionWindowHours: 1e-9 };
            await settle(strictRules);
            const strict = await metricsReport(store, window, strictRules);
            assert.ok(strict.overall.changeFailureRate.numerator < 4);
            await settle(settings);
            const again = await metricsReport(store, window, settings);
            assert.deepEqual(again.overall, reports[0]!.overall);
          }
        } finally {
          await app.close();
          await dispose();
        }
      }
      assert.deepEqual(reports[1], reports[0]);
    });
  });
}
