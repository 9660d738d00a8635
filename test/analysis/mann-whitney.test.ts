/**
 * The Mann-Whitney test against published and hand-derived values. R is not on this machine, so
 * each expected value says where it comes from: a value R's documentation publishes, a value
 * derived by hand here (the arithmetic is in the comment), or an independent computation in
 * this file (exact enumeration of the permutation distribution; the statistic recomputed by
 * counting pairs rather than ranking).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mannWhitneyTest, smallestPValue } from '../../src/analysis/mann-whitney.js';
import { normalCdf, normalQuantile } from '../../src/analysis/normal-distribution.js';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );

/** Exact two-sided p-value of W by enumerating every split of the pooled sample (no ties). */
function exactTwoSided(x: number[], y: number[]): number {
  const pooled = [...x, ...y].sort((a, b) => a - b);
  const n = x.length;
  const ranks = pooled.map((_, index) => index + 1);
  const rankOf = new Map(pooled.map((value, index) => [value, index + 1]));
  const observed = x.reduce((sum, value) => sum + rankOf.get(value)!, 0) - (n * (n + 1)) / 2;
  const mean = (n * y.length) / 2;
  let extreme = 0;
  let total = 0;
  const choose = (start: number, left: number, sum: number) => {
    if (left === 0) {
      total++;
      if (Math.abs(sum - (n * (n + 1)) / 2 - mean) >= Math.abs(observed - mean)) extreme++;
      return;
    }
    for (let i = start; i <= ranks.length - left; i++) choose(i + 1, left - 1, sum + ranks[i]!);
  };
  choose(0, n, 0);
  return extreme / total;
}

/**
 * R's corrected statistic at shift d, recomputed independently: U counted over the pairs
 * (ties ½), the tie term from the pooled values' multiplicities.
 */
function statisticByPairs(x: number[], y: number[], d: number): number {
  const n = x.length;
  const m = y.length;
  let u = 0;
  for (const a of x) for (const b of y) u += a - d > b ? 1 : a - d === b ? 0.5 : 0;
  const counts = new Map<number, number>();
  for (const value of [...x.map((a) => a - d), ...y])
    counts.set(value, (counts.get(value) ?? 0) + 1);
  let ties = 0;
  for (const t of counts.values()) ties += t ** 3 - t;
  const centred = u - (n * m) / 2;
  const sigma = Math.sqrt(((n * m) / 12) * (n + m + 1 - ties / ((n + m) * (n + m - 1))));
  return (centred - Math.sign(centred) * 0.5) / sigma;
}

/** An interval end is where the corrected statistic crosses ∓z(1−α/2): check both sides. */
function assertIntervalEnds(
  x: number[],
  y: number[],
  interval: [number, number],
  confidence: number,
) {
  const zq = normalQuantile(1 - (1 - confidence) / 2);
  const eps = 1e-9;
  assert.ok(
    statisticByPairs(x, y, interval[0] - eps) > zq,
    'left of the lower end, still significant',
  );
  assert.ok(
    statisticByPairs(x, y, interval[0] + eps) < zq,
    'right of the lower end, not significant',
  );
  assert.ok(
    statisticByPairs(x, y, interval[1] - eps) > -zq,
    'left of the upper end, not significant',
  );
  assert.ok(statisticByPairs(x, y, interval[1] + eps) < -zq, 'right of the upper end, significant');
}

describe('the normal distribution', () => {
  // Reference values: Abramowitz & Stegun table 26.1 / any statistics table.
  for (const [x, p] of [
    [0, 0.5],
    [-1, 0.15865525393145707],
    [1.959963984540054, 0.975],
    [2.3263478740408408, 0.99],
    [-3, 0.0013498980316301],
  ] as const) {
    it(`Φ(${x}) = ${p}, and back`, () => {
      close(normalCdf(x), p, 1e-13, 'cdf');
      close(normalQuantile(p), x, 1e-9, 'quantile');
    });
  }
});

