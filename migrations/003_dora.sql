-- DORA facts, projected from stored CDEvents (src/dora/projector.ts). Each fact keeps the
-- sequence number of the CDEvent it came from, so projection is idempotent and traceable.

create table deployments (
  cdevent_seq int8 primary key references cdevents (seq),
  cdevent_id text not null,
  service text not null,
  environment text not null,
  -- 'deploy' (service.deployed/upgraded) or 'rollback' (service.rolledback)
  kind text not null check (kind in ('deploy', 'rollback')),
  -- 'failure' for a deploy that reached the environment and failed (failed job, failed canary)
  outcome text not null check (outcome in ('success', 'failure')),
  deployed_at timestamptz not null,
  revision text,
  repository text,
  artifact text,
  -- the incident this deployment was made to remedy, when the producer says so
  remedies text
);
create index deployments_stream on deployments (environment, service, deployed_at);
create index deployments_time on deployments (deployed_at);

create table changes (
  cdevent_seq int8 primary key references cdevents (seq),
  change_key text not null,
  repository text not null,
  -- the commit the change produced on its target branch
  revision text,
  merged_at timestamptz not null
);
create index changes_repository on changes (repository, merged_at);

create table change_commits (
  change_seq int8 not null references changes (cdevent_seq),
  sha text not null,
  committed_at timestamptz not null,
  primary key (change_seq, sha)
);

-- One row per incident key; detection and resolution may arrive in either order.
create table incidents (
  incident_key text primary key,
  service text,
  environment text not null,
  detected_at timestamptz,
  resolved_at timestamptz,
  cause_revision text,
  cause_deployment text
);

-- Which CDEvents have been projected into facts. A marker per row rather than a cursor: with
-- several writers, sequence numbers can commit out of order and a cursor would skip some.
alter table cdevents add column projected_at timestamptz;
create index cdevents_unprojected on cdevents (seq) where projected_at is null;
