/** Pairing and the report's arithmetic, as tables of cases over pure functions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCadenceReport,
  environmentCadence,
  monthRange,
  monthsBefore,
  ntileAverages,
  promotionRate,
  summarizeDays,
  weekOf,
} from '../../src/git/cadence-report.js';
import { firstAtOrAfter, pairCauses } from '../../src/git/pairing.js';
import { type GitEvent } from '../../src/git/rules.js';

/** `c nginx 2024-01-05` → a cause; `d nginx 2024-01-06T12:00 prod` → a deploy to prod. */
function events(lines: string): GitEvent[] {
  return lines
    .trim()
    .split('\n')
    .map((line, index) => {
      const [kind, pkg, at, environment] = line.trim().split(/\s+/);
      return {
        commit: `${kind}${index}`,
        at: new Date(`${at}${at!.includes('T') ? '' : 'T00:00'}Z`),
        role: kind === 'c' ? 'cause' : 'deploy',
        purpose: kind === 'c' ? 'vendoring' : 'deploy',
        package: pkg!,
        environment: kind === 'c' ? null : (environment ?? 'production'),
      } satisfies GitEvent;
    });
}

describe('pairCauses', () => {
  const now = new Date('2024-03-01T00:00:00Z');
  const cases: [
    name: string,
    history: string,
    updates: [cause: string, deploy: string, days: number][],
    pending: [cause: string, days: number][],
  ][] = [
    [
      'a cause and the next deploy',
      'c a 2024-01-01\nd a 2024-01-02T12:00',
      [['c0', 'd1', 1.5]],
      [],
    ],
    [
      'the FIRST later deploy, not a later one',
      'c a 2024-01-01\nd a 2024-01-03\nd a 2024-01-10',
      [['c0', 'd1', 2]],
      [],
    ],
    [
      'a deploy before the cause does not count',
      'd a 2024-01-01\nc a 2024-01-02\nd a 2024-01-05',
      [['c1', 'd2', 3]],
      [],
    ],
    [
      'two causes share one deploy',
      'c a 2024-01-01\nc a 2024-01-03\nd a 2024-01-04',
      [
        ['c0', 'd2', 3],
        ['c1', 'd2', 1],
      ],
      [],
    ],
    [
      'only deploys of the same package',
      'c a 2024-01-01\nd b 2024-01-02\nd a 2024-01-04',
      [['c0', 'd2', 3]],
      [],
    ],
    [
      'a deploy at the same time counts, lead time 0',
      'c a 2024-01-01\nd a 2024-01-01',
      [['c0', 'd1', 0]],
      [],
    ],
    ['no deploy yet: pending with its age', 'c a 2024-02-20\nd a 2024-02-01', [], [['c0', 10]]],
    [
      'only deploys to the given environment',
      'c a 2024-01-01\nd a 2024-01-02 staging\nd a 2024-01-05',
      [['c0', 'd2', 4]],
      [],
    ],
    [
      'events given out of order',
      'd a 2024-01-09\nc a 2024-01-01\nd a 2024-01-05',
      [['c1', 'd2', 4]],
      [],
    ],
  ];
  for (const [name, history, updates, pending] of cases) {
    it(name, () => {
      const result = pairCauses(events(history), 'production', now);
      assert.deepEqual(
        result.updates.map((u) => [u.cause.commit, u.deploy.commit, u.leadTimeDays]),
        updates,
      );
      assert.deepEqual(
        result.pending.map((p) => [p.cause.commit, p.ageDays]),
        pending,
      );
    });
  }
});

describe('firstAtOrAfter', () => {
  const cases: [times: number[], at: number, index: number][] = [
    [[], 5, 0],
    [[1, 3, 5], 0, 0],
    [[1, 3, 5], 3, 1],
    [[1, 3, 5], 4, 2],
    [[1, 3, 5], 6, 3],
    [[1, 3, 3, 5], 3, 1],
  ];
  for (const [times, at, index] of cases) {
    it(`${JSON.stringify(times)} at ${at} → ${index}`, () =>
      assert.equal(firstAtOrAfter(times, at), index));
  }
});

