/** The DORA rules as pure functions, table by table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketStart, quantile } from '../../src/statistics/index.js';
import {
  factFromCdevent,
  type ChangeFact,
  type DeploymentFact,
  type IncidentFact,
} from '../../src/dora/facts.js';
import { linkDeliveries } from '../../src/dora/delivery.js';
import { TIER_BANDS, tierOf } from '../../src/dora/tiers.js';

const at = (iso: string) => new Date(iso);

describe('quantile', () => {
  const table: [number[], number, number | null][] = [
    [[], 0.5, null],
    [[7], 0.9, 7],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[4, 1, 3, 2], 0.5, 2.5],
    [[1, 2, 3, 4, 5], 0.5, 3],
    // R: quantile(1:10, 0.9) = 9.1
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9.1],
    [[10, 20], 0.9, 19],
  ];
  for (const [values, q, expected] of table) {
    it(`q${q} of [${values.join(',')}] is ${expected}`, () => {
      const actual = quantile(values, q);
      if (expected === null) assert.equal(actual, null);
      else assert.ok(Math.abs(actual! - expected) < 1e-9, `${actual}`);
    });
  }
});

describe('bucketStart', () => {
  const table: [string, 'day' | 'week' | 'month' | 'year', string][] = [
    ['2026-03-04T23:59:59Z', 'day', '2026-03-04T00:00:00.000Z'],
    ['2026-03-01T10:00:00Z', 'week', '2026-02-23T00:00:00.000Z'], // Sunday → previous Monday
    ['2026-03-02T00:00:00Z', 'week', '2026-03-02T00:00:00.000Z'], // Monday
    ['2027-01-01T05:00:00Z', 'week', '2026-12-28T00:00:00.000Z'], // across a year
    ['2026-02-28T12:00:00Z', 'month', '2026-02-01T00:00:00.000Z'],
    ['2026-12-31T23:00:00Z', 'year', '2026-01-01T00:00:00.000Z'],
  ];
  for (const [time, bucket, expected] of table) {
    it(`${time} is in the ${bucket} starting ${expected}`, () => {
      assert.equal(bucketStart(at(time), bucket).toISOString(), expected);
    });
  }
});

describe('tierOf', () => {
  const DAY = 86_400;
  const table: [keyof (typeof TIER_BANDS)[2023], 2023 | 2024, number | null, string | null][] = [
    ['deploymentFrequency', 2023, 3, 'elite'],
    ['deploymentFrequency', 2023, 1, 'elite'], // boundary → better tier
    ['deploymentFrequency', 2023, 0.5, 'high'],
    ['deploymentFrequency', 2023, 1 / 14, 'medium'],
    ['deploymentFrequency', 2023, 1 / 60, 'low'],
    ['leadTime', 2023, DAY - 1, 'elite'],
    ['leadTime', 2023, 3 * DAY, 'high'],
    ['leadTime', 2023, 20 * DAY, 'medium'],
    ['leadTime', 2023, 90 * DAY, 'low'],
    ['changeFailureRate', 2023, 0.05, 'elite'],
    ['changeFailureRate', 2023, 0.12, 'medium'],
    ['changeFailureRate', 2023, 0.5, 'low'],
    ['changeFailureRate', 2024, 0.12, 'high'],
    ['changeFailureRate', 2024, 0.25, 'medium'],
    ['changeFailureRate', 2024, 0.35, 'low'],
    ['failedDeploymentRecoveryTime', 2024, 1800, 'elite'],
    ['failedDeploymentRecoveryTime', 2024, 2 * DAY, 'medium'],
    ['leadTime', 2024, null, null],
  ];
  for (const [metric, year, value, expected] of table) {
    it(`${metric} ${value} in ${year} is ${expected}`, () => {
      assert.equal(tierOf(value, TIER_BANDS[year][metric]), expected);
    });
  }
});

describe('factFromCdevent', () => {
  const record = (subjectType: string, predicate: string, body: Record<string, unknown>) => ({
    seq: 1,
    subjectType,
    predicate,
    timestamp: at('2026-03-01T00:00:00Z'),
    body,
  });
  it('reads a deployment, taking the revision from a github purl when not given', () => {
    const fact = factFromCdevent(
      record('service', 'upgraded', {
        context: { id: 'x' },
        subject: {
          id: 'web',
          content: { environment: { id: 'prod' }, artifactId: 'pkg:github/acme/web@0a1b2c3d' },
        },
      }),
    );
    assert.deepEqual(fact, {
      kind: 'deployment',
      fact: {
        seq: 1,
        cdeventId: 'x',
        service: 'web',
        environment: 'prod',
        kind: 'deploy',
        outcome: 'success',
        deployedAt: at('2026-03-01T00:00:00Z'),
        revision: '0a1b2c3d',
        artifact: 'pkg:github/acme/web@0a1b2c3d',
      },
    });
  });
  it('takes a change without a commit list as its own revision', () => {
    const fact = factFromCdevent(
      record('change', 'merged', {
        subject: { id: 'acme/web#9', content: { repository: { id: 'acme/web' } } },
        customData: { cadence: { revision: 'abc1234' } },
      }),
    );
    assert.equal(fact?.kind, 'change');
    assert.deepEqual(fact?.kind === 'change' && fact.fact.commits, [
      { sha: 'abc1234', committedAt: at('2026-03-01T00:00:00Z') },
    ]);
  });
  it('defaults an incident without environment to production, and ignores other events', () => {
    const fact = factFromCdevent(record('incident', 'detected', { subject: { id: 'fp1' } }));
    assert.deepEqual(fact, {
      kind: 'incident',
      fact: { key: 'fp1', environment: 'production', detectedAt: at('2026-03-01T00:00:00Z') },
    });
    assert.equal(factFromCdevent(record('build', 'finished', { subject: { id: 'b' } })), undefined);
    assert.equal(factFromCdevent(record('service', 'deployed', { subject: {} })), undefined);
  });
});

describe('linkDeliveries', () => {
  let seq = 0;
  const deploy = (time: string, revision?: string, extra: Partial<DeploymentFact> = {}) =>
    ({
      seq: ++seq,
      cdeventId: `d${seq}`,
      service: 'web',
      environment: 'prod',
      kind: 'deploy',
      outcome: 'success',
      deployedAt: at(time),
      repository: 'r',
      ...(revision ? { revision } : {}),
      ...extra,
    }) satisfies DeploymentFact;
  const change = (time: string, revision: string): ChangeFact => ({
    seq: ++seq,
    key: revision,
    repository: 'r',
    revision,
    mergedAt: at(time),
    commits: [{ sha: `${revision}-commit`, committedAt: at(time) }],
  });
  const changes = [
    change('2026-01-01T00:00:00Z', 'v1'),
    change('2026-01-02T00:00:00Z', 'v2'),
    change('2026-01-03T00:00:00Z', 'v3'),
  ];

  it('redeploying a revision delivers nothing new; an unknown revision delivers nothing', () => {
    const deliveries = linkDeliveries(
      [
        deploy('2026-01-02T01:00:00Z', 'v2'),
        deploy('2026-01-02T02:00:00Z', 'v2'),
        deploy('2026-01-02T03:00:00Z', 'not-in-history'),
        deploy('2026-01-03T01:00:00Z', 'v3'),
      ],
      changes,
      [],
    );
    assert.deepEqual(
      deliveries.map((d) => d.commits.map((c) => c.sha)),
      [['v2-commit'], [], [], ['v3-commit']],
    );
  });

  it('a revision reported by two changes (merged PR and pushed merge commit) ships both at once', () => {
    const pr = change('2026-01-02T00:00:00Z', 'v2');
    const push = {
      ...change('2026-01-02T00:00:05Z', 'v2'),
      key: 'push',
      commits: [{ sha: 'branch-commit', committedAt: at('2026-01-01T12:00:00Z') }],
    };
    const later = change('2026-01-03T00:00:00Z', 'v3');
    for (const first of [[], [deploy('2026-01-01T01:00:00Z', 'v1')]]) {
      const deliveries = linkDeliveries(
        [...first, deploy('2026-01-02T01:00:00Z', 'v2'), deploy('2026-01-03T01:00:00Z', 'v3')],
        [changes[0]!, pr, push, later],
        [],
      ).slice(first.length);
      assert.deepEqual(
        deliveries.map((d) => d.commits.map((c) => c.sha).sort()),
        [['branch-commit', 'v2-commit'], ['v3-commit']],
      );
    }
  });

  it('attributes an incident by cause revision, else within the window only', () => {
    const deployments = [
      deploy('2026-01-02T01:00:00Z', 'v2'),
      deploy('2026-01-03T01:00:00Z', 'v3'),
    ];
    const late: IncidentFact = {
      key: 'late',
      service: 'web',
      environment: 'prod',
      detectedAt: at('2026-01-05T01:00:00Z'),
    };
    const named: IncidentFact = { ...late, key: 'named', causeRevision: 'v2' };
    const rules = { attributionWindowMs: 24 * 3600 * 1000 };
    assert.deepEqual(
      linkDeliveries(deployments, changes, [late], rules).map((d) => d.failed),
      [false, false],
    );
    const linked = linkDeliveries(deployments, changes, [named], rules);
    assert.deepEqual(
      linked.map((d) => d.failureReasons),
      [['incident named'], []],
    );
    assert.equal(linked[0]!.restoredAt, undefined, 'not restored while the incident is open');
  });
});
