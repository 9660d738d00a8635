/**
 * What the analysis needs from the deployer: promote the canary (its version becomes stable,
 * the canary is removed) or roll it back (canary removed, stable untouched). The deployer
 * implements it; the analysis never talks to Kubernetes itself. Both may be called again for
 * the same analysis after a crash between the call and its record, so they must be idempotent.
 */
export interface CanaryRequest {
  service: string;
  namespace: string;
  analysisId: string;
  /** The canary's version (commit or tag), when the analysis knows it. */
  revision?: string;
}

export interface CanaryActionResult {
  /** Whether anything was changed in the cluster. */
  applied: boolean;
  /** What was done, for the analysis report. */
  detail: string;
  /**
   * The control recorded this change in the delivery record itself (the deployer's promote
   * emits its own `service.upgraded`), so the verdict's CDEvent would count it twice.
   */
  recorded?: boolean;
  /**
   * The canary the analysis judged is not there any more: promoted or removed by hand, or
   * replaced by another. The analysis ends `cancelled` and records nothing (the operation that
   * ended the canary is the record).
   */
  gone?: boolean;
}

/**
 * Asked after each passing interval (traffic steps): the pass may move the canary to its next
 * weight, and the analysis promotes only when the gate says so — after the last step, unpaused,
 * confirmed when that is asked for. Until then it keeps judging (a failing interval still rolls
 * back). Called again for the same interval after a crash: it must count it once.
 */
export type StepGate = (
  request: CanaryRequest,
  interval: { index: number; windowStart: Date },
  now: Date,
) => Promise<{ promote: boolean; detail: string }>;

export interface CanaryControl {
  promote(request: CanaryRequest): Promise<CanaryActionResult>;
  rollback(request: CanaryRequest & { reason: string }): Promise<CanaryActionResult>;
  gate?: StepGate;
}

/**
 * The control used when no deployer is wired in: it changes nothing and says so, so an
 * analysis still reaches and reports its verdict.
 */
export const noCanaryControl: CanaryControl = {
  promote: () =>
    Promise.resolve({ applied: false, detail: 'no deployer is connected: nothing was promoted' }),
  rollback: () =>
    Promise.resolve({
      applied: false,
      detail: 'no deployer is connected: nothing was rolled back',
    }),
};
