/**
 * analysis — canary analysis: golden signals of the canary and stable tracks from Prometheus
 * (PromQL templates per signal), judged per interval by a pluggable judge (Mann-Whitney à la
 * Kayenta, or a fixed threshold), scored into pass / marginal / fail / inconclusive, and runs
 * kept in SQL so a restart resumes them and exactly one replica runs each. The deployer is
 * reached only through the {@link CanaryControl} interface this module defines.
 * See docs/canary-analysis.md for every rule and formula.
 */
export { createPrometheusClient } from './prometheus-client.js';
export { analysisSettingsSchema, type AnalysisSettings } from './schema.js';
export {
  cancelAnalyses,
  findAnalysis,
  listAnalyses,
  listIntervals,
  type Analysis,
  type AnalysisInterval,
} from './analysis-rows.js';
export { startAnalysis, defaultAnalysisSettings } from './start-analysis.js';
export {
  noCanaryControl,
  type CanaryControl,
  type CanaryRequest,
  type CanaryActionResult,
  type StepGate,
} from './canary-control.js';
export { createAnalysisRunner, type AnalysisRunner } from './analysis-runner.js';
