import type { ApiException, KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { CadenceError } from '../problem/index.js';
import type { Manifest, ObjectRef } from './manifest-rewrite.js';
import { CADENCE_FIELD_MANAGER, kubeClient } from '../kube/index.js';

/** What the deployer does to a cluster. */
export interface Cluster {
  /** Server-side apply (field manager `cadence`, forced) of every object, in order. */
  apply(objects: readonly Manifest[], options: { dryRun: boolean }): Promise<void>;
  /** Deletes the objects; one already gone is fine. */
  remove(objects: readonly ObjectRef[], options: { dryRun: boolean }): Promise<void>;
  /** The live object, undefined when it does not exist. */
  read(ref: ObjectRef): Promise<Manifest | undefined>;
}

export const FIELD_MANAGER = CADENCE_FIELD_MANAGER;

/** A Kubernetes Status body's message, the part of an API error worth showing. */
function statusMessage(error: ApiException<unknown>): string {
  const body: unknown = error.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : `HTTP ${error.code}`;
}

function clusterError(error: unknown, what: string, dryRun: boolean): CadenceError {
  if (error instanceof kubeClient().ApiException) {
    const detail = `${dryRun ? 'dry run: ' : ''}${what}: ${statusMessage(error)}`;
    if (error.code === 409) return new CadenceError('conflict', { field: 'manifests', detail });
    if (error.code === 401 || error.code === 403) {
      return new CadenceError('unavailable', {
        field: 'cluster',
        detail: `the cluster refused Cadence (${error.code}): ${detail}`,
      });
    }
    if (error.code >= 400 && error.code < 500) {
      return new CadenceError('invalid-input', { field: 'manifests', detail });
    }
    return new CadenceError('unavailable', { field: 'cluster', detail });
  }
  if (error instanceof CadenceError) return error;
  // client-node's discovery found no such kind: the manifest is wrong, not the cluster.
  if (error instanceof Error && error.message.startsWith('Unrecognized API version and kind')) {
    return new CadenceError('invalid-input', {
      field: 'manifests',
      detail: `${dryRun ? 'dry run: ' : ''}${what}: the cluster does not serve this kind`,
    });
  }
  const reason = (error as Error).message ?? String(error);
  return new CadenceError('unavailable', {
    field: 'cluster',
    detail: `${what}: cannot reach the cluster: ${reason}`,
    cause: error,
  });
}

const describe = (object: { kind: string; metadata: { name: string; namespace?: string } }) =>
  `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;

/**
 * The cluster through `@kubernetes/client-node`, as any real cluster: server-side apply with
 * `application/apply-patch+yaml`, `fieldManager=cadence`, `force=true` (Cadence owns the fields
 * it applies; another manager's edits to them are overwritten, as `kubectl apply
 * --server-side --force-conflicts` would).
 *
 * @example await createKubeCluster(loadKubeConfig(config.kube)).apply(objects, { dryRun: true })
 */
export function createKubeCluster(config: KubeConfig): Cluster {
  // The client is loaded here, not where this module is imported (src/kube/kube-client.ts).
  const { ApiException, KubernetesObjectApi, PatchStrategy } = kubeClient();
  const api = KubernetesObjectApi.makeApiClient(config);
  return {
    async apply(objects, { dryRun }) {
      for (const object of objects) {
        try {
          await api.patch(
            object as KubernetesObject,
            undefined,
            dryRun ? 'All' : undefined,
            FIELD_MANAGER,
            true,
            PatchStrategy.ServerSideApply,
          );
        } catch (error) {
          throw clusterError(error, `apply ${describe(object)}`, dryRun);
        }
      }
    },
    async read(ref) {
      const object = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
      };
      try {
        return (await api.read(object)) as unknown as Manifest;
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw clusterError(error, `read ${describe(object)}`, false);
      }
    },
    async remove(objects, { dryRun }) {
      for (const ref of objects) {
        const object = {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        };
        try {
          await api.delete(object, undefined, dryRun ? 'All' : undefined);
        } catch (error) {
          if (error instanceof ApiException && error.code === 404) continue;
          throw clusterError(error, `delete ${describe(object)}`, dryRun);
        }
      }
    },
  };
}
