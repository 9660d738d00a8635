-- Traffic steps of a service's canary (src/traffic): the step it is at and since when, the last
-- passing interval counted (so a retried or re-evaluated interval never steps twice), and the
-- manual pause and promotion confirmation. One row per service; a new canary version resets it.
-- In SQL so that a restart or another replica continues at the right step.
create table traffic_steps (
  service text primary key,
  version text not null,
  step integer not null,
  step_started_at timestamptz not null,
  last_interval text,
  done boolean not null default false,
  paused_by text,
  confirmed_by text,
  updated_at timestamptz not null
);
