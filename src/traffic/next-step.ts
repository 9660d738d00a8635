import type { TrafficStrategy } from './schema.js';

/** Where a canary's traffic steps are (one row per service in SQL, see step-rows.ts). */
export interface StepState {
  service: string;
  /** The canary version these steps belong to; a new canary starts over. */
  version: string;
  step: number;
  stepStartedAt: Date;
  /** The last passing interval counted (`analysisId/index`): counting one twice is a no-op. */
  lastInterval: string | null;
  /** The last step passed: only promotion (and its confirmation) is left. */
  done: boolean;
  pausedBy: string | null;
  confirmedBy: string | null;
}

export interface PassingInterval {
  key: string;
  windowStart: Date;
}

export interface StepDecision {
  state: StepState;
  /** The weight the route must have now. */
  weight: number;
  /** Whether the analysis may promote now. */
  promote: boolean;
  /** Why not, or what changed, for the log and the analysis's reason. */
  detail: string;
}

const at = (date: Date) => date.toISOString();

/**
 * What a passing interval does to the steps (pure). It moves the canary to the next weight when
 * the interval was judged entirely at the current weight and the step's pause is over; after
 * the last step it lets the analysis promote, once confirmed when the strategy asks for it.
 * A pause stops both until resumed; a failing interval never reaches here (it rolls back).
 */
export function nextStep(
  state: StepState,
  strategy: Pick<TrafficStrategy, 'steps' | 'confirmPromotion'>,
  interval: PassingInterval,
  now: Date,
): StepDecision {
  const { steps } = strategy;
  const step = Math.min(state.step, steps.length - 1);
  const weight = steps[step]!.weight;
  const promotable = (current: StepState): StepDecision => {
    if (current.pausedBy) {
      return { state: current, weight, promote: false, detail: `paused by ${current.pausedBy}` };
    }
    if (strategy.confirmPromotion && !current.confirmedBy) {
      return {
        state: current,
        weight,
        promote: false,
        detail: `all ${steps.length} steps passed; waiting for a confirmation (cadence confirm ${state.service})`,
      };
    }
    return { state: current, weight, promote: true, detail: `all ${steps.length} steps passed` };
  };
  if (state.done) return promotable(state);
  const hold = (detail: string): StepDecision => ({ state, weight, promote: false, detail });
  if (state.pausedBy) return hold(`paused by ${state.pausedBy} at step ${step + 1} (${weight} %)`);
  if (state.lastInterval === interval.key) return hold(`interval ${interval.key} already counted`);
  if (interval.windowStart < state.stepStartedAt) {
    return hold(
      `step ${step + 1} (${weight} %) began at ${at(state.stepStartedAt)}, after this interval began`,
    );
  }
  const pauseEnds = new Date(state.stepStartedAt.getTime() + steps[step]!.pause * 1000);
  if (now < pauseEnds) return hold(`step ${step + 1} (${weight} %) holds until ${at(pauseEnds)}`);
  if (step < steps.length - 1) {
    const next = steps[step + 1]!.weight;
    return {
      state: { ...state, step: step + 1, stepStartedAt: now, lastInterval: interval.key },
      weight: next,
      promote: false,
      detail: `step ${step + 2} of ${steps.length}: canary at ${next} %`,
    };
  }
  return promotable({ ...state, done: true, lastInterval: interval.key });
}
