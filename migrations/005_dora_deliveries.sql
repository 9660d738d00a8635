-- The DORA rules' results, kept per stream (service × environment) so metrics are SQL aggregates
-- over one row per deployment attempt instead of a replay of every fact at read time.
-- src/dora/delivery-rows.ts rewrites a stream's rows whenever a fact that can change them arrives.

create table dora_deliveries (
  -- the deployment's cdevent_seq (derived rows: no foreign key, see below)
  deployment_seq int8 primary key,
  service text not null,
  environment text not null,
  kind text not null,
  outcome text not null,
  deployed_at timestamptz not null,
  failed boolean not null,
  failure_reasons text[] not null,
  restored_at timestamptz,
  rework boolean not null
);
create index dora_deliveries_window on dora_deliveries (environment, deployed_at)
  include (service, kind, outcome, failed, restored_at, rework);
create index dora_deliveries_stream on dora_deliveries (environment, service);

-- What rewriting one stream looks up: its incidents, and deployments incidents name.
create index deployments_cdevent_id on deployments (cdevent_id);
create index incidents_stream on incidents (environment, service);
create index incidents_cause_deployment on incidents (cause_deployment)
  where cause_deployment is not null;

-- Each commit a successful deployment delivered for the first time in its stream.
-- Neither table has foreign keys: they are derived, rewritten a stream at a time, and
-- PostgreSQL's per-row checks (planned once per connection, while the tables were empty)
-- made a rewrite's cost grow with the table.
create table dora_delivered_commits (
  deployment_seq int8 not null,
  sha text not null,
  committed_at timestamptz not null,
  lead_time_seconds float8 not null,
  -- copied from the deployment so a window's lead times are read from one index
  service text not null,
  environment text not null,
  deployed_at timestamptz not null,
  primary key (deployment_seq, sha)
);
create index dora_delivered_commits_window on dora_delivered_commits (environment, deployed_at)
  include (service, lead_time_seconds);
create index dora_delivered_commits_stream on dora_delivered_commits (environment, service);

-- Streams whose rows must be recomputed, and repositories whose changes moved (every stream
-- deploying from one is stale). Written in the projector's transaction, drained by the refresh.
create table dora_stale_streams (
  environment text not null,
  service text not null,
  primary key (environment, service)
);
create table dora_stale_repositories (
  repository text primary key
);

-- The rules (attribution window, service → repository) the rows were computed with: when the
-- configuration changes them, every stream is recomputed.
create table dora_rules_state (
  id int primary key check (id = 1),
  rules_digest text not null
);
