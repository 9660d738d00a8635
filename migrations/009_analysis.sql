-- Canary analyses and their intervals (src/analysis). The runner claims active analyses with
-- FOR UPDATE SKIP LOCKED and holds a lease (lease_owner until lease_expires_at): exactly one
-- replica runs each, and a dead replica's analyses are taken over once its lease expires.
create table analyses (
  id text primary key,
  service text not null,
  namespace text not null,
  environment text not null,
  -- what is being judged: the canary's version (commit or tag) and, if known, stable's
  revision text,
  baseline_revision text,
  -- running → promoting | rolling-back (decided, action pending) → promoted | rolled-back;
  -- running → inconclusive (held, or rolling-back when the spec says so)
  status text not null,
  verdict text,
  reason text,
  -- the analysis settings with every metric's query resolved, as it was started
  spec jsonb not null,
  started_at timestamptz not null,
  next_interval integer not null default 0,
  passed integer not null default 0,
  failed integer not null default 0,
  inconclusive integer not null default 0,
  action_result jsonb,
  action_error text,
  decided_at timestamptz,
  finished_at timestamptz,
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz not null default now()
);
create index analyses_active on analyses (created_at) where finished_at is null;
create index analyses_service on analyses (service, created_at);

-- One row per judged interval: every sample and every metric judgement behind its verdict.
create table analysis_intervals (
  analysis_id text not null references analyses (id) on delete cascade,
  interval_index integer not null,
  window_start timestamptz not null,
  window_end timestamptz not null,
  verdict text not null,
  score float8,
  judgement jsonb not null,
  samples jsonb not null,
  missing jsonb not null,
  traffic jsonb not null,
  evaluated_at timestamptz not null,
  evaluated_by text not null,
  primary key (analysis_id, interval_index)
);