describe('report arithmetic', () => {
  it('summarizes days as min / median (percentile_cont) / max', () => {
    const cases: [values: number[], expected: ReturnType<typeof summarizeDays>][] = [
      [[], { count: 0, min: null, median: null, max: null }],
      [[2], { count: 1, min: 2, median: 2, max: 2 }],
      [[4, 1, 3, 2], { count: 4, min: 1, median: 2.5, max: 4 }],
      [[1 / 3, 2 / 3], { count: 2, min: 0.333333, median: 0.5, max: 0.666667 }],
    ];
    for (const [values, expected] of cases) assert.deepEqual(summarizeDays(values), expected);
  });

  it('walks months and weeks in UTC', () => {
    assert.deepEqual(monthRange('2023-11', '2024-02'), [
      '2023-11',
      '2023-12',
      '2024-01',
      '2024-02',
    ]);
    assert.deepEqual(monthRange('2024-02', '2024-01'), []);
    assert.equal(monthsBefore('2024-02', 2), '2023-12');
    assert.equal(monthsBefore('2024-12', 11), '2024-01');
    assert.equal(weekOf(new Date('2024-03-10T23:59:59Z')), '2024-03-04'); // a Sunday
    assert.equal(weekOf(new Date('2024-03-11T00:00:00Z')), '2024-03-11'); // a Monday
  });

  it('counts intervals between distinct deploy commits per environment', () => {
    const history = events(
      'd a 2024-03-04\nd a 2024-03-06\nd b 2024-03-06\nd a 2024-03-13 staging',
    );
    // d1 and d2 are different commits at the same time: a 0-day interval.
    const prod = environmentCadence(history, 'production');
    assert.equal(prod.deploys, 3);
    assert.deepEqual(prod.monthly, [{ bucket: '2024-03', count: 2, min: 0, median: 1, max: 2 }]);
    assert.deepEqual(environmentCadence(history, 'staging').weekly, []);
  });

  it("decides each promotion (share) and gives the blog's prod / non-prod interval ratio", () => {
    const cases: [
      history: string,
      expected: [number, number, number, number | null, number | null],
    ][] = [
      ['d a 2024-01-01 dev\nd a 2024-01-02', [1, 0, 0, 1, null]],
      ['d a 2024-01-01 dev\nd a 2024-01-02 dev\nd a 2024-01-03', [1, 1, 0, 0.5, 0]],
      ['d a 2024-01-01 dev', [0, 0, 1, null, null]],
      ['d a 2024-01-02\nd a 2024-01-01 dev', [1, 0, 0, 1, null]],
      ['d a 2024-01-01 dev\nd b 2024-01-02', [0, 0, 1, null, null]],
      ['d a 2024-01-01 dev\nd a 2024-01-01', [1, 0, 0, 1, null]],
      // Three dev deploys (2 intervals), two prod (1): the author's 50%, Cadence's 100%.
      [
        'd a 2024-01-01 dev\nd a 2024-01-02\nd a 2024-01-03 dev\nd a 2024-01-04\nd a 2024-01-05 dev',
        [2, 0, 1, 1, 0.5],
      ],
      // Two dev deploys superseded, one promoted; every dev deploy an interval apart: 1/3 vs 1/3.
      [
        'd a 2024-01-01 dev\nd a 2024-01-02 dev\nd a 2024-01-03 dev\nd a 2024-01-04 dev\nd a 2024-01-05\nd a 2024-01-06',
        [1, 3, 0, 0.25, 0.333333],
      ],
    ];
    for (const [history, [promoted, superseded, waiting, share, ratio]] of cases) {
      const result = promotionRate(events(history), 'dev', 'production');
      assert.deepEqual(
        [result.promoted, result.superseded, result.waiting, result.share, result.intervalRatio],
        [promoted, superseded, waiting, share, ratio],
        history,
      );
    }
  });

  it("averages the blog's ntile(10) groups as PostgreSQL deals them out", () => {
    const cases: [values: number[], averages: number[]][] = [
      [[], []],
      [[4], [4]],
      [
        [3, 1, 2],
        [1, 2, 3],
      ],
      [
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      ],
      // 12 rows in 10 groups: the first two get two rows each.
      [
        [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
        [1.5, 3.5, 5, 6, 7, 8, 9, 10, 11, 12],
      ],
      // 25 rows: five groups of three, then five of two.
      [Array.from({ length: 25 }, (_, i) => i), [1, 4, 7, 10, 13, 15.5, 17.5, 19.5, 21.5, 23.5]],
    ];
    for (const [values, averages] of cases) {
      assert.deepEqual(ntileAverages(values, 10), averages, values.join(','));
    }
  });

  it('counts all deploys and those paired with a cause, and leaves out events after as-of', () => {
    const history = events(
      'c a 2024-01-02\nd a 2024-01-03\nd a 2024-01-04\nd b 2024-01-05\nc b 2024-01-20\nd b 2024-02-02',
    );
    const rules = { environments: ['production'], production: 'production' };
    const late = buildCadenceReport(rules, history, 0, new Date('2024-02-10T00:00:00Z'));
    assert.deepEqual(
      late.deploysByMonth.map((m) => [m.month, m.deploys, m.pairedDeploys]),
      [
        ['2024-01', 3, 1],
        ['2024-02', 1, 1],
      ],
    );
    assert.deepEqual(
      late.intervals.map((i) => [i.commit, i.previousCommit, i.minutes]),
      [
        ['d2', 'd1', 1440],
        ['d3', 'd2', 1440],
        ['d5', 'd3', 28 * 1440],
      ],
    );
    // As of Jan 25: the Feb deploy has not happened; b's cause is pending 5 days, not paired.
    const early = buildCadenceReport(rules, history, 0, new Date('2024-01-25T00:00:00Z'));
    assert.deepEqual(
      early.pending.map((p) => [p.package, p.ageDays]),
      [['b', 5]],
    );
    assert.equal(early.updates.length, 1);
    assert.deepEqual(
      early.deploysByMonth.map((m) => [m.month, m.deploys, m.pairedDeploys]),
      [['2024-01', 3, 1]],
    );
    // Before the cause: nothing yet, never a negative age.
    const before = buildCadenceReport(rules, history, 0, new Date('2024-01-01T00:00:00Z'));
    assert.deepEqual([before.pending, before.updates, before.deploysByMonth], [[], [], []]);
  });

  it('fills the months between the first event and the report date', () => {
    const report = buildCadenceReport(
      { environments: ['production'], production: 'production' },
      events('c a 2024-01-10\nd a 2024-01-12'),
      0,
      new Date('2024-03-15T00:00:00Z'),
    );
    assert.deepEqual(
      report.deploysByMonth.map((m) => [m.month, m.deploys]),
      [
        ['2024-01', 1],
        ['2024-02', 0],
        ['2024-03', 0],
      ],
    );
    assert.deepEqual(report.leadTimeByMonth[1], {
      month: '2024-02',
      count: 0,
      min: null,
      median: null,
      max: null,
      percentileDeciles: [],
      ntileVariability: [],
    });
    assert.deepEqual(report.currentMonth, {
      month: '2024-03',
      count: 0,
      min: null,
      median: null,
      max: null,
    });
    assert.deepEqual(report.lastThreeMonths, {
      from: '2024-01',
      to: '2024-03',
      count: 1,
      min: 2,
      median: 2,
      max: 2,
    });
  });

  it('is empty, not an error, with no events', () => {
    const report = buildCadenceReport(
      { environments: ['production'], production: 'production' },
      [],
      0,
      new Date('2024-03-15T00:00:00Z'),
    );
    assert.deepEqual([report.updates, report.pending, report.deploysByMonth], [[], [], []]);
    assert.equal(report.currentMonth.count, 0);
  });
});
