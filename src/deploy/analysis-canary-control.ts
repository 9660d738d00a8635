import type { CanaryActionResult, CanaryControl, CanaryRequest } from '../analysis/index.js';
import type { Deployer, DeployResult } from './deployer.js';
import type { TrafficSteps } from './traffic-steps.js';

/**
 * The deployer as the canary analysis's CanaryControl: a verdict promotes or removes the canary
 * the analysis judged, and nothing else. The calls may be repeated after a crash, so a canary
 * already gone (promoted or removed by the first call, or replaced by a newer canary) is "nothing
 * applied", never a rollback of stable; any other failure is thrown, for the runner to retry.
 */
export function analysisCanaryControl(deployer: Deployer, steps?: TrafficSteps): CanaryControl {
  // `recorded`: the deployer's promote emits its own `service.upgraded`, so the analysis must
  // not emit another; removing a canary counts only in `<environment>-canary`, so the analysis's
  // failed-canary event is the environment's only record of it.
  const outcome = (result: DeployResult, done: string, recorded: boolean): CanaryActionResult => {
    if (result.ok) {
      return {
        applied: true,
        detail: `${done} ${result.version} (operation ${result.operationId})`,
        ...(recorded ? { recorded: true } : {}),
      };
    }
    if (result.step === 'validate' && result.error.code === 'conflict') {
      // The deployer's check, inside its serialized operation: the canary was replaced or is gone.
      return {
        applied: false,
        gone: true,
        detail: `cancelled: canary replaced (${result.error.message})`,
      };
    }
    throw result.error;
  };
  // Without a revision the deployer would act on whatever canary runs now, which may not be the
  // one this analysis judged (issue 13): such an analysis ends without touching the cluster.
  const act =
    (operation: 'promote' | 'rollback', done: string, recorded: boolean) =>
    async (request: CanaryRequest): Promise<CanaryActionResult> => {
      if (!request.revision) {
        return {
          applied: false,
          detail: 'cancelled: the analysis names no canary revision, so it may not act on one',
        };
      }
      const result = await deployer[operation](request.service, `analysis:${request.analysisId}`, {
        canaryVersion: request.revision,
      });
      return outcome(result, done, recorded);
    };
  return {
    // Traffic steps (a service with a strategy): passing intervals move the canary's weight.
    ...(steps ? { gate: steps.gate } : {}),
    promote: act('promote', 'promoted', true),
    rollback: act('rollback', 'removed canary', false),
  };
}
