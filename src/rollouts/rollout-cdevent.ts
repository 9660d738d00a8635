import { cdeventEnvelope, deploymentFacts, imageToPurl } from '../events/index.js';
import type { Rollout } from './rollout-rows.js';

/**
 * The CDEvent of a finished rollout, in the conventions of the Kubernetes ApiServerSource
 * transformer (sources/kubernetes-apiserver-source.ts): the Deployment's name is the service,
 * its namespace the environment, its first image the artifact; revision 1 is `service.deployed`,
 * later revisions `service.upgraded`. A failed rollout is the same event with
 * `customData.cadence.outcome = failure`, which the DORA facts count as a failed deployment.
 * A rollout that completed after its progress deadline is a success (it carries
 * `deadlineExceededAt`); when its failure was sent first (the grace passed), both are sent.
 * The id is a hash of the cluster, the Deployment's uid, revision and outcome, so every replica
 * (and every re-send) makes the same CDEvent and the intake keeps one.
 */
export function rolloutCdevent(
  rollout: Rollout,
  cluster: string,
  outcome: 'success' | 'failure' = rollout.phase === 'complete' ? 'success' : 'failure',
): Record<string, unknown> {
  const predicate = rollout.revision === '1' ? 'deployed' : 'upgraded';
  const content: Record<string, unknown> = {
    environment: { id: rollout.namespace, source: cluster },
    artifactId: rollout.images[0]
      ? imageToPurl(rollout.images[0])
      : `pkg:generic/${encodeURIComponent(rollout.deployment)}@${encodeURIComponent(rollout.revision)}`,
  };
  return cdeventEnvelope({
    producer: 'cadence-rollouts',
    key: [rollout.uid, rollout.revision, outcome],
    kind: `service.${predicate}`,
    source: cluster,
    // A deadline miss sent before the rollout ended happened at the deadline.
    timestamp:
      outcome === 'failure' && rollout.phase !== 'failed'
        ? (rollout.deadlineExceededAt ?? rollout.updatedAt)
        : (rollout.endedAt ?? rollout.updatedAt),
    subject: { id: rollout.deployment, content },
    customData: {
      // No git revision here: the rollout's revision is Kubernetes', not a commit.
      cadence: deploymentFacts(undefined, undefined, outcome),
      rollout: {
        namespace: rollout.namespace,
        name: rollout.deployment,
        revision: rollout.revision,
        images: rollout.images,
        replicas: rollout.desired,
        startedAt: rollout.startedAt,
        durationMs: rollout.durationMs,
        ...(rollout.reason ? { reason: rollout.reason } : {}),
        ...(rollout.deadlineExceededAt ? { deadlineExceededAt: rollout.deadlineExceededAt } : {}),
      },
    },
  });
}
