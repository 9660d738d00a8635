/**
 * statistics — the small numeric rules more than one module measures by: the type-7 quantile
 * (PostgreSQL's percentile_cont, so SQL and JS agree) and UTC calendar buckets (ISO weeks).
 * `dora` and `git` both report with them, and `analysis` draws its outlier fences with the
 * quantile; none owns the others' arithmetic.
 */
export { quantile } from './quantile.js';
export { BUCKETS, bucketStart, bucketsOf, type Bucket } from './time-buckets.js';