describe('mannWhitneyTest', () => {
  // R's ?wilcox.test two-sample example: Hollander & Wolfe (1973) p. 69f, permeability
  // constants at term (x) and at 12–26 weeks (y). R's documented output for it:
  // exact one-sided ("greater") W = 35, p = 0.1272; the H&W large-sample approximation
  // (exact = FALSE, correct = FALSE, "greater") p = 0.1103.
  const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
  const y = [1.15, 0.88, 0.9, 0.74, 1.21];

  it('H&W permeability: W = 35 and the p-values R documents', () => {
    const uncorrected = mannWhitneyTest(x, y, { correct: false });
    assert.equal(uncorrected.w, 35);
    // two-sided is twice R's one-sided 0.1103: z = 10 / √(50·16/12) = 1.224745
    close(uncorrected.pValue / 2, 0.1103, 5e-5, 'one-sided uncorrected p');
    close(uncorrected.z, 1.224745, 1e-6, 'z');
    // exact enumeration over the C(15,10) = 3003 splits gives R's exact 0.1272 one-sided
    close(exactTwoSided(x, y) / 2, 0.1272, 5e-5, 'exact one-sided p');
  });

  it('H&W permeability with continuity correction (R default): p = 0.2446', () => {
    const result = mannWhitneyTest(x, y, { confidence: 0.95 });
    // by hand: z = (35 − 25 − ½) / 8.164966 = 1.163508; 2·(1 − Φ(1.163508)) = 0.244624
    close(result.z, 1.163508, 1e-6, 'z');
    close(result.pValue, 0.244624, 1e-6, 'p');
    // the normal approximation sits next to the exact two-sided 0.2544 (3003 splits)
    close(result.pValue, exactTwoSided(x, y), 0.02, 'approximation vs exact');
  });

  it('H&W permeability: Hodges–Lehmann estimate 0.305 and the 95 % interval [−0.15, 0.76]', () => {
    const result = mannWhitneyTest(x, y, { confidence: 0.95 });
    // the 25th and 26th of the 50 sorted differences are 0.30 and 0.31 (R prints 0.305 for
    // the exact test's estimate, the same median)
    close(result.estimate, 0.305, 1e-12, 'estimate');
    // the ends are pairwise differences, 0.73 − 0.88 and 1.64 − 0.88; that they are where
    // R's root-finding lands is checked by the independent pair-counting computation below
    close(result.interval[0], -0.15, 1e-12, 'lower');
    close(result.interval[1], 0.76, 1e-12, 'upper');
    assertIntervalEnds(x, y, result.interval, 0.95);
  });

  it('complete separation, 5 against 5: W = 0, p = 0.01219, 98 % interval [−9, −1]', () => {
    const result = mannWhitneyTest([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    assert.equal(result.w, 0);
    // by hand: z = (0 − 12.5 + ½) / √(25·11/12) = −12 / 4.787136 = −2.506718; p = 0.012186
    close(result.z, -2.506718, 1e-6, 'z');
    close(result.pValue, 0.012186, 1e-6, 'p');
    // exact: 2 of the C(10,5) = 252 splits are this extreme
    close(exactTwoSided([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]), 2 / 252, 1e-12, 'exact p');
    assert.equal(result.estimate, -5);
    assert.deepEqual(result.interval, [-9, -1]);
    assertIntervalEnds([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], result.interval, 0.98);
  });

  it('ties: the variance is tie-corrected', () => {
    const tx = [1, 1, 2, 2, 3];
    const ty = [2, 3, 3, 4, 4];
    const result = mannWhitneyTest(tx, ty);
    // by hand: pooled ranks 1.5 1.5 4 4 4 7 7 7 9.5 9.5, x's rank sum 18, W = 18 − 15 = 3;
    // ties 2,3,3,2 → Σ(t³ − t) = 60; σ² = 25/12 · (11 − 60/90) = 21.527778; σ = 4.639804;
    // z = (3 − 12.5 + ½) / σ = −1.939737; p = 2Φ(z) = 0.052412
    assert.equal(result.w, 3);
    close(result.z, -1.939737, 1e-6, 'z');
    close(result.pValue, 0.052412, 1e-6, 'p');
    assert.equal(result.estimate, -1);
    assertIntervalEnds(tx, ty, result.interval, 0.98);
  });

  it('every observation tied: no variance, p = 1, no shift', () => {
    const result = mannWhitneyTest([2, 2, 2], [2, 2]);
    assert.equal(result.pValue, 1);
    assert.equal(result.estimate, 0);
    assert.deepEqual(result.interval, [0, 0]);
  });

  it('the interval is where the statistic crosses, on random samples', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      const a = Array.from({ length: 8 + (round % 5) }, () => Math.round(random() * 1000) / 10);
      const b = Array.from({ length: 6 + (round % 7) }, () => Math.round(random() * 1000) / 10 + 5);
      const result = mannWhitneyTest(a, b);
      assert.ok(result.interval[0] <= result.estimate && result.estimate <= result.interval[1]);
      assertIntervalEnds(a, b, result.interval, 0.98);
    }
  });

  it('the smallest p-value: 4 against 4 cannot reach 0.02, 5 against 5 can', () => {
    // by hand: 4·4: z = (8 − ½)/√(16·9/12) = 2.165, p = 0.0304; 5·5: p = 0.012186 (above)
    close(smallestPValue(4, 4), 0.030383, 1e-6, '4 against 4');
    close(
      smallestPValue(5, 5),
      mannWhitneyTest([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).pValue,
      1e-12,
      '5 against 5',
    );
  });

  it('refuses an empty sample', () => {
    assert.throws(() => mannWhitneyTest([], [1]), RangeError);
  });
});
