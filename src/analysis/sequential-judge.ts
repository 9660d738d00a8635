import {
  beyondCritical,
  directed,
  judgementBase,
  type Judge,
  type MetricJudgement,
} from './judgement.js';
import type { MetricSpec } from './schema.js';
import { round } from './threshold-judge.js';

/**
 * The sequential judge: an anytime-valid test in the spirit of Lindon, Sanden & Shirikian
 * ("Rapid Regression Detection in Software Deployments through Sequential Testing", KDD 2022)
 * and of the mixture SPRT of Johari et al. ("Always valid inference", 2017). It judges ALL the
 * samples since the analysis began (its `window` is the analysis), every interval; the chance
 * that it ever rolls back a canary no worse than stable, and the chance that it ever promotes one
 * worse by the tolerance, each stay below alpha however often it looks. See docs/canary-analysis.md ("Sequential judge") for the formulas.
 */

/** A confidence sequence's value at one look: the estimate and the radius around it. */
export interface ConfidenceSequence {
  estimate: number;
  /** Var(estimate), from the sample variances (the plug-in of the time-uniform CLT). */
  variance: number;
  radius: number;
  lower: number;
  upper: number;
}

/**
 * The radius of the normal-mixture confidence sequence for an estimate with variance `variance`,
 * mixing over effects N(0, mixtureVariance): the set of θ whose mixture likelihood ratio
 * √(V/(V+τ²))·exp((θ̂−θ)²τ²/(2V(V+τ²))) stays below 1/α, i.e.
 * r = √( V(V+τ²)/τ² · ln((V+τ²)/(V·α²)) ). Ville's inequality bounds by α the chance that θ ever
 * leaves it. A zero variance (identical samples) has radius 0.
 *
 * @example mixtureRadius(1, 1, Math.exp(-1)) // √(2 · ln 2e²) = √(2·(ln 2 + 2)) ≈ 2.33
 */
export function mixtureRadius(variance: number, mixtureVariance: number, alpha: number): number {
  if (variance === 0) return 0;
  const spread = variance + mixtureVariance;
  return Math.sqrt(
    ((variance * spread) / mixtureVariance) * Math.log(spread / (variance * alpha * alpha)),
  );
}

function meanAndVariance(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { mean, variance: values.length > 1 ? squares / (values.length - 1) : 0 };
}

/**
 * The confidence sequence for the contrast θ = mean(canary) − scale·mean(stable) − shift, at
 * level α: θ̂ from the sample means, Var(θ̂) = s²_c/n_c + scale²·s²_s/n_s.
 *
 * @example contrastSequence([2, 4], [1, 3], { scale: 1, shift: 0, mixtureVariance: 1, alpha: 0.05 })
 */
export function contrastSequence(
  canary: readonly number[],
  stable: readonly number[],
  contrast: { scale: number; shift: number; mixtureVariance: number; alpha: number },
): ConfidenceSequence {
  const c = meanAndVariance(canary);
  const s = meanAndVariance(stable);
  const estimate = c.mean - contrast.scale * s.mean - contrast.shift;
  const variance =
    c.variance / canary.length + (contrast.scale * contrast.scale * s.variance) / stable.length;
  const radius = mixtureRadius(variance, contrast.mixtureVariance, contrast.alpha);
  return { estimate, variance, radius, lower: estimate - radius, upper: estimate + radius };
}

/** Where a regression begins for one side of a metric: beyond `limit` (absolute) or `limit` × stable (relative). */
export interface Tolerance {
  limit: number;
  mode: 'absolute' | 'relative';
}

/** The metric's tolerance per side: its own, else allowedIncrease − 1 / 1 − allowedDecrease, relative. */
export function tolerances(spec: MetricSpec): { increase: Tolerance; decrease: Tolerance } {
  if (spec.tolerance) return { increase: spec.tolerance, decrease: spec.tolerance };
  return {
    increase: { limit: spec.allowedIncrease - 1, mode: 'relative' },
    decrease: { limit: 1 - spec.allowedDecrease, mode: 'relative' },
  };
}

export type SequentialDecision = 'regression' | 'within' | 'undecided';

/**
 * One side of a metric, with two confidence sequences on the samples so far (the decrease side
 * is the increase side of the negated samples):
 * - the change, Δ = c − s: a regression when the whole sequence is above 0 (the canary is
 *   worse, anytime-valid) AND the estimate is past the tolerance (a significant change inside
 *   the tolerance, such as one pod on a slower node, is not rolled back);
 * - the excess over the tolerance, θ = c − (1+δ)·s (relative) or c − s − δ (absolute): within
 *   when the whole sequence is below 0 (a regression beyond the tolerance is excluded).
 * Otherwise undecided. The mixture is scaled to the tolerance (τ = δ·|mean(stable)|, or δ) so
 * its weight sits on changes of the size that matters; a zero tolerance uses τ² = Var.
 */
