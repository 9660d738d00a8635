import { newRevision } from './deploy-validation.js';
import { stableAfter } from './kept-versions.js';
import type { DeployContext, DeployRef, OperationPlanner } from './operation-plan.js';
import { withoutCanary } from './traffic-objects.js';

/** A deploy: a new stable version, replacing the canary too (never more than two versions). */
export function planDeploy(
  context: DeployContext,
  service: string,
  ref: DeployRef,
): OperationPlanner {
  return async (state) => {
    const { objects, revision, images } = await newRevision(context, service, ref, 'stable', state);
    // With traffic steps, the route without the canary before the canary goes.
    const routed = state.canary ? await withoutCanary(context, service) : [];
    return {
      apply: [...objects, ...routed],
      remove: state.canary?.objects ?? [],
      revision,
      images,
      track: 'stable',
      predicate: state.stable ? 'upgraded' : 'deployed',
      endsCanary:
        state.canary &&
        `canary ${state.canary.version} replaced by the deploy of ${revision.version}`,
      next: stableAfter(state, revision, context.config(service).keepVersions),
    };
  };
}
