import type { DoraMetrics } from './metrics.js';

export type Tier = 'elite' | 'high' | 'medium' | 'low';
export type ReportYear = 2023 | 2024;
export const REPORT_YEARS: readonly ReportYear[] = [2023, 2024];

const HOUR = 3600;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;

/**
 * Band boundaries per DORA report. The reports publish performance clusters, not cut-offs;
 * these are Cadence's reading of them, written down in docs/metrics.md. A value at a boundary
 * falls in the better tier. `better: 'higher'` means a larger value is better.
 */
interface Bands {
  better: 'higher' | 'lower';
  /** Upper (or lower, for 'higher') limits of elite, high and medium; anything else is low. */
  limits: [elite: number, high: number, medium: number];
}

export const TIER_BANDS: Record<ReportYear, Record<TieredMetric, Bands>> = {
  2023: {
    // On demand (several a day) / daily to weekly / weekly to monthly / less often.
    deploymentFrequency: { better: 'higher', limits: [1, 1 / 7, 1 / 30] },
    // Less than a day / a day to a week / a week to a month / more.
    leadTime: { better: 'lower', limits: [DAY, WEEK, MONTH] },
    // Clusters at 5 %, 10 %, 15 % and 64 %.
    changeFailureRate: { better: 'lower', limits: [0.05, 0.1, 0.15] },
    // Less than an hour / less than a day / a day to a week / more.
    failedDeploymentRecoveryTime: { better: 'lower', limits: [HOUR, DAY, WEEK] },
  },
  2024: {
    deploymentFrequency: { better: 'higher', limits: [1, 1 / 7, 1 / 30] },
    leadTime: { better: 'lower', limits: [DAY, WEEK, MONTH] },
    // Clusters at 5 % (elite), 20 % (high), 10 % (medium), 40 % (low): medium is better than
    // high on this metric in the 2024 report. Cadence keeps tiers ordered and cuts halfway
    // between the sorted cluster values: 5 | 10 | 20 | 40 → 7.5 %, 15 %, 30 %.
    changeFailureRate: { better: 'lower', limits: [0.075, 0.15, 0.3] },
    // Less than an hour / less than a day / (medium also less than a day) / a week to a month.
    failedDeploymentRecoveryTime: { better: 'lower', limits: [HOUR, DAY, WEEK] },
  },
};

export type TieredMetric =
  'deploymentFrequency' | 'leadTime' | 'changeFailureRate' | 'failedDeploymentRecoveryTime';

export function tierOf(value: number | null, bands: Bands): Tier | null {
  if (value === null || Number.isNaN(value)) return null;
  const order: Tier[] = ['elite', 'high', 'medium'];
  for (const [index, limit] of bands.limits.entries()) {
    if (bands.better === 'higher' ? value >= limit : value <= limit) return order[index]!;
  }
  return 'low';
}

/**
 * Tier per metric for one report year. Frequency uses deployments per day; the time metrics
 * their median. Deployment rework rate has no published bands, so it gets no tier.
 */
export function classify(
  metrics: DoraMetrics,
  year: ReportYear,
): Record<TieredMetric, Tier | null> {
  const bands = TIER_BANDS[year];
  return {
    deploymentFrequency:
      metrics.deployments === 0
        ? null
        : tierOf(metrics.deploymentsPerDay, bands.deploymentFrequency),
    leadTime: tierOf(metrics.leadTime.median, bands.leadTime),
    changeFailureRate: tierOf(metrics.changeFailureRate.rate, bands.changeFailureRate),
    failedDeploymentRecoveryTime: tierOf(
      metrics.failedDeploymentRecoveryTime.median,
      bands.failedDeploymentRecoveryTime,
    ),
  };
}
