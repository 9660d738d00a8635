import { CadenceError } from '../problem/index.js';
import type { Queryable } from '../store/index.js';
import { routerBacklog } from './event-rows.js';

export interface BacklogGate {
  /** Rejects with a 429 problem naming the backlog when the router is too far behind. */
  admit(): Promise<void>;
  /** This process stored `count` new events (the intake, after their commit). */
  stored(count: number): void;
  /** This process's router committed a batch of `count` events. */
  routed(count: number): void;
  /** Counts the unrouted events in the database now, and judges by that count from here on. */
  refresh(): Promise<number>;
}

/**
 * Back-pressure for the intake: when more than `maxBacklog` events wait to be routed, new
 * requests are refused with 429 and Retry-After instead of letting routing lag grow without
 * bound.
 *
 * The gate owns the count. It keeps a running estimate — the last count, plus what this process
 * stored since, minus what its router routed since — and re-counts (`routerBacklog`, over the
 * unrouted index) at most every `refreshMs` while requests arrive, which brings in what other
 * replicas stored and routed. Nothing counts after each routed batch: under load that was one
 * more statement per batch on the connection the intake and router share (PGlite has one).
 *
 * @example
 * const gate = createBacklogGate({ db: store, maxBacklog: 100_000 });
 * await gate.admit(); // throws a `backlogged` CadenceError past the bound
 */
export function createBacklogGate(options: {
  db: Queryable;
  maxBacklog: number;
  refreshMs?: number;
  retryAfterSeconds?: number;
}): BacklogGate {
  const refreshMs = options.refreshMs ?? 250;
  let unrouted = 0;
  let readAt = 0;
  let reading: Promise<number> | undefined;

  function refresh(): Promise<number> {
    reading ??= routerBacklog(options.db)
      .then((backlog) => {
        unrouted = backlog.unrouted;
        readAt = Date.now();
        return unrouted;
      })
      .finally(() => (reading = undefined));
    return reading;
  }

  return {
    async admit() {
      if (Date.now() - readAt > refreshMs) await refresh();
      if (unrouted <= options.maxBacklog) return;
      throw new CadenceError('backlogged', {
        field: 'backlog',
        detail: `the router is behind: ${unrouted} events wait to be routed (router.maxBacklog is ${options.maxBacklog}); nothing from this request was stored, send it again after the Retry-After seconds`,
        retryAfterSeconds: options.retryAfterSeconds ?? 1,
      });
    },
    stored(count) {
      unrouted += count;
    },
    routed(count) {
      // Events counted before they were stored here (another replica's) can make this dip
      // below the truth until the next count; never below nothing.
      unrouted = Math.max(0, unrouted - count);
    },
    refresh,
  };
}
