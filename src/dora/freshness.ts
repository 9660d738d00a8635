import type { Queryable } from '../store/index.js';

/**
 * How fresh a read is. Routing and projection run in the background, so a read shows what has
 * been counted so far instead of doing the work itself; this says how much is still on its way.
 */
export interface Freshness {
  /**
   * Every event received before this instant is counted; the read's own time when nothing is
   * pending.
   */
  asOf: string;
  /** Seconds between `asOf` and the read: how far behind the numbers are. */
  lagSeconds: number;
  pending: {
    /** Received, not yet routed into CDEvents. */
    events: number;
    /** CDEvents stored, not yet projected into facts. */
    cdevents: number;
    /** Deployment streams whose deliveries wait to be recomputed from new facts. */
    streams: number;
    /** Days (per environment) whose rollups wait to be recomputed. */
    days: number;
  };
}

/**
 * Reads the freshness in one statement (one snapshot). Each kind of pending work knows since when
 * its oldest event was received: unrouted events their own receive time, unprojected CDEvents
 * their raw event's, stale streams and days the time their projector batch carried along.
 * The counts use the partial indexes that the router and projector claim their work from.
 */
export async function readFreshness(db: Queryable): Promise<Freshness> {
  const { rows } = await db.query<{
    read_at: Date;
    events: string;
    cdevents: string;
    streams: string;
    days: string;
    oldest: Date | null;
  }>(
    `with unrouted as (
       select count(*) as n,
              (select received_at from events where routed_at is null order by seq limit 1) as since
       from events where routed_at is null
     ),
     unprojected as (
       select count(*) as n,
              (select coalesce(e.received_at, c.stored_at)
               from cdevents c left join events e on e.seq = c.event_seq
               where c.projected_at is null order by c.seq limit 1) as since
       from cdevents where projected_at is null
     ),
     streams as (
       select count(*) as n, min(since) as since from dora_stale_streams
     ),
     repositories as (
       select min(since) as since from dora_stale_repositories
     ),
     days as (
       select count(*) as n, min(marked_at) as since from dora_stale_days
     )
     select statement_timestamp() as read_at,
            unrouted.n as events, unprojected.n as cdevents, streams.n as streams,
            days.n as days,
            least(unrouted.since, unprojected.since, streams.since, repositories.since,
                  days.since) as oldest
     from unrouted, unprojected, streams, repositories, days`,
  );
  const row = rows[0]!;
  const readAt = new Date(row.read_at);
  // A mark made in this instant cannot be "after" the read; clamp so lag is never negative.
  const asOf = row.oldest && new Date(row.oldest) < readAt ? new Date(row.oldest) : readAt;
  return {
    asOf: asOf.toISOString(),
    lagSeconds: (readAt.getTime() - asOf.getTime()) / 1000,
    pending: {
      events: Number(row.events),
      cdevents: Number(row.cdevents),
      streams: Number(row.streams),
      days: Number(row.days),
    },
  };
}
