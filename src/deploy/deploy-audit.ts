import { cancelAnalyses } from '../analysis/index.js';
import type { Intake } from '../events/index.js';
import type { CadenceError } from '../problem/index.js';
import type { Notifier } from '../notify/index.js';
import { deployCdevent } from './deploy-cdevent.js';
import { recordOperation } from './deploy-rows.js';
import type { ObjectRef } from './manifest-rewrite.js';
import type {
  DeployContext,
  DeployOperation,
  DeployRef,
  DeployResult,
  OperationPlan,
} from './operation-plan.js';

/** Who did what to which service, and when it started. */
export interface OperationRun {
  operation: DeployOperation;
  service: string;
  actor: string;
  ref: DeployRef;
  startedAt: Date;
  durationMs: number;
}

/** A refused or failed operation: one audit row, a log line, and the webhook when `notify`. */
export async function auditFailure(
  context: DeployContext,
  notifier: Notifier,
  run: OperationRun & {
    planned: OperationPlan | undefined;
    step: 'validate' | 'apply';
    error: CadenceError;
    notify: boolean;
  },
): Promise<Extract<DeployResult, { ok: false }>> {
  const { operation, service, actor, ref, planned, step, error, durationMs } = run;
  const operationId = await recordOperation(context.store, {
    service,
    action: operation,
    actor,
    commit: planned?.revision.commit ?? ref.commit,
    tag: ref.tag,
    version: planned?.revision.version,
    outcome: 'failure',
    detail: { step, code: error.code, field: error.field, message: error.message },
    startedAt: run.startedAt,
    durationMs,
  });
  context.logger.warn({ service, operation, step, code: error.code }, 'deploy operation failed');
  const what = ref.commit ?? ref.tag ?? planned?.revision.version ?? '';
  if (run.notify)
    await notifier.notify({
      kind: 'deploy.failed',
      text: `Cadence: ${operation} ${service}${what ? ` ${what}` : ''} failed (${step}): ${error.message}`,
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: `*${operation} ${service}* failed at ${step === 'validate' ? 'validation (nothing changed)' : 'apply'}\n${error.message}`,
          },
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: `by ${actor}, operation ${operationId}` }],
        },
      ],
      facts: { service, operation, operationId, step, actor, error: error.message },
    });
  return { ok: false, operation, service, operationId, step, error, durationMs };
}

/**
 * An applied operation: its audit row, the analyses of the canary it ended cancelled, and its
 * CDEvent into the intake (so it counts in DORA).
 */
export async function auditSuccess(
  context: DeployContext,
  intake: Intake,
  run: OperationRun & { planned: OperationPlan; applied: ObjectRef[] },
): Promise<Extract<DeployResult, { ok: true }>> {
  const { operation, service, actor, planned, applied, durationMs } = run;
  const { revision } = planned;
  const serviceConfig = context.config(service);
  const operationId = await recordOperation(context.store, {
    service,
    action: operation,
    actor,
    commit: revision.commit,
    tag: revision.tag,
    version: revision.version,
    outcome: 'success',
    detail: { applied, removed: planned.remove, images: planned.images },
    startedAt: run.startedAt,
    durationMs,
  });
  if (planned.endsCanary) {
    const reason = `${planned.endsCanary} by ${actor} (operation ${operationId})`;
    const cancelled = await cancelAnalyses(context.store, service, reason, new Date());
    if (cancelled.length > 0)
      context.logger.info({ service, cancelled, reason }, 'analyses cancelled');
  }
  await intake.acceptDecoded(
    [
      deployCdevent({
        predicate: planned.predicate,
        operationId,
        service,
        environment: serviceConfig.environment ?? serviceConfig.namespace,
        track: planned.track,
        action: operation,
        version: revision.version,
        commit: revision.commit,
        repository: serviceConfig.repository,
        image: planned.images[0],
        at: new Date(),
      }),
    ],
    'cdevent',
  );
  context.logger.info(
    { service, operation, version: revision.version, durationMs },
    'deploy operation applied',
  );
  return {
    ok: true,
    operation,
    service,
    operationId,
    version: revision.version,
    commit: revision.commit,
    ...(revision.tag ? { tag: revision.tag } : {}),
    images: planned.images,
    applied,
    removed: planned.remove,
    durationMs,
  };
}
