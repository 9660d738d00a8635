import { CadenceError } from '../problem/index.js';
import { knownRevision, newRevision } from './deploy-validation.js';
import { objectRef, type ObjectRef } from './manifest-rewrite.js';
import type { DeployContext, DeployRef, OperationPlanner } from './operation-plan.js';
import { trafficObjectsFor } from './traffic-objects.js';

const sameRef = (a: ObjectRef, b: ObjectRef) =>
  a.kind === b.kind &&
  a.name === b.name &&
  a.namespace === b.namespace &&
  a.apiVersion === b.apiVersion;

/**
 * A canary: a new version on the canary track beside stable; a canary already running is
 * replaced (its objects the new one does not reuse are removed).
 */
export function planCanary(
  context: DeployContext,
  service: string,
  ref: DeployRef,
): OperationPlanner {
  return async (state) => {
    if (!state.stable) {
      throw new CadenceError('conflict', {
        field: 'service',
        detail: `service ${service} has no stable version yet; deploy before a canary`,
      });
    }
    const created = await newRevision(context, service, ref, 'canary', state);
    const { images } = created;
    // With traffic steps: the track Services and the route at the first step's weight; the
    // canary's Service goes with the canary.
    const routed = await trafficObjectsFor(
      context.cluster,
      context.config(service),
      service,
      'first',
    );
    // A baseline: stable's version at the canary's size, applied and removed with the canary.
    const baseline = context.config(service).baseline
      ? (await knownRevision(context, service, state.stable, 'baseline')).objects
      : [];
    const objects = [...created.objects, ...baseline, ...routed.apply];
    const revision = {
      ...created.revision,
      objects: [...created.revision.objects, ...baseline.map(objectRef), ...routed.canaryObjects],
    };
    const applied = objects.map(objectRef);
    return {
      apply: objects,
      remove: (state.canary?.objects ?? []).filter(
        (old) => !applied.some((ref) => sameRef(ref, old)),
      ),
      revision,
      images,
      track: 'canary',
      predicate: state.canary ? 'upgraded' : 'deployed',
      endsCanary:
        state.canary && `canary ${state.canary.version} replaced by canary ${revision.version}`,
      next: { ...state, canary: revision },
    };
  };
}
