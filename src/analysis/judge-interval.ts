import type { IntervalJudgement, Judge, MetricJudgement, MetricSamples } from './judgement.js';
import { mannWhitneyJudge } from './mann-whitney-judge.js';
import type { AnalysisSpec, JudgeName, MetricSpec } from './schema.js';
import { DEFAULT_SEQUENTIAL_ALPHA, sequentialJudge } from './sequential-judge.js';
import { thresholdJudge } from './threshold-judge.js';

/** The judges by name: the `judge` of an analysis picks one. */
export const judges: Record<JudgeName, Judge> = {
  'mann-whitney': mannWhitneyJudge,
  threshold: thresholdJudge,
  sequential: sequentialJudge,
};

/**
 * Scores an interval from its metric judgements, Kayenta-style:
 * 1. a critical failure fails the interval (score 0);
 * 2. missing evidence makes it inconclusive: a metric below its minimum samples, a
 *    must-have-data metric without data, or no metric with data at all;
 * 3. otherwise each group scores passed / judged × 100, the score is the weighted mean of the
 *    groups' scores (weight 1 unless `groups` says otherwise), and the verdict is pass at
 *    ≥ passScore, marginal at ≥ marginalScore, else fail.
 */
export function scoreInterval(
  judge: JudgeName,
  metrics: readonly MetricJudgement[],
  specs: readonly MetricSpec[],
  settings: Pick<AnalysisSpec, 'passScore' | 'marginalScore' | 'groups'>,
): IntervalJudgement {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const result = (
    verdict: IntervalJudgement['verdict'],
    score: number | null,
    missing: string[] = [],
  ) => ({
    judge,
    verdict,
    score,
    metrics: [...metrics],
    missing,
  });
  const critical = metrics.filter((metric) => metric.criticalFailure);
  if (critical.length > 0) return result('fail', 0);

  const missing = metrics.flatMap((metric) => {
    if (metric.classification === 'insufficient') return [`${metric.metric}: ${metric.reason}`];
    if (metric.classification === 'nodata' && byName.get(metric.metric)?.mustHaveData)
      return [`${metric.metric}: no data, and the metric must have data`];
    return [];
  });
  const judged = metrics.filter((metric) =>
    ['pass', 'high', 'low'].includes(metric.classification),
  );
  if (judged.length === 0 && missing.length === 0)
    missing.push('no metric had data on both tracks');
  if (missing.length > 0) return result('inconclusive', null, missing);

  const groups = new Map<string, { passed: number; judged: number }>();
  for (const metric of judged) {
    const group = groups.get(metric.group) ?? { passed: 0, judged: 0 };
    group.judged += 1;
    if (metric.classification === 'pass') group.passed += 1;
    groups.set(metric.group, group);
  }
  let weighted = 0;
  let weights = 0;
  for (const [name, group] of groups) {
    const weight = settings.groups[name] ?? 1;
    weighted += weight * ((group.passed / group.judged) * 100);
    weights += weight;
  }
  const score = weighted / weights;
  const verdict =
    score >= settings.passScore ? 'pass' : score >= settings.marginalScore ? 'marginal' : 'fail';
  return result(verdict, score);
}

/**
 * Judges one interval: each metric by the named judge, then {@link scoreInterval}.
 * Pure: the same samples always give the same judgement.
 *
 * @example judgeInterval(spec, metrics, new Map([['error-rate', { canary: [0.1], stable: [0] }]]))
 */
export function judgeInterval(
  spec: Pick<AnalysisSpec, 'judge' | 'confidence' | 'passScore' | 'marginalScore' | 'groups'> &
    Partial<Pick<AnalysisSpec, 'alpha'>>,
  metrics: readonly MetricSpec[],
  samples: ReadonlyMap<string, MetricSamples>,
): IntervalJudgement {
  const judge = judges[spec.judge];
  // Bonferroni: each metric gets an equal share, so the analysis as a whole keeps its alpha.
  const settings = {
    confidence: spec.confidence,
    alpha: (spec.alpha ?? DEFAULT_SEQUENTIAL_ALPHA) / Math.max(1, metrics.length),
  };
  const judgements = metrics.map((metric) =>
    judge.judgeMetric(metric, samples.get(metric.name) ?? { canary: [], stable: [] }, settings),
  );
  return scoreInterval(spec.judge, judgements, metrics, spec);
}
