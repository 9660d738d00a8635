export interface Distribution {
  count: number;
  /** Seconds. */
  median: number | null;
  p90: number | null;
  /** True when the quantiles were read from the daily rollups' bins (within 1 %). */
  approximate?: boolean;
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
  /**
   * Days with a successful deployment / calendar days the window touches × 7: never above 7,
   * even for a window that starts or ends mid-day.
   */
  deployDaysPerWeek: number;
  leadTime: Distribution;
  changeFailureRate: Rate;
  failedDeploymentRecoveryTime: Distribution;
  timeToRestore: Distribution;
  reworkRate: Rate;
}

const DAY = 86_400_000;

/**
 * The counts and distributions the metrics are made of, for one window (or bucket, or stream),
 * as the SQL aggregates in metric-queries.ts read them from the rules' results:
 * - attempts: deployments with kind deploy (successful or not), deployments the successful ones;
 * - failed: attempts the rules marked failed; rework: successful ones that were rework;
 * - deployDays: distinct UTC days with a successful deployment;
 * - leadTime: over the commits successful deployments delivered;
 * - recovery: restoration − deployment time of failed attempts that were restored;
 * - restore: resolution − detection of incidents detected in the window and resolved.
 */
export interface MetricInputs {
  deployments: number;
  attempts: number;
  failed: number;
  rework: number;
  deployDays: number;
  leadTime: Distribution;
  recovery: Distribution;
  restore: Distribution;
}

const noDistribution: Distribution = { count: 0, median: null, p90: null };

export const emptyInputs: MetricInputs = {
  deployments: 0,
  attempts: 0,
  failed: 0,
  rework: 0,
  deployDays: 0,
  leadTime: noDistribution,
  recovery: noDistribution,
  restore: noDistribution,
};

/**
 * The five metrics (plus time to restore) from their inputs over a window of `days` days.
 * Change failure rate divides failed attempts by every attempt, including those whose outcome
 * was a failure; frequency and rework count successful deployments only.
 */
export function metricsFromInputs(
  inputs: MetricInputs,
  days: number,
  calendarDays: number = Math.ceil(days),
): DoraMetrics {
  return {
    deployments: inputs.deployments,
    days,
    deploymentsPerDay: days === 0 ? 0 : inputs.deployments / days,
    // Both counts are of whole UTC days, and a day with a deploy is a day the window touches.
    deployDaysPerWeek:
      calendarDays === 0 ? 0 : (Math.min(inputs.deployDays, calendarDays) / calendarDays) * 7,
    leadTime: inputs.leadTime,
    changeFailureRate: rate(inputs.failed, inputs.attempts),
    failedDeploymentRecoveryTime: inputs.recovery,
    timeToRestore: inputs.restore,
    reworkRate: rate(inputs.rework, inputs.deployments),
  };
}

/** The UTC calendar days [from, to) touches, partly or wholly: what deploy days are out of. */
export function calendarDaysBetween(from: Date, to: Date): number {
  if (!(to.getTime() > from.getTime())) return 0;
  return Math.floor((to.getTime() - 1) / DAY) - Math.floor(from.getTime() / DAY) + 1;
}

/** Days in [from, to), never negative. */
export function daysBetween(from: Date, to: Date): number {
  return Math.max((to.getTime() - from.getTime()) / DAY, 0);
}

export interface BucketedMetrics extends DoraMetrics {
  bucket: string;
}
