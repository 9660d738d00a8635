import { z } from 'zod';
import { notificationTargetSchema } from '../notify/index.js';

/**
 * The analysis settings as config and `POST /api/v1/analyses` give them. Ratios are canary mean
 * over stable mean (Kayenta's effect size): 1.1 allows a 10 % increase.
 */

/** Which change of a metric is bad: an increase (latency, errors), a decrease, or either. */
export const directionSchema = z.enum(['increase', 'decrease', 'either']);
export type Direction = z.infer<typeof directionSchema>;

export const judgeNameSchema = z.enum(['mann-whitney', 'threshold', 'sequential']);
export type JudgeName = z.infer<typeof judgeNameSchema>;

export const metricSpecSchema = z.strictObject({
  /** A built-in signal (`error-rate`, `latency-p95`, …) or any name with its own `query`. */
  name: z.string().min(1),
  /** PromQL template; a built-in's when absent. */
  query: z.string().min(1).optional(),
  group: z.string().min(1).default('default'),
  direction: directionSchema.default('increase'),
  /** A failure of a critical metric fails the interval whatever the score. */
  critical: z.boolean().default(false),
  /** Without data for this metric the interval is inconclusive (never a fail). */
  mustHaveData: z.boolean().default(false),
  /** Fewer samples than this on either track: the interval is inconclusive. */
  minSamples: z.number().int().min(1).default(5),
  allowedIncrease: z.number().min(1).default(1.1),
  allowedDecrease: z.number().positive().max(1).default(0.9),
  /**
   * The statistical judge first drops outliers outside [Q1 − 3·IQR, Q3 + 3·IQR] of each track
   * (Kayenta's outlier removal): one GC pause must not decide a mean ratio.
   */
  removeOutliers: z.boolean().default(false),
  /** Beyond these ratios the metric is a critical failure even when not marked critical. */
  criticalIncrease: z.number().min(1).optional(),
  criticalDecrease: z.number().positive().max(1).optional(),
  /**
   * The sequential judge's tolerance: a regression is canary − stable beyond `limit`
   * (absolute) or canary beyond (1 + limit) × stable (relative; 1 − limit for a decrease).
   * Without it: allowedIncrease − 1 and 1 − allowedDecrease, relative.
   */
  tolerance: z
    .strictObject({
      limit: z.number().nonnegative(),
      mode: z.enum(['absolute', 'relative']).default('relative'),
    })
    .optional(),
  /** The threshold judge's rule: canary − stable beyond `limit` (or limit × stable). */
  threshold: z
    .strictObject({
      limit: z.number().nonnegative(),
      mode: z.enum(['absolute', 'relative']).default('absolute'),
    })
    .optional(),
});
export type MetricSpec = z.infer<typeof metricSpecSchema>;
export type MetricSpecInput = z.input<typeof metricSpecSchema>;

export const analysisSpecSchema = z.strictObject({
  judge: judgeNameSchema.default('mann-whitney'),
  /**
   * The track the canary is judged against: `stable`, or `baseline` — stable's version started
   * at the canary's size beside it (the deployer's `baseline: true`), so pod age and warm
   * caches do not bias the comparison.
   */
  compareWith: z.enum(['stable', 'baseline']).default('stable'),
  intervalSeconds: z.number().positive().default(300),
  /** Passing intervals needed to promote: the duration is intervals × intervalSeconds. */
  intervals: z.number().int().min(1).max(1000).default(3),
  warmupSeconds: z.number().min(0).default(0),
  /** query_range step: one sample per step per track. */
  stepSeconds: z.number().positive().default(30),
  /**
   * What `{{interval}}` stands for: the range each sample's rate is taken over. Equal to the
   * step by default so samples do not overlap (the test assumes independent samples); it must
   * hold at least two scrapes.
   */
  sampleWindowSeconds: z.number().positive().default(30),
  /** Wait this long after an interval ends before querying it (the last scrape lands). */
  evaluationDelaySeconds: z.number().min(0).default(15),
  confidence: z.number().gt(0.5).lt(1).default(0.98),
  /**
   * The sequential judge's bound on the probability of ever rolling back a canary that is
   * within every metric's tolerance, over the whole analysis however often it looks; shared
   * equally among the metrics.
   */
  alpha: z.number().gt(0).lt(0.5).default(0.01),
  passScore: z.number().min(0).max(100).default(95),
  marginalScore: z.number().min(0).max(100).default(75),
  /** Failing intervals that roll the canary back. */
  failAfter: z.number().int().min(1).default(1),
  /** Inconclusive or marginal intervals tolerated before the analysis ends inconclusive. */
  maxInconclusive: z.number().int().min(0).default(5),
  /** At an inconclusive end: leave the canary for a person (hold) or roll it back. */
  onInconclusive: z.enum(['hold', 'rollback']).default('hold'),
  /** How long a held canary is left for a person before `afterHold` happens. */
  holdSeconds: z.number().positive().default(3600),
  /** After `holdSeconds`: roll the canary back, or keep holding it (until a person acts). */
  afterHold: z.enum(['rollback', 'hold']).default('rollback'),
  /** Group weights; a group not listed weighs 1. */
  groups: z.record(z.string().min(1), z.number().positive()).default({}),
  metrics: z.array(metricSpecSchema).min(1).optional(),
});
export type AnalysisSpec = z.infer<typeof analysisSpecSchema>;
export type AnalysisSpecInput = z.input<typeof analysisSpecSchema>;

/**
 * Settings that override others (config defaults, a service's, a request's): every key
 * optional and no defaults filled in, so a layer only says what it changes.
 */
export const analysisOverridesSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(analysisSpecSchema.shape).map(([key, field]) => [
      key,
      (field instanceof z.ZodDefault ? field.unwrap() : field).optional(),
    ]),
  ),
) as unknown as z.ZodType<Partial<AnalysisSpec>, Partial<AnalysisSpecInput>>;
export type AnalysisOverrides = z.infer<typeof analysisOverridesSchema>;

/** The config file's `analysis` section. */
export const analysisSettingsSchema = z.strictObject({
  /** The runner runs in `cadence serve` when a Prometheus URL is set and this is true. */
  enabled: z.boolean().default(true),
  prometheusUrl: z.url().optional(),
  queryTimeoutMs: z.number().int().positive().default(5000),
  pollIntervalMs: z.number().int().positive().default(1000),
  /** A replica's hold on an analysis; a dead replica's analyses are taken over after it. */
  leaseSeconds: z.number().positive().default(30),
  /** The environment verdicts are reported for (DORA). */
  environment: z.string().min(1).default('production'),
  /** Emit promote / failed-canary CDEvents into the intake (for DORA). */
  emitCdevents: z.boolean().default(true),
  defaults: analysisOverridesSchema.default({}),
  services: z
    .record(
      z.string().min(1),
      z.strictObject({
        namespace: z.string().min(1).optional(),
        /** PromQL templates overriding the built-in signals for this service. */
        queries: z.record(z.string().min(1), z.string().min(1)).default({}),
        analysis: analysisOverridesSchema.default({}),
      }),
    )
    .default({}),
  notifications: z.array(notificationTargetSchema).default([]),
});
export type AnalysisSettings = z.infer<typeof analysisSettingsSchema>;
