import type { Queryable } from '../store/index.js';
import type { CloudEvent } from './cloud-event.js';

/**
 * How an event came in (issue 13, sources bound to their door): `webhook:<source>`, `/events`,
 * `/cdevents` or `internal` (Cadence's own watchers and deployer); who vouched for it (a token
 * name, or the webhook source); and the transformers it may feed, `*` for every one.
 */
export interface Door {
  name: string;
  principal: string | null;
  vouched: readonly string[];
}

/** Cadence's own events (rollout watcher, deployer, analysis verdicts) may feed any transformer. */
export const INTERNAL_DOOR: Door = { name: 'internal', principal: null, vouched: ['*'] };

/** A raw event as stored, with its place in the intake order. */
export interface StoredEvent extends CloudEvent {
  seq: number;
  receivedAt: Date;
  routedAt: Date | null;
  routeOutputs: number | null;
  routeNote: string | null;
  /** Null for events stored before doors were recorded (migration 011): they route as before. */
  door?: Door | null;
}

export interface InsertOutcome {
  /** Per input event, in order: true when stored now, false when (source, id) was already there. */
  stored: boolean[];
}

const COLUMNS =
  'source, id, type, specversion, time, subject, datacontenttype, dataschema, extensions, data, data_base64';

/**
 * Inserts events in one statement (arrays unnested server-side, so the statement text is the
 * same for any batch size). Idempotent on (source, id): duplicates, also within the batch, are
 * skipped and reported as not stored.
 */
export async function insertEvents(
  db: Queryable,
  events: CloudEvent[],
  /** Per event, the door it came through; internal when absent. */
  doors: readonly (Door | undefined)[] = [],
): Promise<InsertOutcome> {
  if (events.length === 0) return { stored: [] };
  const column = <T>(pick: (event: CloudEvent) => T) => events.map(pick);
  const door = (index: number) => doors[index] ?? INTERNAL_DOOR;
  // `vouched` travels comma-joined: unnest would flatten an array of arrays.
  const { rows } = await db.query<{ source: string; id: string }>(
    `insert into events (${COLUMNS}, door, principal, vouched)
     select source, id, type, specversion, time::timestamptz, subject, datacontenttype, dataschema,
            extensions::jsonb, data::jsonb, data_base64, door, principal,
            string_to_array(vouched, ',')
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                 $14::text[])
       as t(${COLUMNS}, door, principal, vouched)
     on conflict (source, id) do nothing
     returning source, id`,
    [
      column((e) => e.source),
      column((e) => e.id),
      column((e) => e.type),
      column((e) => e.specversion),
      column((e) => e.time ?? null),
      column((e) => e.subject ?? null),
      column((e) => e.datacontenttype ?? null),
      column((e) => e.dataschema ?? null),
      column((e) => JSON.stringify(e.extensions)),
      column((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
      column((e) => e.data_base64 ?? null),
      events.map((_e, index) => door(index).name),
      events.map((_e, index) => door(index).principal),
      events.map((_e, index) => door(index).vouched.join(',')),
    ],
  );
  const inserted = new Set(rows.map((row) => `${row.source}\u0000${row.id}`));
  return {
    stored: events.map((event) => inserted.delete(`${event.source}\u0000${event.id}`)),
  };
}

interface EventRow {
  seq: number;
  source: string;
  id: string;
  type: string;
  specversion: '1.0';
  time: Date | null;
  subject: string | null;
  datacontenttype: string | null;
  dataschema: string | null;
  extensions: Record<string, string | number | boolean>;
  data: unknown;
  data_base64: string | null;
  received_at: Date;
  routed_at: Date | null;
  route_outputs: number | null;
  route_note: string | null;
  door?: string | null;
  principal?: string | null;
  vouched?: string[] | null;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  const event: StoredEvent = {
    seq: row.seq,
    specversion: row.specversion,
    id: row.id,
    source: row.source,
    type: row.type,
    extensions: row.extensions,
    receivedAt: row.received_at,
    routedAt: row.routed_at,
    routeOutputs: row.route_outputs,
    routeNote: row.route_note,
    door:
      row.door === null || row.door === undefined
        ? null
        : { name: row.door, principal: row.principal ?? null, vouched: row.vouched ?? [] },
  };
  if (row.time) event.time = row.time.toISOString();
  if (row.subject !== null) event.subject = row.subject;
  if (row.datacontenttype !== null) event.datacontenttype = row.datacontenttype;
  if (row.dataschema !== null) event.dataschema = row.dataschema;
  if (row.data !== null) event.data = row.data;
  if (row.data_base64 !== null) event.data_base64 = row.data_base64;
  return event;
}

export interface EventFilter {
  type?: string | undefined;
  source?: string | undefined;
  /** Only events with seq greater than this (paging forward). */
  afterSeq?: number | undefined;
  limit: number;
  /** `newest`: the last `limit` events (still returned oldest first), e.g. where a tail starts. */
  from?: 'oldest' | 'newest' | undefined;
}

/** Events in intake order, newest last. */
export async function listEvents(db: Queryable, filter: EventFilter): Promise<StoredEvent[]> {
  const newest = filter.from === 'newest';
  const { rows } = await db.query<EventRow>(
    `select * from events
     where ($1::text is null or type = $1)
       and ($2::text is null or source = $2)
       and seq > $3
     order by seq ${newest ? 'desc' : 'asc'}
     limit $4`,
    [filter.type ?? null, filter.source ?? null, filter.afterSeq ?? 0, filter.limit],
  );
  const events = rows.map(toStoredEvent);
  return newest ? events.reverse() : events;
}

/** One event by its intake sequence number, or by (source, id). */
export async function findEvent(
  db: Queryable,
  key: { seq: number } | { source: string; id: string },
): Promise<StoredEvent | undefined> {
  const { rows } =
    'seq' in key
      ? await db.query<EventRow>('select * from events where seq = $1', [key.seq])
      : await db.query<EventRow>('select * from events where source = $1 and id = $2', [
          key.source,
          key.id,
        ]);
  return rows[0] ? toStoredEvent(rows[0]) : undefined;
}

export async function countEvents(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int8 as n from events');
  return rows[0]?.n ?? 0;
}

/** How far the router is behind: events not yet routed, and the age of the oldest one. */
export async function routerBacklog(
  db: Queryable,
): Promise<{ unrouted: number; oldestSeconds: number }> {
  const { rows } = await db.query<{ unrouted: number; oldest: number | null }>(
    `select count(*)::int8 as unrouted,
            extract(epoch from now() - min(received_at))::float8 as oldest
     from events where routed_at is null`,
  );
  return { unrouted: Number(rows[0]?.unrouted ?? 0), oldestSeconds: rows[0]?.oldest ?? 0 };
}
