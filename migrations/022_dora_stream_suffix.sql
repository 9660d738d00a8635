-- A stream rewritten from a cut reads only the facts from near the cut on (src/dora/stream-
-- suffix.ts): what the rules carry from before it comes from the stored rows. A baseline is where
-- later deployments deliver from but has no delivery row, so it gets one here: its revision and
-- the commits it brought (which later deployments must not count again).
create table dora_baselines (
  deployment_seq int8 primary key,
  service text not null,
  environment text not null,
  deployed_at timestamptz not null,
  revision text not null,
  shas text[] not null
);
create index dora_baselines_stream on dora_baselines (environment, service, deployed_at);

-- A stream's rows by time (the suffix a rewrite deletes, the last success before a time), and
-- delivered commits by sha (whether the stream delivered one before the cut).
create index dora_deliveries_stream_time on dora_deliveries (environment, service, deployed_at);
drop index dora_deliveries_stream;
create index dora_delivered_commits_stream_time
  on dora_delivered_commits (environment, service, deployed_at);
drop index dora_delivered_commits_stream;
create index dora_delivered_commits_sha on dora_delivered_commits (sha);
-- A stream's failed deliveries not restored before a time (a cut can reach back to them).
create index dora_deliveries_unrestored on dora_deliveries
  (environment, service, (coalesce(restored_at, 'infinity'::timestamptz))) where failed;

-- Each stream's reporters and the time of each one's latest report: a rewrite from a time no other
-- reporter reported within the identity window before needs none of the reports before it.
create table dora_stream_reporters (
  environment text not null,
  service text not null,
  reporter text,
  last_at timestamptz not null
);
create unique index dora_stream_reporters_key
  on dora_stream_reporters (environment, service, reporter) nulls not distinct;
insert into dora_stream_reporters (environment, service, reporter, last_at)
select environment, service, reporter, max(deployed_at) from deployments
group by environment, service, reporter;

-- A repository's new changes remember the earliest merge among them: only deliveries of revisions
-- merged from then on can change (null: from the beginning, as for marks made before this column).
alter table dora_stale_repositories add column merged_from timestamptz;
-- Which deployments and builds name a revision (or an abbreviation of it) that moved.
create index deployments_revision on deployments (revision) where revision is not null;
create index artifacts_revision on artifacts (revision) where revision is not null;
create index changes_revision on changes (revision) where revision is not null;

-- Rows written before this table: a stream with a baseline is rewritten whole once.
insert into dora_stale_streams (environment, service, since, affected_from)
select distinct environment, service, now(), null::timestamptz from deployments where baseline
on conflict (environment, service) do update set affected_from = null;