export function judgeSide(
  canary: readonly number[],
  stable: readonly number[],
  side: 'increase' | 'decrease',
  tolerance: Tolerance,
  alpha: number,
): { decision: SequentialDecision; change: ConfidenceSequence; excess: ConfidenceSequence } {
  const flip = (values: readonly number[]) =>
    side === 'increase' ? values : values.map((v) => -v);
  const c = flip(canary);
  const s = flip(stable);
  const stableMean = stable.reduce((sum, value) => sum + value, 0) / stable.length;
  const relative = tolerance.mode === 'relative';
  const effect = relative ? tolerance.limit * Math.abs(stableMean) : tolerance.limit;
  const sequence = (scale: number, shift: number) => {
    const first = contrastSequence(c, s, {
      scale,
      shift,
      mixtureVariance: effect > 0 ? effect * effect : 1,
      alpha,
    });
    if (effect > 0 || first.variance === 0) return first;
    const radius = mixtureRadius(first.variance, first.variance, alpha);
    return { ...first, radius, lower: first.estimate - radius, upper: first.estimate + radius };
  };
  const change = sequence(1, 0);
  const excess = relative
    ? sequence(1 + (side === 'increase' ? 1 : -1) * tolerance.limit, 0)
    : sequence(1, tolerance.limit);
  const decision =
    change.lower > 0 && excess.estimate > 0
      ? 'regression'
      : excess.upper < 0 || (excess.variance === 0 && excess.estimate <= 0)
        ? 'within'
        : 'undecided';
  return { decision, change, excess };
}

/** The analysis alpha when a caller gives none (a metric's share is set by judgeInterval). */
export const DEFAULT_SEQUENTIAL_ALPHA = 0.01;

export const sequentialJudge: Judge = {
  name: 'sequential',
  window: 'analysis',
  judgeMetric(spec, samples, settings) {
    const { base, values, missing } = judgementBase(spec, samples, {
      removeOutliers: spec.removeOutliers,
    });
    if (missing) return missing;
    const sides =
      spec.direction === 'either'
        ? (['increase', 'decrease'] as const)
        : spec.direction === 'increase'
          ? (['increase'] as const)
          : (['decrease'] as const);
    // Both sides of an `either` metric share its alpha.
    const alpha = (settings.alpha ?? DEFAULT_SEQUENTIAL_ALPHA) / sides.length;
    const tolerance = tolerances(spec);
    const judged = sides.map((side) => ({
      side,
      tolerance: tolerance[side],
      ...judgeSide(values.canary, values.stable, side, tolerance[side], alpha),
    }));
    const described = judged
      .map(
        ({ side, tolerance: t, change, excess }) =>
          `${side}: Δ ${round(change.estimate)} [${round(change.lower)}, ${round(change.upper)}], past ${t.mode === 'relative' ? `${round(t.limit * 100)} %` : round(t.limit)} θ ${round(excess.estimate)} [${round(excess.lower)}, ${round(excess.upper)}]`,
      )
      .join('; ');
    const looked = `${values.canary.length} canary / ${values.stable.length} stable samples, α ${round(alpha)}`;
    const regression = judged.find((side) => side.decision === 'regression');
    if (regression) {
      const change = regression.side === 'increase' ? 'high' : 'low';
      const { classification, ignored } = directed(spec, change);
      const critical = beyondCritical(spec, change, base.ratio ?? 0);
      return {
        ...base,
        classification,
        criticalFailure: !ignored && (spec.critical || critical),
        reason: `${described} (${looked}): a regression, past the tolerance${critical ? ' (critical)' : ''}`,
      } satisfies MetricJudgement;
    }
    if (judged.every((side) => side.decision === 'within')) {
      return {
        ...base,
        classification: 'pass',
        criticalFailure: false,
        reason: `${described} (${looked}): the confidence sequence excludes a regression beyond the tolerance`,
      };
    }
    // Holding is missing evidence, not a verdict: the interval is inconclusive and the next
    // one looks again at more data.
    return {
      ...base,
      classification: 'insufficient',
      criticalFailure: false,
      reason: `${described} (${looked}): undecided, neither a regression nor excluded beyond the tolerance yet`,
    };
  },
};
