import { z } from 'zod';
import { CADENCE_FIELD_MANAGER, deploymentSchema as kubeDeploymentSchema } from '../kube/index.js';

/**
 * The rollout rules (PRODUCT.md, "Rollouts"), as pure functions of a Deployment:
 * progress = updatedReplicas / spec.replicas; complete when the controller has observed the
 * current generation (observedGeneration ≥ generation) and updated = available = replicas;
 * failed when the Progressing condition's reason is ProgressDeadlineExceeded; else progressing.
 * These are kubectl rollout status's rules.
 * https://github.com/kubernetes/kubectl/blob/v0.32.0/pkg/polymorphichelpers/rollout_status.go
 */

export type RolloutPhase = 'progressing' | 'complete' | 'failed';
export const ROLLOUT_PHASES = ['progressing', 'complete', 'failed'] as const;

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

// The one Deployment schema (kube's); a rollout is keyed by uid, so it must have one here.
const deploymentSchema = kubeDeploymentSchema.extend({
  metadata: kubeDeploymentSchema.shape.metadata.extend({ uid: z.string().min(1) }),
});

export type DeploymentInput = z.input<typeof deploymentSchema>;

/** The counts the rules read. */
export interface ReplicaCounts {
  generation: number;
  observedGeneration: number;
  /** spec.replicas (default 1). */
  desired: number;
  /** status.replicas: pods of every revision. */
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  /** The Progressing condition's reason, if any. */
  progressingReason?: string | undefined;
}

/** updated / desired, within 0..1; a Deployment scaled to zero has nothing left to roll. */
export function rolloutProgress(counts: Pick<ReplicaCounts, 'updated' | 'desired'>): number {
  if (counts.desired <= 0) return 1;
  return Math.min(1, Math.max(0, counts.updated / counts.desired));
}

export function rolloutPhase(counts: ReplicaCounts): RolloutPhase {
  // A status the controller wrote for an earlier generation says nothing about this one.
  if (counts.observedGeneration < counts.generation) return 'progressing';
  if (counts.progressingReason === 'ProgressDeadlineExceeded') return 'failed';
  const { desired } = counts;
  if (
    counts.updated >= desired &&
    counts.replicas <= counts.updated &&
    counts.available >= desired
  ) {
    return 'complete';
  }
  return 'progressing';
}

/** A Deployment condition as the live view shows it (kubectl describe's columns). */
export interface DeploymentCondition {
  type: string;
  status: string;
  reason: string | null;
  message: string | null;
  lastTransitionTime: string | null;
}

/** What the watcher records of a Deployment at one moment. */
export interface RolloutObservation extends ReplicaCounts {
  namespace: string;
  deployment: string;
  uid: string;
  /** The revision annotation, else the generation. */
  revision: string;
  images: string[];
  phase: RolloutPhase;
  progress: number;
  reason?: string | undefined;
  message?: string | undefined;
  /** The status conditions (Available, Progressing, ReplicaFailure), in the cluster's order. */
  conditions: DeploymentCondition[];
  /** Whether the controller has observed the current generation (else the status is stale). */
  observed: boolean;
  /**
   * Applied by Cadence's deployer (its field manager owns fields): the deployer reports these
   * deployments itself, with their commit, so the watcher records the rollout but sends no
   * CDEvent (one deploy must not count twice, nor its `-canary` copy as a service).
   */
  reportedByDeployer: boolean;
}

/** The rules applied to a Deployment; undefined when it is not one (no name or uid). */
export function observeRollout(raw: unknown): RolloutObservation | undefined {
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata, spec, status } = parsed.data;
  const progressing = status?.conditions?.find((condition) => condition.type === 'Progressing');
  const counts: ReplicaCounts = {
    generation: metadata.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    desired: spec?.replicas ?? 1,
    replicas: status?.replicas ?? 0,
    updated: status?.updatedReplicas ?? 0,
    ready: status?.readyReplicas ?? 0,
    available: status?.availableReplicas ?? 0,
    progressingReason: progressing?.reason ?? undefined,
  };
  const phase = rolloutPhase(counts);
  const images = (spec?.template?.spec?.containers ?? [])
    .map((container) => container.image)
    .filter((image): image is string => typeof image === 'string' && image.length > 0);
  return {
    ...counts,
    namespace: metadata.namespace,
    deployment: metadata.name,
    uid: metadata.uid,
    revision: metadata.annotations?.[REVISION_ANNOTATION] ?? String(counts.generation),
    images,
    phase,
    progress: rolloutProgress(counts),
    ...(phase === 'failed'
      ? { reason: progressing?.reason ?? undefined, message: progressing?.message ?? undefined }
      : {}),
    conditions: (status?.conditions ?? []).map((condition) => ({
      type: condition.type,
      status: condition.status ?? 'Unknown',
      reason: condition.reason ?? null,
      message: condition.message ?? null,
      lastTransitionTime:
        condition.lastTransitionTime instanceof Date
          ? condition.lastTransitionTime.toISOString().replace(/\.\d+Z$/, 'Z')
          : (condition.lastTransitionTime ?? null),
    })),
    observed: counts.observedGeneration >= counts.generation,
    reportedByDeployer: (metadata.managedFields ?? []).some(
      (entry) => entry.manager === CADENCE_FIELD_MANAGER,
    ),
  };
}
