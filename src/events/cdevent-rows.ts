import type { Queryable } from '../store/index.js';
import type { ValidCdevent } from './cdevents/index.js';

export interface CdeventInsert {
  cdevent: ValidCdevent;
  /** The raw event it came from (null when posted directly). */
  eventSeq: number | null;
  transformer: string;
}

/** Stores validated CDEvents; idempotent on (source, id). Returns how many were new. */
export async function insertCdevents(db: Queryable, items: CdeventInsert[]): Promise<number> {
  if (items.length === 0) return 0;
  // In the transformers' order, not sorted like raw events: the stored order is what readers see
  // (an alert's detected before its resolved). Routers on several replicas claim distinct events,
  // whose CDEvent ids derive from them, so their inserts do not overlap and cannot deadlock.
  const pick = <T>(get: (item: CdeventInsert) => T) => items.map(get);
  const { rows } = await db.query(
    `insert into cdevents (source, id, type, subject_type, predicate, spec_version, timestamp,
                           subject_id, body, event_seq, transformer)
     select source, id, type, subject_type, predicate, spec_version, timestamp::timestamptz,
            subject_id, body::jsonb, event_seq, transformer
     from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::int8[], $11::text[])
       as t(source, id, type, subject_type, predicate, spec_version, timestamp, subject_id, body,
            event_seq, transformer)
     on conflict (source, id) do nothing
     returning seq`,
    [
      pick((i) => i.cdevent.source),
      pick((i) => i.cdevent.id),
      pick((i) => i.cdevent.type),
      pick((i) => i.cdevent.subjectType),
      pick((i) => i.cdevent.predicate),
      pick((i) => i.cdevent.specVersion),
      pick((i) => i.cdevent.timestamp),
      pick((i) => subjectId(i.cdevent)),
      pick((i) => JSON.stringify(i.cdevent.event)),
      pick((i) => i.eventSeq),
      pick((i) => i.transformer),
    ],
  );
  return rows.length;
}

function subjectId(cdevent: ValidCdevent): string {
  const subject = cdevent.event.subject as { id?: unknown } | undefined;
  return typeof subject?.id === 'string' ? subject.id : '';
}

export interface StoredCdevent {
  seq: number;
  type: string;
  subjectType: string;
  predicate: string;
  subjectId: string;
  timestamp: Date;
  transformer: string;
  eventSeq: number | null;
  body: Record<string, unknown>;
}

/** CDEvents in store order, optionally of one subject type and predicate. */
export async function listCdevents(
  db: Queryable,
  filter: { subjectType?: string; predicate?: string; eventSeq?: number; limit: number },
): Promise<StoredCdevent[]> {
  const { rows } = await db.query<{
    seq: number;
    type: string;
    subject_type: string;
    predicate: string;
    subject_id: string;
    timestamp: Date;
    transformer: string;
    event_seq: number | null;
    body: Record<string, unknown>;
  }>(
    `select seq, type, subject_type, predicate, subject_id, timestamp, transformer, event_seq, body
     from cdevents
     where ($1::text is null or subject_type = $1)
       and ($2::text is null or predicate = $2)
       and ($3::int8 is null or event_seq = $3)
     order by seq limit $4`,
    [filter.subjectType ?? null, filter.predicate ?? null, filter.eventSeq ?? null, filter.limit],
  );
  return rows.map((row) => ({
    seq: row.seq,
    type: row.type,
    subjectType: row.subject_type,
    predicate: row.predicate,
    subjectId: row.subject_id,
    timestamp: row.timestamp,
    transformer: row.transformer,
    eventSeq: row.event_seq,
    body: row.body,
  }));
}
