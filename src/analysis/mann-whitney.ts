import { normalCdf, normalQuantile } from './normal-distribution.js';

/** The two-sample Wilcoxon–Mann–Whitney test of x against y, with its location estimate. */
export interface MannWhitneyResult {
  /** R's `W`: the rank sum of x less n(n+1)/2, i.e. the number of pairs with x > y (ties ½). */
  w: number;
  /** The standardized statistic after tie and continuity correction. */
  z: number;
  /** Two-sided p-value from the normal approximation. */
  pValue: number;
  /** Hodges–Lehmann estimate of the shift x − y: the median of all n·m differences. */
  estimate: number;
  /** The distribution-free confidence interval for the shift, computed as R computes it. */
  interval: [number, number];
  confidence: number;
}

/** Average ranks (1-based) of `values`, and Σ(t³ − t) over the groups of ties. */
function rankWithTies(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  let tieTerm = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.value === order[start]!.value) end++;
    const rank = (start + end + 2) / 2;
    for (let k = start; k <= end; k++) ranks[order[k]!.index] = rank;
    const t = end - start + 1;
    tieTerm += t * t * t - t;
    start = end + 1;
  }
  return { ranks, tieTerm };
}

/**
 * The standardized statistic for the shift d (x − d against y), exactly as R's
 * `wilcox.test.default` computes it: tie-corrected variance, and a continuity correction of
 * ½ towards zero when `correct`. 0 when every observation is tied (no variance).
 */
function standardized(x: readonly number[], y: readonly number[], d: number, correct: boolean) {
  const n = x.length;
  const m = y.length;
  const { ranks, tieTerm } = rankWithTies([...x.map((value) => value - d), ...y]);
  let rankSum = 0;
  for (let i = 0; i < n; i++) rankSum += ranks[i]!;
  const w = rankSum - (n * (n + 1)) / 2;
  const centred = w - (n * m) / 2;
  const sigma = Math.sqrt(((n * m) / 12) * (n + m + 1 - tieTerm / ((n + m) * (n + m - 1))));
  const correction = correct ? Math.sign(centred) * 0.5 : 0;
  return { w, z: sigma === 0 ? 0 : (centred - correction) / sigma };
}

function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Where the non-increasing step function `f` crosses zero over the distinct pairwise
 * differences, as R's `uniroot(…, tol = 1e-4)` finds it. The statistic is constant between
 * consecutive differences, so the root is the difference at which f turns from positive to
 * negative (R lands within 1e-4 of it); this search over the steps finds it exactly. Like R,
 * an f already ≤ 0 at the smallest difference (≥ 0 at the largest) returns that end.
 */
function crossing(differences: readonly number[], f: (d: number) => number): number {
  const last = differences.length - 1;
  if (f(differences[0]!) <= 0) return differences[0]!;
  if (f(differences[last]!) >= 0) return differences[last]!;
  const step = (k: number) => f((differences[k]! + differences[k + 1]!) / 2);
  // The first step k (between differences k and k+1) on which f is no longer positive.
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const middle = (lo + hi) >> 1;
    if (step(middle) > 0) lo = middle + 1;
    else hi = middle;
  }
  if (lo === last) return differences[last]!;
  // f exactly 0 on a whole step: every point of it is a root; take its middle.
  return step(lo) === 0 ? (differences[lo]! + differences[lo + 1]!) / 2 : differences[lo]!;
}

/**
 * Two-sided Mann-Whitney U test with the normal approximation, as R's
 * `wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE, conf.level)` computes it:
 * tie-corrected variance, continuity correction, and the confidence interval found by solving
 * the corrected statistic for the shift. The estimate is the Hodges–Lehmann median of the
 * pairwise differences (R's asymptotic estimate is a root of the uncorrected statistic, which
 * is this median when n·m is odd and a point of the same flat step when it is even).
 * Both samples must be non-empty and finite.
 *
 * @example mannWhitneyTest([0.8, 0.83, 1.89], [1.15, 0.88]).pValue
 */
export function mannWhitneyTest(
  x: readonly number[],
  y: readonly number[],
  options: { confidence?: number; correct?: boolean } = {},
): MannWhitneyResult {
  const confidence = options.confidence ?? 0.98;
  const correct = options.correct ?? true;
  if (x.length === 0 || y.length === 0) throw new RangeError('both samples need values');
  const { w, z } = standardized(x, y, 0, correct);
  const pValue = Math.min(1, 2 * normalCdf(-Math.abs(z)));

  const differences: number[] = [];
  for (const a of x) for (const b of y) differences.push(a - b);
  differences.sort((a, b) => a - b);
  const distinct = differences.filter(
    (value, index) => index === 0 || value !== differences[index - 1],
  );
  const alpha = 1 - confidence;
  const zq = normalQuantile(1 - alpha / 2);
  const at = (d: number) => standardized(x, y, d, correct).z;
  const interval: [number, number] =
    distinct.length === 1
      ? [distinct[0]!, distinct[0]!]
      : [crossing(distinct, (d) => at(d) - zq), crossing(distinct, (d) => at(d) + zq)];
  return { w, z, pValue, estimate: median(differences), interval, confidence };
}

/**
 * The smallest two-sided p-value the corrected normal approximation can give for samples of
 * n and m (complete separation, no ties). At or above α, no difference can ever be significant:
 * the test has no power at that size (5 against 5 is the smallest that can reach α = 0.02).
 */
export function smallestPValue(n: number, m: number): number {
  const z = ((n * m) / 2 - 0.5) / Math.sqrt((n * m * (n + m + 1)) / 12);
  return 2 * normalCdf(-z);
}
