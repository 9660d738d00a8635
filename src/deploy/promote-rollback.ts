import { CadenceError } from '../problem/index.js';
import type { DeployedRevision } from './deploy-rows.js';
import { knownRevision } from './deploy-validation.js';
import { describeKept, findKept, stableAfter } from './kept-versions.js';
import type { DeployContext, OperationPlanner } from './operation-plan.js';
import { withoutCanary } from './traffic-objects.js';

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

/** Whether `canary` is the one `wanted` names: its version, its tag or a commit prefix. */
export const matchesCanary = (
  canary: { version: string; commit: string; tag?: string | null | undefined },
  wanted: string,
): boolean =>
  canary.version === wanted || canary.tag === wanted || canary.commit.startsWith(wanted);

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
  if (wanted && !matchesCanary(canary, wanted)) {
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
      next: stableAfter(state, revision, context.config(service).keepVersions),
    };
  };
}

/**
 * A rollback: the canary goes when there is one (stable untouched); else stable returns to a
 * kept previous version, `to` or the newest. The versions newer than it (and the one rolled
 * back from) leave the kept list: what is kept is what ran before the version now stable.
 */
export function planRollback(
  context: DeployContext,
  service: string,
  expect: CanaryExpectation | undefined,
  to?: string,
): OperationPlanner {
  return async (state) => {
    checkCanary(service, state.canary, expect);
    if (state.canary && to !== undefined) {
      throw new CadenceError('conflict', {
        field: 'to',
        detail: `service ${service} runs canary ${state.canary.version}: remove it first (rollback without to), then roll stable back to ${to}`,
      });
    }
    if (state.stable && to !== undefined && state.stable.version === to) {
      throw new CadenceError('conflict', {
        field: 'to',
        detail: `${to} is service ${service}'s stable version already; kept: ${describeKept(state.previous)}`,
      });
    }
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
    const target = findKept(service, state.previous, to);
    const { objects, revision, images } = await knownRevision(
      context,
      service,
      state.previous[target]!,
      'stable',
    );
    return {
      apply: objects,
      remove: [],
      revision,
      images,
      track: 'stable',
      predicate: 'rolledback',
      next: { stable: revision, canary: null, previous: state.previous.slice(target + 1) },
    };
  };
}
