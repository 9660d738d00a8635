import { CadenceError } from '../problem/index.js';
import type { Queryable } from '../store/index.js';

export interface BacklogGate {
  /** Rejects with a 429 problem naming the backlog when the router is too far behind. */
  admit(): Promise<void>;
  /** The last count of unrouted events (the router refreshes it after each batch). */
  refresh(): Promise<number>;
}

/**
 * Back-pressure for the intake: when more than `maxBacklog` events wait to be routed, new
 * requests are refused with 429 and Retry-After instead of letting routing lag grow without
 * bound. The count is read at most every `refreshMs` (a count over the unrouted index; requests
 * arriving meanwhile share the one read), so it is at most that stale either way.
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
    reading ??= options.db
      .query<{ n: string }>(`select count(*) as n from events where routed_at is null`)
      .then(({ rows }) => {
        unrouted = Number(rows[0]?.n ?? 0);
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
    refresh,
  };
}
