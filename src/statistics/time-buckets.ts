export type Bucket = 'day' | 'week' | 'month' | 'year';
export const BUCKETS: readonly Bucket[] = ['day', 'week', 'month', 'year'];

/** Start (UTC) of the bucket holding `at`; weeks start on Monday (ISO 8601). */
export function bucketStart(at: Date, bucket: Bucket): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const d = at.getUTCDate();
  switch (bucket) {
    case 'day':
      return new Date(Date.UTC(y, m, d));
    case 'week': {
      const weekday = (at.getUTCDay() + 6) % 7; // Monday = 0
      return new Date(Date.UTC(y, m, d - weekday));
    }
    case 'month':
      return new Date(Date.UTC(y, m, 1));
    case 'year':
      return new Date(Date.UTC(y, 0, 1));
  }
}

/**
 * Every bucket of [from, to), empty ones included, each clipped to the window (a partial first
 * or last bucket counts only its days inside the window).
 */
export function bucketsOf(
  window: { from: Date; to: Date },
  bucket: Bucket,
): { start: Date; from: Date; to: Date }[] {
  const buckets: { start: Date; from: Date; to: Date }[] = [];
  let start = bucketStart(window.from, bucket);
  while (start.getTime() < window.to.getTime()) {
    const end = nextBucket(start, bucket);
    buckets.push({
      start,
      from: new Date(Math.max(start.getTime(), window.from.getTime())),
      to: new Date(Math.min(end.getTime(), window.to.getTime())),
    });
    start = end;
  }
  return buckets;
}

export function nextBucket(start: Date, bucket: Bucket): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth();
  const d = start.getUTCDate();
  switch (bucket) {
    case 'day':
      return new Date(Date.UTC(y, m, d + 1));
    case 'week':
      return new Date(Date.UTC(y, m, d + 7));
    case 'month':
      return new Date(Date.UTC(y, m + 1, 1));
    case 'year':
      return new Date(Date.UTC(y + 1, 0, 1));
  }
}
