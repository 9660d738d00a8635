-- The deployer (src/deploy): API tokens, each service's deployed revisions, and the audit log.

-- Tokens scoped to services and actions. Only a SHA-256 of the secret is kept: the secret is 32
-- random bytes, so a fast hash is enough (no dictionary to guess from) and lookups stay cheap.
create table deploy_tokens (
  name text primary key,
  secret_sha256 text not null unique,
  -- service names, or '*' for every service
  services text[] not null,
  -- read, deploy, canary, promote, rollback
  actions text[] not null,
  created_at timestamptz not null default now()
);

-- What runs for each service: the stable revision, the canary (if any) and the stable revision
-- before the current one, which rollback returns to. Each revision is a JSON object
-- {version, commit, tag, imageTags, objects, at}. The lock columns serialize operations on one
-- service across replicas (a lease, so a replica that dies cannot hold it forever).
create table deploy_services (
  service text primary key,
  stable jsonb,
  canary jsonb,
  previous jsonb,
  lock_owner text,
  lock_expires_at timestamptz,
  updated_at timestamptz not null default now()
);

-- Every operation, successful or not: who, what, at which ref, the result and how long it took.
create table deploy_operations (
  id bigserial primary key,
  service text not null,
  action text not null,
  actor text not null,
  commit text,
  tag text,
  version text,
  outcome text not null check (outcome in ('success', 'failure')),
  detail jsonb not null,
  started_at timestamptz not null,
  duration_ms integer not null
);

create index deploy_operations_service on deploy_operations (service, id desc);
