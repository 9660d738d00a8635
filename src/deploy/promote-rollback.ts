import { CadenceError } from '../problem/index.js';
import type { DeployedRevision } from './deploy-rows.js';
import { knownRevision } from './deploy-validation.js';
import type { DeployContext, OperationPlanner } from './operation-plan.js';
import { trafficObjectsFor } from './traffic-objects.js';

/** With traffic steps: the route without the canary (its weight 0), applied before it goes. */
const withoutCanary = async (context: DeployContext, service: string) =>
  (await trafficObjectsFor(context.cluster, context.config(service), service, 'none')).apply;

/**
 * What a caller acting on a canary it started (the canary analysis) expects to find: a canary,
 * at this version when given. Checked inside the service's serialized operation, so a canary
 * replaced or removed meanwhile is refused (a `conflict`) instead of promoting the wrong version
 * or rolling stable back.
 */
export interface CanaryExpectation {
  /** The canary's version, commit (or its prefix) or tag. */
  canaryVersion?: string | undefined;
}

export function checkCanary(
  service: string,
  canary: DeployedRevision | null,
  expect: CanaryExpectation | undefined,
): void {
  if (!expect) return;
  if (!canary) {
    throw new CadenceError('conflict', {
      field: 'service',
      detail: `service ${service} has no canary any more`,
    });
  }
  const wanted = expect.canaryVersion;
  if (
    wanted &&
    canary.version !== wanted &&
    canary.tag !== wanted &&
    !canary.commit.startsWith(wanted)
  ) {
    throw new CadenceError('conflict', {
      field: 'revision',
      detail: `service ${service}'s canary is now ${canary.version}, not ${wanted}`,
    });
  }
}

/** A promote: the canary's version becomes stable, and the canary's objects go. */
export function planPromote(
  context: DeployContext,
  service: string,
  expect: CanaryExpectation | undefined,
): OperationPlanner {
  return async (state) => {
    checkCanary(service, state.canary, expect);
    if (!state.canary) {
      throw new CadenceError('conflict', {
        field: 'service',
        detail: `service ${service} has no canary to promote`,
      });
    }
    const { objects, revision, images } = await knownRevision(
      context,
      service,
      state.canary,
      'stable',
    );
    return {
      apply: [...objects, ...(await withoutCanary(context, service))],
      remove: state.canary.objects,
      revision,
      images,
      track: 'stable',
      predicate: 'upgraded',
      endsCanary: `canary ${revision.version} promoted`,
      next: { stable: revision, canary: null, previous: state.stable },
    };
  };
}

/**
 * A rollback: the canary goes when there is one (stable untouched); else stable returns to the
 * previous version.
 */
export function planRollback(
  context: DeployContext,
  service: string,
  expect: CanaryExpectation | undefined,
): OperationPlanner {
  return async (state) => {
    checkCanary(service, state.canary, expect);
    if (state.canary) {
      return {
        apply: await withoutCanary(context, service),
        remove: state.canary.objects,
        revision: state.canary,
        images: [],
        track: 'canary',
        predicate: 'rolledback',
        endsCanary: `canary ${state.canary.version} removed`,
        next: { ...state, canary: null },
      };
    }
    if (!state.previous) {
      throw new CadenceError('conflict', {
        field: 'service',
        detail: `service ${service} has no canary and no previous stable version to roll back to`,
      });
    }
    const { objects, revision, images } = await knownRevision(
      context,
      service,
      state.previous,
      'stable',
    );
    return {
      apply: objects,
      remove: [],
      revision,
      images,
      track: 'stable',
      predicate: 'rolledback',
      // The version rolled back from is not kept: a second rollback has nowhere to go.
      next: { stable: revision, canary: null, previous: null },
    };
  };
}
