import { quantile } from '../statistics/index.js';
import type { MannWhitneyResult } from './mann-whitney.js';
import type { AnalysisSpec, JudgeName, MetricSpec } from './schema.js';

/**
 * What a judge says about one metric in one interval. `high`/`low` are failures (the metric's
 * direction already applied); `nodata` and `insufficient` are not failures, they are missing
 * evidence.
 */
export type Classification = 'pass' | 'high' | 'low' | 'nodata' | 'insufficient';

export type Verdict = 'pass' | 'marginal' | 'fail' | 'inconclusive';

export interface SampleSummary {
  count: number;
  mean: number | null;
  median: number | null;
}

export interface MetricJudgement {
  metric: string;
  group: string;
  classification: Classification;
  /** A failure that fails the interval whatever the score. */
  criticalFailure: boolean;
  /** Why, in a sentence. */
  reason: string;
  canary: SampleSummary;
  stable: SampleSummary;
  /** Effect size: canary mean / stable mean (null without data or with a zero stable mean and zero canary mean). */
  ratio: number | null;
  /** canary mean − stable mean. */
  difference: number | null;
  /** The statistical judge's test, when it ran. */
  test?: MannWhitneyResult;
}

export interface IntervalJudgement {
  judge: JudgeName;
  verdict: Verdict;
  /** 0–100, null when nothing could be scored. */
  score: number | null;
  metrics: MetricJudgement[];
  /** What was missing for a verdict (inconclusive), one sentence each. */
  missing: string[];
}

/** Samples of one metric for both tracks. NaN and ±Infinity are dropped before judging. */
export interface MetricSamples {
  canary: readonly number[];
  stable: readonly number[];
}

/** What a judge is told beside a metric's spec and samples. */
export interface JudgeSettings extends Pick<AnalysisSpec, 'confidence'> {
  /** The sequential judge's alpha for this metric: its share of the analysis's `alpha`. */
  alpha?: number;
}

/** A judge of one metric: a pure function of its spec and samples. */
export interface Judge {
  readonly name: JudgeName;
  /**
   * Which samples the judge is given each interval: that interval's (the default), or every
   * sample since the first interval began (a sequential test accumulates its evidence).
   */
  readonly window?: 'interval' | 'analysis';
  judgeMetric(spec: MetricSpec, samples: MetricSamples, settings: JudgeSettings): MetricJudgement;
}

export function summarize(values: readonly number[]): SampleSummary {
  if (values.length === 0) return { count: 0, mean: null, median: null };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return {
    count: values.length,
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    median: sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2,
  };
}

/** Canary mean / stable mean; 1 when both are 0, Infinity when only stable is 0. */
export function meanRatio(canary: SampleSummary, stable: SampleSummary): number | null {
  if (canary.mean === null || stable.mean === null) return null;
  if (stable.mean === 0) return canary.mean === 0 ? 1 : canary.mean > 0 ? Infinity : -Infinity;
  return canary.mean / stable.mean;
}

/**
 * Values outside [Q1 − factor·IQR, Q3 + factor·IQR] removed, the quartiles type 7 (the quantile
 * the metrics use); fewer than 4 values are kept.
 */
export function withoutOutliers(values: readonly number[], factor = 3): number[] {
  if (values.length < 4) return [...values];
  const q1 = quantile(values, 0.25)!;
  const q3 = quantile(values, 0.75)!;
  const spread = factor * (q3 - q1);
  return values.filter((value) => value >= q1 - spread && value <= q3 + spread);
}

/**
 * The part of a judgement every judge fills the same way, and the no-data cases. Non-finite
 * values (NaN: a window without traffic) are dropped; outliers too when asked.
 */
export function judgementBase(
  spec: MetricSpec,
  samples: MetricSamples,
  options: { removeOutliers?: boolean } = {},
): {
  values: { canary: number[]; stable: number[] };
  base: Omit<MetricJudgement, 'classification' | 'reason' | 'criticalFailure'>;
  missing?: MetricJudgement;
} {
  const clean = (values: readonly number[]) => {
    const finite = values.filter(Number.isFinite);
    return options.removeOutliers ? withoutOutliers(finite) : finite;
  };
  const canaryValues = clean(samples.canary);
  const stableValues = clean(samples.stable);
  const canary = summarize(canaryValues);
  const stable = summarize(stableValues);
  const base = {
    metric: spec.name,
    group: spec.group,
    canary,
    stable,
    ratio: meanRatio(canary, stable),
    difference: canary.mean !== null && stable.mean !== null ? canary.mean - stable.mean : null,
  };
  const short = [
    canary.count < spec.minSamples ? `canary has ${canary.count}` : undefined,
    stable.count < spec.minSamples ? `stable has ${stable.count}` : undefined,
  ].filter(Boolean);
  const values = { canary: canaryValues, stable: stableValues };
  if (short.length === 0) return { base, values };
  const none = canary.count === 0 || stable.count === 0;
  return {
    base,
    values,
    missing: {
      ...base,
      classification: none ? 'nodata' : 'insufficient',
      criticalFailure: false,
      reason: `${short.join(' and ')} of the ${spec.minSamples} samples needed`,
    },
  };
}

/** Applies a metric's direction: a change the metric does not care about passes. */
export function directed(
  spec: MetricSpec,
  change: 'high' | 'low',
): { classification: Classification; ignored: boolean } {
  if (spec.direction === 'either') return { classification: change, ignored: false };
  if (spec.direction === 'increase' && change === 'low')
    return { classification: 'pass', ignored: true };
  if (spec.direction === 'decrease' && change === 'high')
    return { classification: 'pass', ignored: true };
  return { classification: change, ignored: false };
}

/**
 * Whether the canary/stable ratio is past the metric's critical bound in the change's direction
 * (`criticalIncrease` above, `criticalDecrease` below): a critical failure whatever the score.
 */
export function beyondCritical(spec: MetricSpec, change: 'high' | 'low', ratio: number): boolean {
  return change === 'high'
    ? spec.criticalIncrease !== undefined && ratio > spec.criticalIncrease
    : spec.criticalDecrease !== undefined && ratio < spec.criticalDecrease;
}
