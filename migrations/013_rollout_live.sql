-- The live view of watched Deployments, and what issue 17 found the rollout record lacked.
--
-- `live_deployments` is the cluster's current state of each watched Deployment (one row per uid),
-- rewritten on every change the watcher sees: a scale, a late completion, a deletion (the row is
-- kept, marked deleted, so a resuming stream can be told). `rollouts` stays a revision's history.
--
-- Every write to either takes the next `rollout_change_seq`: the rollouts stream's event ids,
-- monotonic across restarts and replicas, so a client resumes with Last-Event-ID.

create sequence rollout_change_seq;

create table live_deployments (
  uid text primary key,
  namespace text not null,
  deployment text not null,
  -- the revision the cluster is on now (its rollout is rollouts (uid, revision))
  revision text not null,
  generation bigint not null,
  images jsonb not null,
  -- the rules applied to the current status: progressing | complete | failed
  phase text not null,
  progress double precision not null,
  desired integer not null,
  updated integer not null,
  ready integer not null,
  available integer not null,
  -- [{ type, status, reason, message, lastTransitionTime }]
  conditions jsonb not null,
  updated_at timestamptz not null,
  deleted_at timestamptz,
  change_seq bigint not null
);

create index live_deployments_by_change on live_deployments (change_seq);
create index live_deployments_by_name on live_deployments (namespace, deployment);

-- When the rollout first passed its progress deadline: kept when it completes late.
alter table rollouts add column deadline_exceeded_at timestamptz;
-- When its Deployment was deleted (the history stays).
alter table rollouts add column deleted_at timestamptz;
-- When the failure CDEvent of a deadline miss went into the intake (see docs/rollouts.md,
-- "Late completion"); `emitted_at` stays the final outcome's.
alter table rollouts add column failure_emitted_at timestamptz;
-- Applied by Cadence's deployer, which sends its own CDEvents.
alter table rollouts add column reported_by_deployer boolean not null default false;

create index rollouts_unsent on rollouts (id) where emitted_at is null;
