/**
 * The q-quantile (0..1) by linear interpolation between closest ranks, as PostgreSQL's
 * percentile_cont and R's default type 7: the median of [1, 2, 3, 4] is 2.5.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}
