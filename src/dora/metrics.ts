import type { Delivery } from './delivery.js';
import type { IncidentFact } from './facts.js';

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
 * The q-quantile (0..1) by linear interpolation between closest ranks, as PostgreSQL's
 * percentile_cont and R's default type 7: the median of [1, 2, 3, 4] is 2.5.
 */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export interface Distribution {
  count: number;
  /** Seconds. */
  median: number | null;
  p90: number | null;
}

function distribution(values: number[]): Distribution {
  return { count: values.length, median: quantile(values, 0.5), p90: quantile(values, 0.9) };
}

export interface Rate {
  numerator: number;
  denominator: number;
  /** numerator / denominator, null when there is nothing to divide by. */
  rate: number | null;
}

function rate(numerator: number, denominator: number): Rate {
  return { numerator, denominator, rate: denominator === 0 ? null : numerator / denominator };
}

/** The five DORA metrics (plus time to restore) over one set of deliveries and incidents. */
export interface DoraMetrics {
  /** Successful deployments. */
  deployments: number;
  /** Days in the window; frequency per day = deployments / days. */
  days: number;
  deploymentsPerDay: number;
  /** Distinct days with a successful deployment, per week of the window. */
  deployDaysPerWeek: number;
  leadTime: Distribution;
  changeFailureRate: Rate;
  failedDeploymentRecoveryTime: Distribution;
  timeToRestore: Distribution;
  reworkRate: Rate;
}

const DAY = 86_400_000;
const succeeded = (d: Delivery) => d.kind === 'deploy' && d.outcome === 'success';

/**
 * The metrics for deliveries in [from, to). Deployments (for frequency, lead time and rework)
 * are the successful ones; change failure rate divides failed deployments by every deployment
 * attempt, including those whose outcome was a failure. Rollbacks are not deployments: they mark
 * the deployment they undo as failed and restore service.
 */
export function computeMetrics(
  deliveries: Delivery[],
  incidents: IncidentFact[],
  window: { from: Date; to: Date },
): DoraMetrics {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const inWindow = (at: Date | undefined) =>
    at !== undefined && at.getTime() >= from && at.getTime() < to;
  const attempts = deliveries.filter((d) => d.kind === 'deploy' && inWindow(d.deployedAt));
  const deployments = attempts.filter(succeeded);
  const days = Math.max((to - from) / DAY, 0);
  const deployDays = new Set(deployments.map((d) => bucketStart(d.deployedAt, 'day').getTime()));
  const failed = attempts.filter((d) => d.failed);
  return {
    deployments: deployments.length,
    days,
    deploymentsPerDay: days === 0 ? 0 : deployments.length / days,
    deployDaysPerWeek: days === 0 ? 0 : deployDays.size / (days / 7),
    leadTime: distribution(
      deployments.flatMap((d) => d.commits.map((commit) => commit.leadTimeSeconds)),
    ),
    changeFailureRate: rate(failed.length, attempts.length),
    failedDeploymentRecoveryTime: distribution(
      failed.flatMap((d) =>
        d.restoredAt ? [(d.restoredAt.getTime() - d.deployedAt.getTime()) / 1000] : [],
      ),
    ),
    timeToRestore: distribution(
      incidents.flatMap((incident) =>
        inWindow(incident.detectedAt) && incident.resolvedAt
          ? [(incident.resolvedAt.getTime() - incident.detectedAt!.getTime()) / 1000]
          : [],
      ),
    ),
    reworkRate: rate(deployments.filter((d) => d.rework).length, deployments.length),
  };
}

export interface BucketedMetrics extends DoraMetrics {
  bucket: string;
}

/** The metrics per bucket in [from, to), every bucket present (empty ones too). */
export function computeSeries(
  deliveries: Delivery[],
  incidents: IncidentFact[],
  window: { from: Date; to: Date },
  bucket: Bucket,
): BucketedMetrics[] {
  const series: BucketedMetrics[] = [];
  let start = bucketStart(window.from, bucket);
  while (start.getTime() < window.to.getTime()) {
    const end = nextBucket(start, bucket);
    const from = new Date(Math.max(start.getTime(), window.from.getTime()));
    const to = new Date(Math.min(end.getTime(), window.to.getTime()));
    series.push({
      bucket: start.toISOString(),
      ...computeMetrics(deliveries, incidents, { from, to }),
    });
    start = end;
  }
  return series;
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
