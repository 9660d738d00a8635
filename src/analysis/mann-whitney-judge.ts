import { beyondCritical, directed, judgementBase, type Judge } from './judgement.js';
import { mannWhitneyTest, smallestPValue } from './mann-whitney.js';
import { round } from './threshold-judge.js';

/**
 * Kayenta's NetflixACAClassifier rule per metric (after dropping outliers if the metric asks):
 * a two-sided Mann-Whitney U test of canary
 * against stable at the analysis confidence (0.98 by default). No significant difference →
 * pass. A significant one fails only if the effect size (canary mean / stable mean) is outside
 * [allowedDecrease, allowedIncrease], in the direction the metric judges; beyond
 * criticalIncrease / criticalDecrease it is a critical failure.
 */
export const mannWhitneyJudge: Judge = {
  name: 'mann-whitney',
  judgeMetric(spec, samples, settings) {
    const { base, values, missing } = judgementBase(spec, samples, {
      removeOutliers: spec.removeOutliers,
    });
    if (missing) return missing;
    const alpha = 1 - settings.confidence;
    const floor = smallestPValue(values.canary.length, values.stable.length);
    if (floor >= alpha) {
      // Without power a pass would mean nothing: this is missing evidence, not a verdict.
      return {
        ...base,
        classification: 'insufficient',
        criticalFailure: false,
        reason: `${values.canary.length} against ${values.stable.length} samples can never be significant at ${settings.confidence} (smallest p ${round(floor)})`,
      };
    }
    const test = mannWhitneyTest(values.canary, values.stable, {
      confidence: settings.confidence,
    });
    const ratio = base.ratio!;
    const described = `p = ${round(test.pValue)}, shift ${round(test.estimate)} [${round(test.interval[0])}, ${round(test.interval[1])}], ratio ${round(ratio)}`;
    if (test.pValue >= alpha || test.z === 0) {
      return {
        ...base,
        test,
        classification: 'pass',
        criticalFailure: false,
        reason: `${described}: no significant difference`,
      };
    }
    const change = test.z > 0 ? 'high' : 'low';
    const tolerated =
      change === 'high' ? ratio <= spec.allowedIncrease : ratio >= spec.allowedDecrease;
    if (tolerated) {
      return {
        ...base,
        test,
        classification: 'pass',
        criticalFailure: false,
        reason: `${described}: significant, within the allowed effect size`,
      };
    }
    const { classification, ignored } = directed(spec, change);
    const critical = beyondCritical(spec, change, ratio);
    return {
      ...base,
      test,
      classification,
      criticalFailure: !ignored && (spec.critical || critical),
      reason: ignored
        ? `${described}: significant ${change === 'high' ? 'increase' : 'decrease'}, not judged for this metric`
        : `${described}: significant ${change === 'high' ? 'increase' : 'decrease'} beyond the allowed effect size${critical ? ' (critical)' : ''}`,
    };
  },
};
