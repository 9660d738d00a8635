import type { CanaryRequest, StepGate } from '../analysis/index.js';
import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import {
  nextStep,
  readSteps,
  setConfirmed,
  setPaused,
  stepsFor,
  writeSteps,
  type StepState,
  type TrafficStrategy,
} from '../traffic/index.js';
import type { Deployer } from './deployer.js';
import { matchesCanary } from './promote-rollback.js';

/** Where a service's canary is in its steps, for `GET …/steps` and `cadence steps`. */
export interface StepsReport {
  service: string;
  canary: string | null;
  steps: { weight: number; pauseSeconds: number }[];
  /** 1-based; null without a canary. */
  step: number | null;
  weight: number;
  done: boolean;
  pausedBy: string | null;
  confirmPromotion: boolean;
  confirmedBy: string | null;
  stepStartedAt: string | null;
}

export interface TrafficSteps {
  /** The analysis's gate: a passing interval moves the steps; promote only after the last. */
  gate: StepGate;
  report(service: string): Promise<StepsReport>;
  pause(service: string, actor: string): Promise<StepsReport>;
  resume(service: string, actor: string): Promise<StepsReport>;
  confirm(service: string, actor: string): Promise<StepsReport>;
}

/**
 * The traffic steps of the deployer's services: their state in SQL (migration 020), moved by
 * the canary analysis's passing intervals and by people (pause, resume, confirm). Every
 * replica may run it: a step is stored over the state it was decided from (the first write
 * wins), after its weight was applied (server-side apply: the same weight twice is harmless).
 */
export function createTrafficSteps(options: { store: Store; deployer: Deployer }): TrafficSteps {
  const { store, deployer } = options;

  const strategyOf = (service: string): TrafficStrategy | undefined =>
    deployer.settingsOf(service).strategy;

  /** The running canary's steps, created at step 0 for a new canary. */
  async function current(service: string) {
    const strategy = strategyOf(service);
    const { canary } = await deployer.version(service);
    if (!strategy || !canary) return { strategy, canary, state: undefined };
    const state = await stepsFor(store, service, canary.version, new Date(canary.at));
    return { strategy, canary, state };
  }

  function report(
    service: string,
    strategy: TrafficStrategy | undefined,
    state: StepState | undefined,
  ): StepsReport {
    const steps = (strategy?.steps ?? []).map((step) => ({
      weight: step.weight,
      pauseSeconds: step.pause,
    }));
    return {
      service,
      canary: state?.version ?? null,
      steps,
      step: state ? state.step + 1 : null,
      weight: state ? (steps[state.step]?.weight ?? 0) : 0,
      done: state?.done ?? false,
      pausedBy: state?.pausedBy ?? null,
      confirmPromotion: strategy?.confirmPromotion ?? false,
      confirmedBy: state?.confirmedBy ?? null,
      stepStartedAt: state?.stepStartedAt.toISOString() ?? null,
    };
  }

  /** The canary a person acts on: refused, naming the field, when there is none or no steps. */
  async function acting(service: string) {
    const found = await current(service);
    if (!found.strategy) {
      throw new CadenceError('conflict', {
        field: 'strategy',
        detail: `service ${service} has no traffic steps (deployer.services.${service}.strategy)`,
      });
    }
    if (!found.canary || !found.state) {
      throw new CadenceError('conflict', {
        field: 'service',
        detail: `service ${service} has no canary`,
      });
    }
    return { ...found, state: found.state, canary: found.canary };
  }

  return {
    async gate(request: CanaryRequest, interval, now) {
      // Only an analysis bound to a canary revision of a service the deployer runs moves
      // weights; any other goes on to the promotion, which refuses or cancels it as it would
      // without steps (an unbound analysis may not act on whatever canary runs now).
      const wanted = request.revision;
      if (!wanted || !deployer.services().includes(request.service)) {
        return { promote: true, detail: 'no traffic steps' };
      }
      const strategy = strategyOf(request.service);
      if (!strategy) return { promote: true, detail: 'no traffic steps' };
      const { canary } = await deployer.version(request.service);
      // No canary, or another one: the promotion that follows finds it gone and cancels.
      if (!canary || !matchesCanary(canary, wanted)) {
        return { promote: true, detail: 'canary gone' };
      }
      const state = await stepsFor(store, request.service, canary.version, new Date(canary.at));
      const decision = nextStep(
        state,
        strategy,
        { key: `${request.analysisId}/${interval.index}`, windowStart: interval.windowStart },
        now,
      );
      if (decision.state !== state) {
        // The weight first, then the row: a failed shift leaves the row at the old step, so the
        // retried interval decides (and shifts) again; the same shift twice is one SSA.
        if (decision.state.step !== state.step) {
          await deployer.shiftCanary(request.service, decision.weight, {
            canaryVersion: canary.version,
          });
        }
        await writeSteps(store, state, decision.state);
      }
      return { promote: decision.promote, detail: decision.detail };
    },
    async report(service) {
      const { strategy, state } = await current(service);
      return report(service, strategy, state);
    },
    async pause(service, actor) {
      const { strategy, canary } = await acting(service);
      await setPaused(store, service, canary.version, actor);
      return report(service, strategy, await readSteps(store, service));
    },
    async resume(service) {
      const { strategy, canary } = await acting(service);
      await setPaused(store, service, canary.version, null);
      return report(service, strategy, await readSteps(store, service));
    },
    async confirm(service, actor) {
      const { strategy, canary } = await acting(service);
      await setConfirmed(store, service, canary.version, actor);
      return report(service, strategy, await readSteps(store, service));
    },
  };
}
