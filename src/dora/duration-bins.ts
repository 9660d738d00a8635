/**
 * Mergeable duration histograms for the daily rollups: log-spaced bins (DDSketch's mapping)
 * whose counts add across days, so a year's median is read from a few hundred bins instead of
 * sorting every lead time. Any quantile read from them is within RELATIVE_ACCURACY of the true
 * order statistic (https://arxiv.org/abs/1908.10693, section 2).
 */

/** α: a value v is reported as some x with |x − v| ≤ α·v. */
export const RELATIVE_ACCURACY = 0.01;

/** γ = (1 + α) / (1 − α): each bin's upper bound is γ times its lower bound. */
export const BIN_BASE = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);

/** The bin of durations ≤ 0 (clock skew can make a lead time negative); its value is 0. */
export const ZERO_BIN = -32_768;

/**
 * The bin of a duration in seconds: ⌈log_γ v⌉, so bin i holds (γ^(i−1), γ^i].
 * The same expression runs in SQL (`DURATION_BIN_SQL`); the tests hold the two together.
 */
export function binOf(seconds: number): number {
  if (!(seconds > 0)) return ZERO_BIN;
  // `+ 0` turns the -0 that ceil gives just below 1 s into 0.
  return Math.ceil(Math.log(seconds) / Math.log(BIN_BASE)) + 0;
}

/** SQL for binOf over a float8 expression (kept beside binOf so they change together). */
export function durationBinSql(expression: string): string {
  return `case when ${expression} > 0
            then ceil(ln(${expression}) / ln(${BIN_BASE}::float8))::int4
            else ${ZERO_BIN} end`;
}

/** The value reported for bin i: 2γ^i / (γ + 1), within α of everything in the bin. */
export function binValue(bin: number): number {
  if (bin === ZERO_BIN) return 0;
  return (2 * Math.pow(BIN_BASE, bin)) / (BIN_BASE + 1);
}

export interface DurationBin {
  bin: number;
  count: number;
}

/**
 * The q-quantile (0..1) of the durations in `bins`, interpolated between closest ranks like
 * PostgreSQL's percentile_cont (so that on exact data both agree), each rank's value being its
 * bin's value. Null when the bins are empty.
 *
 * @example quantileOfBins([{ bin: binOf(60), count: 3 }], 0.5) // ≈ 60 (within 1 %)
 */
export function quantileOfBins(bins: readonly DurationBin[], q: number): number | null {
  const sorted = bins.filter((b) => b.count > 0).sort((a, b) => a.bin - b.bin);
  const total = sorted.reduce((sum, b) => sum + b.count, 0);
  if (total === 0) return null;
  const position = (total - 1) * q;
  const lower = valueAtRank(sorted, Math.floor(position));
  const upper = valueAtRank(sorted, Math.ceil(position));
  return lower + (upper - lower) * (position - Math.floor(position));
}

/** The value of the rank-th (0-based) smallest duration. */
function valueAtRank(sorted: readonly DurationBin[], rank: number): number {
  let seen = 0;
  for (const { bin, count } of sorted) {
    seen += count;
    if (rank < seen) return binValue(bin);
  }
  return binValue(sorted[sorted.length - 1]!.bin);
}

/** Adds bins with the same index (days merged into a window). */
export function mergeBins(...lists: readonly (readonly DurationBin[])[]): DurationBin[] {
  const merged = new Map<number, number>();
  for (const list of lists) {
    for (const { bin, count } of list) merged.set(bin, (merged.get(bin) ?? 0) + count);
  }
  return [...merged].map(([bin, count]) => ({ bin, count }));
}
