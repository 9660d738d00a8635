/**
 * A stand-in cluster that records what the deployer applies and deletes, for the route tests
 * that are about the HTTP surface, tokens and the deployer's rules rather than Kubernetes. The
 * journey through a real Kubernetes API (client-node, server-side apply, dry-run) is
 * test/e2e/deploy-journey.test.ts. Like an API server it refuses, at dry-run too, a Deployment
 * whose container has no name (Kubernetes answers 422).
 */
import type { Cluster } from '../../src/deploy/index.js';
import type { Manifest, ObjectRef } from '../../src/deploy/manifest-rewrite.js';
import { CadenceError } from '../../src/problem/index.js';

const key = (ref: { kind: string; namespace?: string; name: string }) =>
  `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

export interface RecordingCluster extends Cluster {
  objects: Map<string, Manifest>;
  calls: { verb: 'apply' | 'delete'; dryRun: boolean; key: string }[];
  /** Resolves the next apply only when `release()` is called (to hold an operation mid-way). */
  hold(): { release: () => void; reached: Promise<void> };
}

export function createRecordingCluster(): RecordingCluster {
  const objects = new Map<string, Manifest>();
  const calls: RecordingCluster['calls'] = [];
  let gate: { wait: Promise<void>; reached: () => void } | undefined;
  return {
    objects,
    calls,
    hold() {
      let release!: () => void;
      let reached!: () => void;
      const wait = new Promise<void>((resolve) => (release = resolve));
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      gate = { wait, reached };
      return { release, reached: reachedPromise };
    },
    async apply(list, { dryRun }) {
      if (gate && !dryRun) {
        const current = gate;
        gate = undefined;
        current.reached();
        await current.wait;
      }
      for (const object of list) {
        const spec = object.spec as
          { template?: { spec?: { containers?: { name?: string }[] } } } | undefined;
        const containers = spec?.template?.spec?.containers ?? [];
        if (object.kind === 'Deployment' && containers.some((container) => !container.name)) {
          throw new CadenceError('invalid-input', {
            field: 'manifests',
            detail: `${dryRun ? 'dry run: ' : ''}apply Deployment ${object.metadata.name}: spec.template.spec.containers[0].name: Required value`,
          });
        }
      }
      for (const object of list) {
        calls.push({
          verb: 'apply',
          dryRun,
          key: key(
            object.metadata.namespace
              ? {
                  kind: object.kind,
                  namespace: object.metadata.namespace,
                  name: object.metadata.name,
                }
              : { kind: object.kind, name: object.metadata.name },
          ),
        });
        if (!dryRun)
          objects.set(
            key({
              kind: object.kind,
              namespace: object.metadata.namespace ?? '',
              name: object.metadata.name,
            }),
            structuredClone(object),
          );
      }
    },
    read(ref) {
      const found = objects.get(key(ref));
      return Promise.resolve(found && structuredClone(found));
    },
    async remove(list: readonly ObjectRef[], { dryRun }) {
      for (const ref of list) {
        calls.push({ verb: 'delete', dryRun, key: key(ref) });
        if (!dryRun) objects.delete(key(ref));
      }
    },
  };
}
