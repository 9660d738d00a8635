import type { Intake } from '../events/index.js';
import { CadenceError } from '../problem/index.js';
import type { Notifier } from '../notify/index.js';
import { auditFailure, auditSuccess } from './deploy-audit.js';
import { readServiceState, writeServiceState } from './deploy-rows.js';
import { objectRef } from './manifest-rewrite.js';
import type {
  DeployContext,
  DeployOperation,
  DeployRef,
  DeployResult,
  OperationPlan,
  OperationPlanner,
} from './operation-plan.js';
import type { ServiceQueue } from './service-lease.js';

/** Runs one operation: `run('deploy', 'web', 'ci', ref, planner)`. */
export type OperationRunner = (
  operation: DeployOperation,
  service: string,
  actor: string,
  ref: DeployRef,
  plan: OperationPlanner,
  notify?: boolean,
) => Promise<DeployResult>;

/**
 * One operation, serialized per service: plan (validation) → dry-run of every change, so a bad
 * manifest changes nothing → server-side apply and removal → state and audit. A CadenceError
 * at any step becomes a failed result (audited, notified), never a throw.
 */
export function createOperationRunner(options: {
  context: DeployContext;
  serialized: ServiceQueue;
  intake: Intake;
  notifier: Notifier;
}): OperationRunner {
  const { context, serialized, intake, notifier } = options;
  const { cluster, store } = context;
  return (operation, service, actor, ref, plan, notify = true) => {
    context.config(service);
    return serialized(service, async () => {
      const startedAt = new Date();
      const started = performance.now();
      let step: 'validate' | 'apply' = 'validate';
      let planned: OperationPlan | undefined;
      try {
        planned = await plan(await readServiceState(store, service));
        await cluster.apply(planned.apply, { dryRun: true });
        await cluster.remove(planned.remove, { dryRun: true });
        step = 'apply';
        await cluster.apply(planned.apply, { dryRun: false });
        await cluster.remove(planned.remove, { dryRun: false });
      } catch (thrown) {
        if (!(thrown instanceof CadenceError)) throw thrown;
        const durationMs = performance.now() - started;
        return auditFailure(context, notifier, {
          operation,
          service,
          actor,
          ref,
          startedAt,
          durationMs,
          planned,
          step,
          error: thrown,
          notify,
        });
      }
      await writeServiceState(store, service, planned.next);
      return auditSuccess(context, intake, {
        operation,
        service,
        actor,
        ref,
        startedAt,
        durationMs: performance.now() - started,
        planned,
        applied: planned.apply.map(objectRef),
      });
    });
  };
}
