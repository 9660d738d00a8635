-- Rollouts of Kubernetes Deployments, recorded by the rollout watcher (src/rollouts).
--
-- One row per revision of a Deployment (its uid, so a Deployment deleted and re-created starts
-- afresh). Several Cadence replicas watch the same cluster: they upsert the same row, and only
-- the one whose update claims `emitted_at` sends the CDEvent (whose id is deterministic anyway).

create table rollouts (
  id bigserial primary key,
  namespace text not null,
  deployment text not null,
  uid text not null,
  -- deployment.kubernetes.io/revision, else the generation
  revision text not null,
  generation bigint not null,
  images jsonb not null,
  -- progressing | complete | failed
  phase text not null,
  -- updated / desired replicas, 0..1
  progress double precision not null,
  desired integer not null,
  updated integer not null,
  ready integer not null,
  available integer not null,
  -- the Progressing condition's reason and message when it failed
  reason text,
  message text,
  started_at timestamptz not null,
  ended_at timestamptz,
  updated_at timestamptz not null,
  -- when this rollout's CDEvent was handed to the intake (claimed by one replica)
  emitted_at timestamptz,
  unique (uid, revision)
);

create index rollouts_by_deployment on rollouts (namespace, deployment, started_at desc);
create index rollouts_by_update on rollouts (updated_at);
