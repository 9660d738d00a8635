import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { deploymentSchema, kubeClient, type DeploymentObject } from '../kube/index.js';
import {
  cdeventEnvelope,
  clusterRevision,
  imageToPurl,
  type StoredEvent,
  type Transformer,
  type TransformOutcome,
} from '../events/index.js';
import { eventTime } from './delivery-cdevents.js';

/**
 * Knative ApiServerSource events about Deployments → CDEvents.
 *
 * Resource mode (`dev.knative.apiserver.resource.{add,update,delete}`) carries the Deployment
 * itself; reference mode (`dev.knative.apiserver.ref.*`) carries only kind, namespace and name,
 * so its add/update events need the cluster to look the Deployment up.
 * https://knative.dev/docs/eventing/sources/apiserversource/
 *
 * A Deployment becomes `service.deployed` (revision 1: first rollout) or `service.upgraded`
 * (later revisions) once its rollout has completed; namespace is the environment, name the
 * service. A deletion becomes `service.removed`.
 *
 * The git revision is read from what the cluster has (`clusterRevision`: the
 * `cadence.dev/revision` annotation, `app.kubernetes.io/version`, an image tag that is a sha) and
 * put in `customData.cadence`, where the DORA facts read it. An `add` of a Deployment whose rollout
 * is already complete is the source listing what exists when it starts (a Deployment the API
 * server just created has no status yet): it is recorded as a baseline, not counted as a deploy.
 */

const referenceSchema = z.looseObject({
  kind: z.string(),
  namespace: z.string().min(1).default('default'),
  name: z.string().min(1),
  apiVersion: z.string().optional(),
});

/** Fetches the current Deployment from the cluster; for reference-mode events. */
export type DeploymentLookup = (namespace: string, name: string) => Promise<unknown>;

export interface RolloutState {
  complete: boolean;
  desired: number;
  updated: number;
  available: number;
}

/** Whether a Deployment's rollout of its current generation has finished (kubectl rollout status rules). */
export function rolloutState(deployment: DeploymentObject): RolloutState {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const observed = (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0);
  const complete =
    observed &&
    updated >= desired &&
    (status.replicas ?? updated) <= updated &&
    available >= updated;
  return { complete, desired, updated, available };
}

function images(deployment: DeploymentObject): string[] {
  return (deployment.spec?.template?.spec?.containers ?? [])
    .map((container) => container.image)
    .filter((image): image is string => typeof image === 'string' && image.length > 0);
}

function serviceEvent(
  event: StoredEvent,
  predicate: 'deployed' | 'upgraded' | 'removed',
  key: string,
  namespace: string,
  name: string,
  extra: { artifactId?: string; customData?: Record<string, unknown> },
): Record<string, unknown> {
  const content: Record<string, unknown> = { environment: { id: namespace, source: event.source } };
  if (extra.artifactId) content.artifactId = extra.artifactId;
  return cdeventEnvelope({
    producer: 'kubernetes-apiserver',
    key: [predicate, key],
    kind: `service.${predicate}`,
    source: event.source,
    timestamp: eventTime(event),
    subject: { id: name, content },
    customData: extra.customData,
  });
}

/**
 * The CDEvent for a Deployment whose rollout completed, or a note saying why there is none.
 * `firstSeen`: the event is the source's first sight of it (an `add`), so a completed rollout
 * predates the source and is a baseline.
 */
