import { CadenceError } from '../problem/index.js';
import { trafficObjects, type ReadLive } from '../traffic/index.js';
import type { Cluster } from './kube-cluster.js';
import type { DeployContext } from './operation-plan.js';
import { objectRef, type Manifest, type ObjectRef } from './manifest-rewrite.js';
import type { DeployServiceSettings } from './schema.js';

/**
 * A service's traffic objects for a deploy operation: what to apply (the track Services and
 * the HTTPRoute at the weight: a number, the first step's, or none = 0) and which of them
 * belong to the canary (removed with it). Nothing for a service without a strategy: its
 * canary's share is its share of the replicas.
 */
export async function trafficObjectsFor(
  cluster: Cluster,
  settings: DeployServiceSettings,
  service: string,
  at: 'first' | 'none' | number,
): Promise<{ apply: Manifest[]; canaryObjects: ObjectRef[] }> {
  const strategy = settings.strategy;
  if (!strategy) return { apply: [], canaryObjects: [] };
  const weight = at === 'first' ? strategy.steps[0]!.weight : at === 'none' ? 0 : at;
  const read: ReadLive = async (ref) => (await cluster.read(ref)) as Record<string, unknown>;
  let objects;
  try {
    objects = await trafficObjects(read, strategy, service, settings.namespace, weight);
  } catch (error) {
    // Taking the canary out never waits for a route someone deleted: there is nothing to shift.
    if (at === 'none' && error instanceof CadenceError && error.code === 'conflict') {
      return { apply: [], canaryObjects: [] };
    }
    throw error;
  }
  const apply = objects as unknown as Manifest[];
  const canaryObjects = apply
    .filter((object) => object.kind === 'Service' && object.metadata.name.endsWith('-canary'))
    .map(objectRef);
  return { apply, canaryObjects };
}

/** With traffic steps: the route without the canary (its weight 0), applied before it goes. */
export const withoutCanary = async (context: DeployContext, service: string): Promise<Manifest[]> =>
  (await trafficObjectsFor(context.cluster, context.config(service), service, 'none')).apply;
