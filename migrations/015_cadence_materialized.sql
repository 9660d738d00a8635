-- Patching cadence, part 2 (src/git): what an import must remember to stay faithful to the
-- history, and the rules' results materialized so Grafana, `cadence sql` and the dashboard read
-- the same rows the report is computed from.

-- `commits` keeps askgit's shape (its queries, `select *` included, work as written); what the
-- import must remember beyond it lives beside it.

-- The bytes of a name or message that is not valid UTF-8 (a Latin-1 name in a commit with no
-- encoding header): `commits` holds a lossy decoding (U+FFFD), this row the original bytes.
-- Only such commits have a row; a column is NULL when that field decoded cleanly.
create table commit_bytes (
  repository text not null,
  commit_id text not null,
  author_name bytea,
  committer_name bytea,
  message bytea,
  primary key (repository, commit_id)
);

-- The boundary commits of the last import of a shallow clone (`--allow-shallow`; empty when the
-- clone was complete). Their `commits` rows carry the parents the commit objects record, and
-- they have no `stats` (git shows a boundary's whole tree as its change). An import that finds
-- fewer (after `git fetch --unshallow` or `--deepen`) reads the history behind them.
alter table git_repositories add column shallow_boundaries text[] not null default '{}';
-- The repository git actually read: the enclosing work tree of a subdirectory, or the mirror.
alter table git_repositories add column repository_path text;

-- The rules' events: one row per (commit, role, environment, package), recomputed from the
-- stored rules after every import (and so when the rules change).
create table cadence_events (
  repository text not null,
  commit_id text not null,
  at timestamptz not null,
  role text not null,
  purpose text not null,
  package text not null,
  -- deploys: the environment, and whether it is the rules' production (the last listed)
  environment text,
  production boolean not null default false
);
create index cadence_events_repository on cadence_events (repository, role, at);

-- Each cause and the first production deploy of its package at or after it; deploy columns are
-- NULL for a pending cause.
create table cadence_pairs (
  repository text not null,
  package text not null,
  cause_commit text not null,
  cause_at timestamptz not null,
  deploy_commit text,
  deploy_at timestamptz,
  lead_time_days double precision
);
create index cadence_pairs_repository on cadence_pairs (repository, deploy_at);

-- The interval before each deploy to an environment folder (distinct deploy commits in time
-- order): the blog's per-interval view.
create table cadence_intervals (
  repository text not null,
  environment text not null,
  -- the rules' production environment (the last listed)?
  production boolean not null,
  commit_id text not null,
  at timestamptz not null,
  previous_commit_id text not null,
  previous_at timestamptz not null,
  minutes double precision not null
);
create index cadence_intervals_repository on cadence_intervals (repository, environment, at);

-- `cadence sql` reads these as well (migration 012's reader role), so Grafana's queries can be
-- tried there first.
do $$
begin
  if exists (select from pg_roles where rolname = 'cadence_git_reader') then
    grant select on commit_bytes, cadence_events, cadence_pairs, cadence_intervals
      to cadence_git_reader;
  end if;
end
$$;
