-- Continuous updates (src/updates): one row per new image tag a service's policy allows, from its
-- first sighting in the registry to the canary's outcome. The unique (service, tag) makes the
-- first replica to see a tag the one that records it, and the state moves only by conditional
-- updates (pending|approved → started), so exactly one replica starts its canary, once.
create table updates (
  id bigserial primary key,
  service text not null,
  tag text not null,
  -- the stable version it updates from, when it was seen
  from_version text,
  first_seen_at timestamptz not null,
  -- pending (waiting for an approval) | approved | started | promoted | rolled-back | superseded
  state text not null,
  approval_required boolean not null,
  approved_by text,
  approved_at timestamptz,
  started_at timestamptz,
  operation_id integer,
  analysis_id text,
  error text,
  finished_at timestamptz,
  -- first sighting → promotion, in seconds
  lead_time_seconds double precision,
  unique (service, tag)
);
create index updates_open on updates (service) where finished_at is null;
