import { randomUUID } from 'node:crypto';
import type { Intake } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { noopNotifier, type Notifier } from '../notify/index.js';
import { createOperationRunner } from './apply-manifests.js';
import { planCanary } from './canary-operation.js';
import { createDeployContext } from './deploy-context.js';
import type { Cluster } from './kube-cluster.js';
import type { DeployRef, DeployResult } from './operation-plan.js';
import {
  checkCanary,
  planPromote,
  planRollback,
  type CanaryExpectation,
} from './promote-rollback.js';
import { createServiceQueue } from './service-lease.js';
import {
  createServiceSummaries,
  type ServiceDetail,
  type ServiceImageTags,
  type ServiceSummary,
  type ServiceVersions,
} from './service-summary.js';
import { readServiceState } from './deploy-rows.js';
import type { DeployerSettings, DeployServiceSettings } from './schema.js';
import { trafficObjectsFor } from './traffic-objects.js';
import { planDeploy } from './stable-deploy.js';

export type { DeployOperation, DeployRef, DeployResult } from './operation-plan.js';
export type { CanaryExpectation } from './promote-rollback.js';
export type { RevisionSummary, ServiceSummary } from './service-summary.js';

export interface Deployer {
  services(): string[];
  list(): Promise<ServiceSummary[]>;
  show(service: string): Promise<ServiceDetail>;
  tags(service: string): Promise<ServiceImageTags>;
  version(service: string): Promise<ServiceVersions>;
  deploy(service: string, ref: DeployRef, actor: string): Promise<DeployResult>;
  /** `notify: false`: a failure is audited but not sent to the webhook (a retry to come). */
  canary(
    service: string,
    ref: DeployRef,
    actor: string,
    options?: { notify?: boolean },
  ): Promise<DeployResult>;
  /** With `expect`, only the canary named there is promoted (see CanaryExpectation). */
  promote(service: string, actor: string, expect?: CanaryExpectation): Promise<DeployResult>;
  /**
   * With `expect`, only the canary is removed: stable is never rolled back. With `to`, stable
   * returns to that kept previous version (its version, tag or commit).
   */
  rollback(
    service: string,
    actor: string,
    expect?: CanaryExpectation,
    to?: string,
  ): Promise<DeployResult>;
  /**
   * Traffic steps: the canary's weight in the service's HTTPRoute, serialized with the
   * operations; refused (a `conflict`) when the expected canary is not the one running.
   */
  shiftCanary(service: string, weight: number, expect: CanaryExpectation): Promise<void>;
  /** The service's config (its traffic strategy, namespace). */
  settingsOf(service: string): DeployServiceSettings;
}

export interface DeployerOptions {
  store: Store;
  intake: Intake;
  cluster: Cluster;
  settings: DeployerSettings;
  logger: Logger;
  notifier?: Notifier;
  /** How long a service's lease is held at most (a replica that died frees it after this). */
  leaseMs?: number;
  /**
   * Told of every canary applied, after its operation finished (the server starts its canary
   * analysis here). A failure here is logged; the canary stays applied.
   */
  onCanaryApplied?: (canary: Extract<DeployResult, { ok: true }>) => Promise<void>;
}

/**
 * The deployer: validate (service, ref, image tags) → manifests at the ref from the cached clone →
 * rewrite → dry-run of every change → server-side apply → remove the canary it replaces → record,
 * emit a CDEvent, and tell the webhook about failures. Operations on one service run one at a
 * time: queued in this process, and behind a lease row in the database across replicas.
 * Each operation is a planner (stable-deploy, canary-operation, promote-rollback) run by
 * apply-manifests against the DeployContext.
 *
 * @example const result = await deployer.deploy('web', { commit: '025838f' }, 'ci')
 */
export function createDeployer(options: DeployerOptions): Deployer {
  const { settings, logger } = options;
  const context = createDeployContext(options);
  const serialized = createServiceQueue(
    options.store,
    randomUUID(),
    options.leaseMs ?? 10 * 60_000,
  );
  const run = createOperationRunner({
    context,
    serialized,
    intake: options.intake,
    notifier: options.notifier ?? noopNotifier,
  });
  const summaries = createServiceSummaries(context);
  const names = () => Object.keys(settings.services).sort();

  return {
    services: names,
    list: () => Promise.all(names().map(summaries.summarize)),
    show: summaries.show,
    tags: summaries.tags,
    version: summaries.version,
    deploy: (service, ref, actor) =>
      run('deploy', service, actor, ref, planDeploy(context, service, ref)),
    async canary(service, ref, actor, canaryOptions) {
      const result = await run(
        'canary',
        service,
        actor,
        ref,
        planCanary(context, service, ref),
        canaryOptions?.notify ?? true,
      );
      if (result.ok && options.onCanaryApplied) {
        await options.onCanaryApplied(result).catch((error: unknown) => {
          logger.error({ error, service }, 'after canary: hook failed');
        });
      }
      return result;
    },
    promote: (service, actor, expect) =>
      run('promote', service, actor, {}, planPromote(context, service, expect)),
    rollback: (service, actor, expect, to) =>
      run('rollback', service, actor, {}, planRollback(context, service, expect, to)),
    settingsOf: (service) => context.config(service),
    shiftCanary: (service, weight, expect) =>
      serialized(service, async () => {
        const state = await readServiceState(options.store, service);
        checkCanary(service, state.canary, expect);
        const { apply } = await trafficObjectsFor(
          context.cluster,
          context.config(service),
          service,
          weight,
        );
        await context.cluster.apply(apply, { dryRun: false });
        logger.info({ service, weight, version: state.canary?.version }, 'canary weight set');
      }),
  };
}
