-- Builds: which commit an image digest was built from (src/dora/build-revision.ts), so a
-- Deployment running `web@sha256:…` with no revision of its own gets its commit's lead time.
-- From artifact.packaged / artifact.published / build.finished CDEvents pinned to a digest.
create table artifacts (
  cdevent_seq int8 primary key references cdevents (seq),
  -- `sha256:<hex>`, lower case
  digest text not null,
  purl text not null,
  built_at timestamptz not null,
  revision text,
  repository text,
  -- the change (a PR) it was built from, when it names one that is not a sha
  change_key text
);
create index artifacts_digest on artifacts (digest);
-- A new change (by key or repository) finds the builds, hence the deployments, it can change.
create index artifacts_change_key on artifacts (change_key) where change_key is not null;
create index artifacts_repository on artifacts (repository) where repository is not null;

-- The digest a deployment's image is pinned to, for finding its build.
alter table deployments add column digest text;
update deployments
set digest = replace(split_part(split_part(lower(artifact), '@', 2), '?', 1), '%3a', ':')
where artifact like 'pkg:%@%';
update deployments set digest = null where digest !~ '^sha(256|384|512):[0-9a-f]{32,128}$';
create index deployments_digest on deployments (digest) where digest is not null;

-- Artifact and build CDEvents stored before this table: projected again (they made no other fact).
update cdevents set projected_at = null
where subject_type in ('artifact', 'build') and projected_at is not null;

-- An incident whose producer named no environment falls back to the producer's own default
-- (Alertmanager's `defaultEnvironment`) when set, else `dora.environment`.
alter table incidents add column default_environment text;
