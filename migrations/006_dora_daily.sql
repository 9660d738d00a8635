-- Daily rollups of the rules' results per environment, so an overview over every service and a
-- year reads ~365 rows and a few hundred histogram bins instead of a million deliveries.
-- src/dora/daily-rollups.ts recomputes a day from dora_deliveries / dora_delivered_commits
-- whenever a stream rewrite touched it; queries over one service or team still read those
-- tables directly (they hold few rows per service).

create table dora_daily (
  environment text not null,
  day date not null,
  deployments int8 not null,   -- successful deploys
  attempts int8 not null,      -- deploys, successful or not
  failed int8 not null,
  rework int8 not null,        -- successful deploys that were rework
  recovered int8 not null,     -- failed deploys with a restoration time
  primary key (environment, day)
);

-- Log-spaced duration bins (src/dora/duration-bins.ts): lead times of the commits delivered
-- that day, and recovery times of that day's failed deploys.
create table dora_daily_bins (
  environment text not null,
  day date not null,
  measure text not null check (measure in ('lead_time', 'recovery')),
  bin int4 not null,
  count int8 not null,
  primary key (environment, day, measure, bin)
);

-- Days whose rollup is out of date. Marked in the transaction that rewrites a stream (an
-- upsert, so the marking transaction holds the row until it commits and no refresh can clear
-- the mark before the rewrite is visible); claimed with for update skip locked.
create table dora_stale_days (
  environment text not null,
  day date not null,
  marked_at timestamptz not null default now(),
  primary key (environment, day)
);

-- Existing installations: every day with deliveries is computed by the first refresh.
insert into dora_stale_days (environment, day)
select distinct environment, (deployed_at at time zone 'UTC')::date from dora_deliveries;