export function deploymentToCdevent(
  event: StoredEvent,
  raw: unknown,
  firstSeen = false,
): TransformOutcome {
  const parsed = deploymentSchema.safeParse(raw);
  if (!parsed.success) {
    return { cdevents: [], note: `not a Deployment object: ${parsed.error.issues[0]?.message}` };
  }
  const deployment = parsed.data;
  if (deployment.kind !== undefined && deployment.kind !== 'Deployment') {
    return { cdevents: [], note: `kind ${deployment.kind} is not tracked` };
  }
  const state = rolloutState(deployment);
  if (!state.complete) {
    return {
      cdevents: [],
      note: `rollout in progress (${state.updated}/${state.desired} updated, ${state.available} available)`,
    };
  }
  const { name, namespace, uid, generation, annotations } = deployment.metadata;
  const revision = annotations?.['deployment.kubernetes.io/revision'] ?? String(generation ?? 1);
  const containerImages = images(deployment);
  if (containerImages.length === 0)
    return { cdevents: [], note: 'Deployment has no container image' };
  const predicate = revision === '1' ? 'deployed' : 'upgraded';
  const git = clusterRevision(deployment.metadata, containerImages);
  const cadence = {
    ...(git.revision ? { revision: git.revision } : {}),
    ...(git.repository ? { repository: git.repository } : {}),
    ...(git.revisionFrom ? { revisionFrom: git.revisionFrom } : {}),
    ...(git.digest ? { digest: git.digest } : {}),
    outcome: 'success',
    // Not the source: in a cluster it is the API server's address, as the rollout watcher's is.
    reporter: 'kubernetes-apiserver',
    ...(firstSeen ? { baseline: true } : {}),
  };
  const notes = [
    git.revision
      ? `revision ${git.revision} from the ${git.revisionFrom}`
      : 'no git revision (no cadence.dev/revision annotation, no commit sha as the image tag): no lead time',
    ...(firstSeen ? ['already complete when first seen: recorded, not counted'] : []),
  ];
  return {
    note: notes.join('; '),
    cdevents: [
      serviceEvent(
        event,
        predicate,
        `${uid ?? `${namespace}/${name}`}@${revision}`,
        namespace,
        name,
        {
          artifactId: imageToPurl(containerImages[0]!),
          customData: {
            cadence,
            namespace,
            name,
            revision,
            images: containerImages,
            replicas: state.desired,
          },
        },
      ),
    ],
  };
}

function removed(event: StoredEvent, namespace: string, name: string, uid: string | undefined) {
  return serviceEvent(
    event,
    'removed',
    `${uid ?? `${namespace}/${name}`}@deleted`,
    namespace,
    name,
    {
      customData: { namespace, name },
    },
  );
}

export function createKubernetesApiserverSource(
  options: { lookup?: DeploymentLookup } = {},
): Transformer {
  return {
    name: 'kubernetes-apiserver',
    async transform(event) {
      const verb = event.type.slice(event.type.lastIndexOf('.') + 1);
      if (event.type.startsWith('dev.knative.apiserver.resource.')) {
        if (verb === 'delete') {
          const parsed = deploymentSchema.safeParse(event.data);
          if (!parsed.success) return { cdevents: [], note: 'not a Deployment object' };
          if (parsed.data.kind !== undefined && parsed.data.kind !== 'Deployment') {
            return { cdevents: [], note: `kind ${parsed.data.kind} is not tracked` };
          }
          const { namespace, name, uid } = parsed.data.metadata;
          return { cdevents: [removed(event, namespace, name, uid)] };
        }
        return deploymentToCdevent(event, event.data, verb === 'add');
      }
      if (event.type.startsWith('dev.knative.apiserver.ref.')) {
        const reference = referenceSchema.safeParse(event.data);
        if (!reference.success) return { cdevents: [], note: 'not an object reference' };
        const { kind, namespace, name } = reference.data;
        if (kind !== 'Deployment') return { cdevents: [], note: `kind ${kind} is not tracked` };
        if (verb === 'delete') return { cdevents: [removed(event, namespace, name, undefined)] };
        if (!options.lookup) {
          return {
            cdevents: [],
            note: 'reference-mode event: resolving it needs cluster access, which is not configured',
          };
        }
        const deployment = await options.lookup(namespace, name);
        if (deployment === undefined) return { cdevents: [], note: 'Deployment no longer exists' };
        return deploymentToCdevent(event, deployment, verb === 'add');
      }
      return { cdevents: [], note: `type ${event.type} is not an ApiServerSource event` };
    },
  };
}

/**
 * Looks Deployments up in the cluster the kubeconfig names, for reference-mode events; a
 * Deployment that no longer exists is `undefined` (any other failure is thrown, so the event is
 * retried rather than noted as gone).
 */
export function kubeDeploymentLookup(kubeConfig: KubeConfig): DeploymentLookup {
  // The client is loaded here, not where this module is imported (src/kube/kube-client.ts).
  const { AppsV1Api } = kubeClient();
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  return async (namespace, name) => {
    try {
      return await apps.readNamespacedDeployment({ namespace, name });
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  };
}
