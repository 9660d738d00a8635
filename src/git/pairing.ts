import type { GitEvent } from './rules.js';

const DAY_MS = 86_400_000;

export interface EventRef {
  commit: string;
  at: Date;
}

/** A cause and the deploy that shipped it. */
export interface PairedUpdate {
  package: string;
  cause: EventRef;
  deploy: EventRef;
  /** deploy author time − cause author time, in days. */
  leadTimeDays: number;
}

/** A cause no deploy has shipped yet. */
export interface PendingCause {
  package: string;
  cause: EventRef;
  /** now − cause author time, in days. */
  ageDays: number;
}

/** Index of the first time ≥ `at` in ascending `times` (times.length when none). */
export function firstAtOrAfter(times: number[], at: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (times[middle]! < at) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Pairs each cause with the FIRST deploy of the same package to `environment` at or after it
 * (by author time: a deploy in the same commit counts, with a lead time of 0). Several causes
 * may share one deploy, as when two vendorings land before the next release. A cause with no
 * deploy after it is pending, with its age at `now`: reported, never dropped.
 *
 * @example
 * pairCauses(events, 'production', new Date('2024-03-01'))
 * // { updates: [{ package: 'nginx', leadTimeDays: 1.5, … }], pending: [{ package: 'postgres', … }] }
 */
export function pairCauses(
  events: GitEvent[],
  environment: string,
  now: Date,
): { updates: PairedUpdate[]; pending: PendingCause[] } {
  const deploysByPackage = new Map<string, { times: number[]; refs: EventRef[] }>();
  const ordered = [...events].sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const event of ordered) {
    if (event.role !== 'deploy' || event.environment !== environment) continue;
    let deploys = deploysByPackage.get(event.package);
    if (!deploys) deploysByPackage.set(event.package, (deploys = { times: [], refs: [] }));
    deploys.times.push(event.at.getTime());
    deploys.refs.push({ commit: event.commit, at: event.at });
  }
  const updates: PairedUpdate[] = [];
  const pending: PendingCause[] = [];
  for (const event of ordered) {
    if (event.role !== 'cause') continue;
    const cause = { commit: event.commit, at: event.at };
    const deploys = deploysByPackage.get(event.package);
    const index = deploys ? firstAtOrAfter(deploys.times, event.at.getTime()) : 0;
    const deploy = deploys?.refs[index];
    if (deploy) {
      updates.push({
        package: event.package,
        cause,
        deploy,
        leadTimeDays: (deploy.at.getTime() - event.at.getTime()) / DAY_MS,
      });
    } else {
      pending.push({
        package: event.package,
        cause,
        ageDays: (now.getTime() - event.at.getTime()) / DAY_MS,
      });
    }
  }
  return { updates, pending };
}
