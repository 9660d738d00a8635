/** The judges and the interval score as tables: samples in, classification and verdict out. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeInterval, judges, scoreInterval } from '../../src/analysis/judge-interval.js';
import {
  beyondCritical,
  withoutOutliers,
  type Classification,
  type MetricJudgement,
} from '../../src/analysis/judgement.js';
import type { MetricSpecInput } from '../../src/analysis/schema.js';
import { judgeRows, metricSpec as spec, type JudgeRow } from '../support/judge-rows.js';

const settings = { confidence: 0.98 };
const around = (centre: number, spread: number, n = 12) =>
  Array.from({ length: n }, (_, i) => centre + spread * (((i * 7) % n) / n - 0.5));

const mannWhitneyRows: JudgeRow[] = [
  {
    name: 'same distribution',
    canary: around(100, 10),
    stable: around(100, 10),
    classification: 'pass',
  },
  {
    name: '30 % slower, clearly',
    canary: around(130, 10),
    stable: around(100, 10),
    classification: 'high',
  },
  {
    name: 'significant but within the allowed 10 %',
    canary: around(105, 1),
    stable: around(100, 1),
    classification: 'pass',
  },
  {
    name: 'faster is fine for an increase-judged metric',
    canary: around(60, 5),
    stable: around(100, 5),
    classification: 'pass',
  },
  {
    name: 'faster fails a metric judged either way',
    metric: { direction: 'either' },
    canary: around(60, 5),
    stable: around(100, 5),
    classification: 'low',
  },
  {
    name: 'a decrease-judged metric (throughput) that dropped',
    metric: { direction: 'decrease' },
    canary: around(50, 5),
    stable: around(100, 5),
    classification: 'low',
  },
  {
    name: 'critical metric failing',
    metric: { critical: true },
    canary: around(130, 10),
    stable: around(100, 10),
    classification: 'high',
    critical: true,
  },
  {
    name: 'beyond the critical increase',
    metric: { criticalIncrease: 1.5 },
    canary: around(200, 10),
    stable: around(100, 10),
    classification: 'high',
    critical: true,
  },
  {
    name: 'errors where stable has none: infinite ratio',
    metric: { name: 'error-rate' },
    canary: around(0.05, 0.02),
    stable: Array(12).fill(0),
    classification: 'high',
  },
  {
    // 5 % slower (within the allowed 10 %) plus one 300 ms spike: the mean ratio becomes 1.2
    name: 'a spike decides the mean ratio when outliers are kept',
    canary: [...around(105, 1), 300],
    stable: around(100, 1),
    classification: 'high',
  },
  {
    name: 'the same spike dropped by outlier removal (Q3 + 3·IQR)',
    metric: { removeOutliers: true },
    canary: [...around(105, 1), 300],
    stable: around(100, 1),
    classification: 'pass',
  },
  {
    // 4 against 4, completely separated: the smallest p is 0.030, never below 0.02
    name: 'too few samples to ever be significant: insufficient, not a pass',
    metric: { minSamples: 3 },
    canary: [200, 201, 202, 203],
    stable: [100, 101, 102, 103],
    classification: 'insufficient',
  },
  { name: 'no canary data', canary: [], stable: around(100, 10), classification: 'nodata' },
  {
    name: 'only NaN from the canary (no traffic)',
    canary: [NaN, NaN, NaN],
    stable: around(100, 10),
    classification: 'nodata',
  },
  {
    name: 'fewer samples than needed',
    canary: around(100, 10, 3),
    stable: around(100, 10),
    classification: 'insufficient',
  },
  {
    name: 'NaN dropped, the rest enough',
    canary: [...around(130, 10), NaN, Infinity],
    stable: around(100, 10),
    classification: 'high',
  },
];

const thresholdRows: JudgeRow[] = [
  {
    name: 'absolute: within',
    metric: { name: 'error-rate', threshold: { limit: 0.01, mode: 'absolute' } },
    canary: around(0.015, 0.002),
    stable: around(0.01, 0.002),
    classification: 'pass',
  },
  {
    name: 'absolute: beyond',
    metric: { name: 'error-rate', threshold: { limit: 0.01, mode: 'absolute' } },
    canary: around(0.025, 0.002),
    stable: around(0.01, 0.002),
    classification: 'high',
  },
  {
    name: 'relative: 20 % slower against a 10 % limit',
    metric: { threshold: { limit: 0.1, mode: 'relative' } },
    canary: around(120, 2),
    stable: around(100, 2),
    classification: 'high',
  },
  {
    name: 'relative: faster, increase-judged',
    metric: { threshold: { limit: 0.1, mode: 'relative' } },
    canary: around(50, 2),
    stable: around(100, 2),
    classification: 'pass',
  },
  {
    name: 'decrease-judged throughput halved',
    metric: { direction: 'decrease', threshold: { limit: 0.2, mode: 'relative' } },
    canary: around(50, 2),
    stable: around(100, 2),
    classification: 'low',
  },
  {
    name: 'no threshold: not this judge’s metric',
    canary: around(500, 2),
    stable: around(100, 2),
    classification: 'pass',
  },
  {
    name: 'no data',
    metric: { threshold: { limit: 1, mode: 'absolute' } },
    canary: [],
    stable: [1],
    classification: 'nodata',
  },
];

for (const [judgeName, rows] of [
  ['mann-whitney', mannWhitneyRows],
  ['threshold', thresholdRows],
] as const) {
  describe(`${judgeName} judge`, () => judgeRows(judges[judgeName], rows, settings));
}

describe('scoreInterval', () => {
  const judged = (
    metric: string,
    group: string,
    classification: Classification,
    criticalFailure = false,
  ): MetricJudgement => ({
    metric,
    group,
    classification,
    criticalFailure,
    reason: classification,
    canary: { count: 10, mean: 1, median: 1 },
    stable: { count: 10, mean: 1, median: 1 },
    ratio: 1,
    difference: 0,
  });
  const specs = ['a', 'b', 'c', 'd'].map((name) => spec({ name, mustHaveData: name === 'd' }));
  const score = (metrics: MetricJudgement[], groups: Record<string, number> = {}) =>
    scoreInterval('mann-whitney', metrics, specs, { passScore: 95, marginalScore: 75, groups });

  const rows: {
    name: string;
    metrics: MetricJudgement[];
    groups?: Record<string, number>;
    verdict: string;
    score: number | null;
  }[] = [
    {
      name: 'all pass',
      metrics: [judged('a', 'x', 'pass'), judged('b', 'y', 'pass')],
      verdict: 'pass',
      score: 100,
    },
    {
      name: 'a critical failure fails whatever the rest',
      metrics: [
        judged('a', 'x', 'high', true),
        judged('b', 'x', 'pass'),
        judged('c', 'x', 'insufficient'),
      ],
      verdict: 'fail',
      score: 0,
    },
    {
      name: 'one metric short of samples: inconclusive',
      metrics: [judged('a', 'x', 'pass'), judged('b', 'x', 'insufficient')],
      verdict: 'inconclusive',
      score: null,
    },
    {
      name: 'no data on a must-have metric: inconclusive',
      metrics: [judged('a', 'x', 'pass'), judged('d', 'x', 'nodata')],
      verdict: 'inconclusive',
      score: null,
    },
    {
      name: 'no data on an optional metric: left out',
      metrics: [judged('a', 'x', 'pass'), judged('b', 'x', 'nodata')],
      verdict: 'pass',
      score: 100,
    },
    {
      name: 'no data anywhere: inconclusive, never fail',
      metrics: [judged('a', 'x', 'nodata'), judged('b', 'y', 'nodata')],
      verdict: 'inconclusive',
      score: null,
    },
    // group x: 1 of 2 → 50, weight 1; group y: 100, weight 3 → (50 + 300) / 4 = 87.5
    {
      name: 'weighted groups: marginal',
      metrics: [judged('a', 'x', 'pass'), judged('b', 'x', 'high'), judged('c', 'y', 'pass')],
      groups: { y: 3 },
      verdict: 'marginal',
      score: 87.5,
    },
    // equal weights: (50 + 100) / 2 = 75 → marginal at the boundary
    {
      name: 'equal weights at the marginal boundary',
      metrics: [judged('a', 'x', 'pass'), judged('b', 'x', 'high'), judged('c', 'y', 'pass')],
      verdict: 'marginal',
      score: 75,
    },
    {
      name: 'below marginal: fail',
      metrics: [judged('a', 'x', 'high'), judged('b', 'x', 'low'), judged('c', 'y', 'pass')],
      verdict: 'fail',
      score: 50,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const result = score(row.metrics, row.groups);
      assert.equal(result.verdict, row.verdict);
      assert.equal(result.score, row.score);
      if (row.verdict === 'inconclusive')
        assert.ok(result.missing.length > 0, 'says what was missing');
    });
  }

  it('judgeInterval: a 1-point error regression fails the default critical error metric', () => {
    const result = judgeInterval(
      { judge: 'mann-whitney', confidence: 0.98, passScore: 95, marginalScore: 75, groups: {} },
      [
        spec({ name: 'error-rate', critical: true, allowedIncrease: 1.2 }),
        spec({ name: 'latency-p95' }),
      ],
      new Map([
        ['error-rate', { canary: around(0.02, 0.004), stable: around(0.01, 0.004) }],
        ['latency-p95', { canary: around(100, 10), stable: around(100, 10) }],
      ]),
    );
    assert.equal(result.verdict, 'fail');
    assert.equal(result.metrics[0]!.criticalFailure, true);
  });
});

describe('withoutOutliers', () => {
  // The fences are Q1 − 3·IQR and Q3 + 3·IQR with type-7 quartiles (statistics' quantile, as
  // PostgreSQL's percentile_cont). The rows sit on the fences, where another quantile type (R's
  // type 6, say: Q1 1.5 and Q3 7 for [1, 2, 3, 4, 10]) would draw them elsewhere.
  const rows: { name: string; values: number[]; kept: number[] }[] = [
    { name: 'fewer than four values are all kept', values: [1, 2, 1000], kept: [1, 2, 1000] },
    { name: 'a far outlier is dropped', values: [1, 2, 3, 4, 100], kept: [1, 2, 3, 4] },
    {
      name: 'a value on the upper fence is kept',
      values: [4, 1, 10, 3, 2],
      kept: [4, 1, 10, 3, 2],
    },
    {
      name: 'just past the upper fence is dropped',
      values: [1, 2, 3, 4, 10.001],
      kept: [1, 2, 3, 4],
    },
    {
      name: 'a value on the lower fence is kept',
      values: [3, -5, 1, 2, 4],
      kept: [3, -5, 1, 2, 4],
    },
    {
      name: 'just past the lower fence is dropped',
      values: [3, -5.001, 1, 2, 4],
      kept: [3, 1, 2, 4],
    },
    {
      name: 'no spread: anything off the value is dropped',
      values: [5, 5, 5, 5, 5.1],
      kept: [5, 5, 5, 5],
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(withoutOutliers(row.values), row.kept));
  }
});

describe('beyondCritical', () => {
  // Strictly past the bound, only in the change's own direction, never without a bound.
  const rows: {
    metric: Partial<MetricSpecInput>;
    change: 'high' | 'low';
    ratio: number;
    critical: boolean;
  }[] = [
    { metric: {}, change: 'high', ratio: 100, critical: false },
    { metric: { criticalIncrease: 1.5 }, change: 'high', ratio: 1.6, critical: true },
    { metric: { criticalIncrease: 1.5 }, change: 'high', ratio: 1.5, critical: false },
    { metric: { criticalIncrease: 1.5 }, change: 'low', ratio: 0.1, critical: false },
    { metric: { criticalDecrease: 0.5 }, change: 'low', ratio: 0.4, critical: true },
    { metric: { criticalDecrease: 0.5 }, change: 'low', ratio: 0.5, critical: false },
    { metric: { criticalDecrease: 0.5 }, change: 'high', ratio: 9, critical: false },
  ];
  for (const { metric, change, ratio, critical } of rows) {
    it(`${JSON.stringify(metric)}, ${change}, ratio ${ratio}: ${critical ? 'critical' : 'not critical'}`, () =>
      assert.equal(beyondCritical(spec(metric), change, ratio), critical));
  }
});
