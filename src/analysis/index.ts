/**
 * analysis — canary analysis: golden signals of the canary and stable tracks from Prometheus
 * (PromQL templates per signal), judged per interval by a pluggable judge (Mann-Whitney à la
 * Kayenta, or a fixed threshold), scored into pass / marginal / fail / inconclusive, and runs
 * kept in SQL so a restart resumes them and exactly one replica runs each. The deployer is
 * reached only through the {@link CanaryControl} interface this module defines.
 * See docs/canary-analysis.md for every rule and formula.
 */
export { normalCdf, normalQuantile } from './normal-distribution.js';
export { mannWhitneyTest, smallestPValue, type MannWhitneyResult } from './mann-whitney.js';
export type {
  Classification,
  Verdict,
  MetricJudgement,
  IntervalJudgement,
  MetricSamples,
  Judge,
  JudgeSettings,
  SampleSummary,
} from './judgement.js';
export { thresholdJudge } from './threshold-judge.js';
export { mannWhitneyJudge } from './mann-whitney-judge.js';
export {
  sequentialJudge,
  contrastSequence,
  mixtureRadius,
  judgeSide,
  tolerances,
  type ConfidenceSequence,
  type SequentialDecision,
  type Tolerance,
} from './sequential-judge.js';
export { judges, judgeInterval, scoreInterval } from './judge-interval.js';
export {
  analysisSpecSchema,
  analysisOverridesSchema,
  type AnalysisOverrides,
  metricSpecSchema,
  directionSchema,
  judgeNameSchema,
  type AnalysisSpec,
  type AnalysisSpecInput,
  type MetricSpec,
  type MetricSpecInput,
  type Direction,
  type JudgeName,
} from './schema.js';
export {
  builtinQueries,
  defaultMetrics,
  renderQuery,
  resolveMetrics,
  promDuration,
  type BuiltinSignal,
} from './metric-queries.js';
export {
  createPrometheusClient,
  type PrometheusClient,
  type PrometheusOutcome,
  type PromPoint,
} from './prometheus-client.js';
export {
  analysisSettingsSchema,
  notificationTargetSchema,
  type AnalysisSettings,
  type NotificationTarget,
} from './schema.js';
export {
  cancelAnalyses,
  findAnalysis,
  listAnalyses,
  listIntervals,
  type Analysis,
  type AnalysisInterval,
  type AnalysisStatus,
  type AnalysisVerdict,
  type IntervalSamples,
  type IntervalTraffic,
  type ResolvedAnalysisSpec,
} from './analysis-rows.js';
export {
  startAnalysis,
  planAnalysis,
  startAnalysisRequestSchema,
  defaultAnalysisSettings,
  type StartAnalysisRequest,
} from './start-analysis.js';
export { nextProgress, type Progress } from './analysis-progress.js';
export { evaluateInterval, intervalWindow } from './evaluate-interval.js';
export {
  noCanaryControl,
  type CanaryControl,
  type CanaryRequest,
  type CanaryActionResult,
  type StepGate,
} from './canary-control.js';
export {
  createAnalysisRunner,
  type AnalysisRunner,
  type AnalysisRunnerOptions,
} from './analysis-runner.js';
export { verdictCloudEvent, ANALYSIS_SOURCE } from './verdict-cdevent.js';
export {
  createVerdictNotifiers,
  slackMessage,
  verdictNotice,
  type VerdictNotice,
  type VerdictNotifier,
} from './verdict-notifiers.js';
