import { directed, judgementBase, type Judge } from './judgement.js';

/**
 * The simple rule: the canary fails a metric when canary − stable (of the interval's means)
 * is beyond the metric's limit in the bad direction; `relative` limits are a fraction of the
 * stable mean. A metric without a threshold passes (it is not this judge's to decide).
 *
 * @example threshold { limit: 0.01, mode: absolute } on error-rate: 2.5 % vs 1 % fails.
 */
export const thresholdJudge: Judge = {
  name: 'threshold',
  judgeMetric(spec, samples) {
    const { base, missing } = judgementBase(spec, samples);
    if (missing) return missing;
    const threshold = spec.threshold;
    if (!threshold) {
      return {
        ...base,
        classification: 'pass',
        criticalFailure: false,
        reason: 'no threshold set',
      };
    }
    const difference = base.difference!;
    const limit =
      threshold.mode === 'absolute'
        ? threshold.limit
        : threshold.limit * Math.abs(base.stable.mean!);
    const change = difference > limit ? 'high' : difference < -limit ? 'low' : undefined;
    const shown = `canary − stable = ${round(difference)} (limit ±${round(limit)})`;
    if (!change) {
      return {
        ...base,
        classification: 'pass',
        criticalFailure: false,
        reason: `${shown}: within`,
      };
    }
    const { classification, ignored } = directed(spec, change);
    return {
      ...base,
      classification,
      criticalFailure: !ignored && spec.critical,
      reason: ignored
        ? `${shown}: beyond, in the direction that is not judged`
        : `${shown}: beyond`,
    };
  },
};

export const round = (value: number) => Number(value.toPrecision(4));
