-- Raw CloudEvents as they arrived, one row per (source, id): the intake's idempotency key.
-- `data` holds JSON (or text) payloads, `data_base64` binary ones, exactly as received.
-- The router marks each row once it has been transformed (routed_at, route_count).
create table events (
  seq bigserial primary key,
  source text not null,
  id text not null,
  type text not null,
  specversion text not null,
  time timestamptz,
  subject text,
  datacontenttype text,
  dataschema text,
  extensions jsonb not null default '{}',
  data jsonb,
  data_base64 text,
  received_at timestamptz not null default now(),
  routed_at timestamptz,
  route_count integer not null default 0,
  route_outputs integer,
  route_note text,
  unique (source, id)
);

-- The router's work queue: only rows not yet routed are in this index.
create index events_unrouted on events (seq) where routed_at is null;
create index events_type on events (type, seq);

-- Validated CDEvents: posted directly or produced by a transformer from a raw event.
create table cdevents (
  seq bigserial primary key,
  source text not null,
  id text not null,
  type text not null,
  subject_type text not null,
  predicate text not null,
  spec_version text not null,
  timestamp timestamptz not null,
  subject_id text not null,
  body jsonb not null,
  event_seq bigint references events (seq),
  transformer text not null,
  stored_at timestamptz not null default now(),
  unique (source, id)
);

create index cdevents_subject on cdevents (subject_type, predicate, timestamp);
