/**
 * The daily rollups against the exact aggregates they stand in for: a generated stream of
 * CDEvents (changes, deployments across services and environments, failures, rollbacks,
 * incidents) arrives in shuffled batches through the real intake and router; after every batch
 * the metrics read through the rollups (exactLimit 0) must equal the exact ones (exactLimit ∞):
 * counts exactly, quantiles within the bins' 1 %. A day whose rollup was not marked stale by a
 * rewrite shows up as a count that differs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsReport, type DoraSettings, type Distribution } from '../../src/dora/index.js';
import { type DoraMetrics } from '../../src/dora/metrics.js';
import { testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const START = Date.parse('2026-04-01T00:00:00Z');
const HOUR = 3_600_000;

function generateScenario(seed: number): Record<string, unknown>[] {
  const random = prng(seed);
  const events: Record<string, unknown>[] = [];
  let id = 0;
  const cdevent = (type: string, at: number, subject: unknown, cadence?: unknown) => ({
    context: {
      specversion: '0.5.1',
      id: `rollup-${++id}`,
      source: '/rollups',
      type: `dev.cdevents.${type}`,
      timestamp: new Date(at).toISOString(),
    },
    subject,
    ...(cadence ? { customData: { cadence } } : {}),
  });
  for (const service of ['web', 'api', 'jobs']) {
    const repository = `acme/${service}`;
    let at = START + random() * 12 * HOUR;
    for (let n = 1; n <= 14; n++) {
      const revision = `${service}-r${n}`;
      const commits = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, k) => ({
        id: `${revision}-c${k}`,
        timestamp: new Date(at - (1 + random() * 40) * HOUR).toISOString(),
      }));
      events.push(
        cdevent(
          'change.merged.0.3.0',
          at - HOUR,
          { id: `${repository}#${n}`, content: { repository: { id: repository } } },
          { repository, revision, mergedAt: new Date(at - HOUR).toISOString(), commits },
        ),
      );
      for (const environment of random() < 0.3 ? ['staging', 'production'] : ['production']) {
        const failed = random() < 0.15;
        events.push(
          cdevent(
            'service.deployed.0.3.0',
            environment === 'staging' ? at - HOUR / 2 : at,
            {
              id: service,
              content: { environment: { id: environment }, artifactId: `pkg:oci/${service}@v${n}` },
            },
            { repository, revision, ...(failed ? { outcome: 'failure' } : {}) },
          ),
        );
      }
      if (random() < 0.2) {
        const incident = {
          id: `${service}-i${n}`,
          content: { environment: { id: 'production' }, service: { id: service } },
        };
        events.push(cdevent('incident.detected.0.3.0', at + HOUR, incident));
        events.push(cdevent('incident.resolved.0.3.0', at + (2 + random() * 30) * HOUR, incident));
      }
      if (random() < 0.1) {
        events.push(
          cdevent(
            'service.rolledback.0.3.0',
            at + 3 * HOUR,
            {
              id: service,
              content: {
                environment: { id: 'production' },
                artifactId: `pkg:oci/${service}@v${n}`,
              },
            },
            { repository, revision: `${service}-r${Math.max(n - 1, 1)}` },
          ),
        );
      }
      at += (6 + random() * 40) * HOUR;
    }
  }
  // Shuffled: facts arrive out of order, so later ones rewrite days already rolled up.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

function assertClose(actual: Distribution, expected: Distribution, label: string) {
  assert.equal(actual.count, expected.count, `${label} count`);
  for (const key of ['median', 'p90'] as const) {
    const want = expected[key];
    const got = actual[key];
    if (want === null) {
      assert.equal(got, null, `${label} ${key}`);
      continue;
    }
    assert.ok(got !== null, `${label} ${key} missing`);
    // Interpolating between two ranks keeps each within 1 %, so their blend is too.
    assert.ok(
      Math.abs(got - want) <= 0.01 * Math.abs(want) + 1e-9,
      `${label} ${key}: ${got} vs ${want}`,
    );
  }
}

function assertSameMetrics(rolled: DoraMetrics, exact: DoraMetrics, label: string) {
  for (const key of ['deployments', 'days', 'deploymentsPerDay', 'deployDaysPerWeek'] as const) {
    assert.equal(rolled[key], exact[key], `${label} ${key}`);
  }
  assert.deepEqual(rolled.changeFailureRate, exact.changeFailureRate, `${label} failure rate`);
  assert.deepEqual(rolled.reworkRate, exact.reworkRate, `${label} rework rate`);
  assert.deepEqual(rolled.timeToRestore, exact.timeToRestore, `${label} time to restore`);
  assertClose(rolled.leadTime, exact.leadTime, `${label} lead time`);
  assertClose(
    rolled.failedDeploymentRecoveryTime,
    exact.failedDeploymentRecoveryTime,
    `${label} recovery`,
  );
}

const settings: DoraSettings = {
  environment: 'production',
  attributionWindowHours: 24,
  services: {},
};
const windows = [
  // whole days only, partial days at both edges, and a window shorter than two days
  { from: new Date('2026-04-01T00:00:00Z'), to: new Date('2026-05-15T00:00:00Z') },
  { from: new Date('2026-04-03T07:30:00Z'), to: new Date('2026-04-28T16:45:00Z') },
  { from: new Date('2026-04-05T13:00:00Z'), to: new Date('2026-04-06T20:00:00Z') },
];

for (const engine of engines) {
  describe(`DORA daily rollups on ${engine}`, () => {
    it('agree with the exact aggregates after every batch of shuffled events', async () => {
      const { store, dispose } = await openTestStore(engine);
      const { app, settle } = testApp(store, { dora: settings });
      const rolledUp = { ...settings, exactLimit: 0 };
      const exact = { ...settings, exactLimit: Number.MAX_SAFE_INTEGER };
      try {
        const events = generateScenario(7);
        let approximated = 0;
        for (let start = 0; start < events.length; start += 25) {
          const response = await app.inject({
            method: 'POST',
            url: '/events',
            headers: { 'content-type': 'application/cloudevents-batch+json' },
            payload: JSON.stringify(
              events.slice(start, start + 25).map((data, k) => ({
                specversion: '1.0',
                id: `batch-${start + k}`,
                source: '/rollups',
                type: (data.context as { type: string }).type,
                datacontenttype: 'application/json',
                data,
              })),
            ),
          });
          assert.equal(response.statusCode, 202, response.body);
          await settle();
          for (const window of windows) {
            for (const bucket of [undefined, 'week', 'day'] as const) {
              const query = { ...window, ...(bucket ? { bucket } : {}) };
              const a = await metricsReport(store, query, rolledUp);
              const b = await metricsReport(store, query, exact);
              const label = `after ${start + 25} events, ${window.from.toISOString()} ${bucket ?? ''}`;
              assertSameMetrics(a.overall, b.overall, label);
              assert.equal(a.series?.points.length, b.series?.points.length);
              a.series?.points.forEach((point, i) =>
                assertSameMetrics(point, b.series!.points[i]!, `${label} bucket ${point.bucket}`),
              );
              if (a.overall.leadTime.approximate) approximated++;
              assert.equal(b.overall.leadTime.approximate, undefined, 'exact path is exact');
            }
          }
        }
        // The rollup path really ran (it is skipped for windows without a whole day).
        assert.ok(approximated > 0);
        const final = await metricsReport(store, windows[0]!, exact);
        assert.ok(final.overall.deployments >= 30, `${final.overall.deployments} deployments`);
        assert.ok(final.overall.changeFailureRate.numerator > 0);
      } finally {
        await app.close();
        await dispose();
      }
    });
  });
}
