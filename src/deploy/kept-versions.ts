import { CadenceError } from '../problem/index.js';
import type { DeployedRevision, ServiceState } from './deploy-rows.js';

/**
 * The previous versions kept once `replaced` stops being stable and `nextVersion` runs: newest
 * first, one entry per version (a version deployed again keeps only its newest), never the
 * version now stable, at most `keep`.
 */
export function keepReplaced(
  previous: readonly DeployedRevision[],
  replaced: DeployedRevision | null,
  nextVersion: string,
  keep: number,
): DeployedRevision[] {
  const kept: DeployedRevision[] = [];
  for (const revision of replaced ? [replaced, ...previous] : previous) {
    if (revision.version === nextVersion) continue;
    if (kept.some((other) => other.version === revision.version)) continue;
    kept.push(revision);
  }
  return kept.slice(0, keep);
}

/** The state once `revision` becomes stable (a deploy or a promote): no canary, the replaced stable kept. */
export const stableAfter = (
  state: ServiceState,
  revision: DeployedRevision,
  keep: number,
): ServiceState => ({
  stable: revision,
  canary: null,
  previous: keepReplaced(state.previous, state.stable, revision.version, keep),
});

/** `v1.2.0 (0123456789ab)`, for listing kept versions in a refusal. */
export const describeKept = (previous: readonly DeployedRevision[]): string =>
  previous.length === 0
    ? 'none'
    : previous
        .map((revision) => `${revision.version} (${revision.commit.slice(0, 12)})`)
        .join(', ');

/**
 * Which kept version a rollback returns to: the one `to` names (its version or tag, else a
 * commit prefix naming exactly one), or the newest when `to` is not given. A refusal names
 * `to` (or `service` when nothing is kept) and lists what is kept.
 */
export function findKept(
  service: string,
  previous: readonly DeployedRevision[],
  to: string | undefined,
): number {
  if (to === undefined) {
    if (previous.length === 0) {
      throw new CadenceError('conflict', {
        field: 'service',
        detail: `service ${service} has no canary and no previous stable version to roll back to`,
      });
    }
    return 0;
  }
  const exact = previous.findIndex((revision) => revision.version === to || revision.tag === to);
  if (exact >= 0) return exact;
  const prefix = to.toLowerCase();
  const byCommit = /^[0-9a-f]{4,64}$/.test(prefix)
    ? previous.flatMap((revision, index) => (revision.commit.startsWith(prefix) ? [index] : []))
    : [];
  if (byCommit.length === 1) return byCommit[0]!;
  if (byCommit.length > 1) {
    throw new CadenceError('invalid-input', {
      field: 'to',
      detail: `commit ${to} names several kept versions of ${service}: ${describeKept(byCommit.map((index) => previous[index]!))}; give the version`,
    });
  }
  throw new CadenceError('not-found', {
    field: 'to',
    detail: `service ${service} keeps no version ${to}; kept: ${describeKept(previous)}`,
  });
}
