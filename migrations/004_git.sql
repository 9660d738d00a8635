-- Git history imported by `cadence git import` (src/git), in the shape askgit made popular so
-- its queries work as written (`select * from commits left join stats on stats.commit_id =
-- commits.id`). One database holds several repositories: every row carries its repository's name.
--
-- No foreign keys from commits/stats: they are checked row by row, and an import writes hundreds
-- of thousands of rows. The import itself keeps them consistent (a repository's rows are deleted
-- together, and a commit's stats are written in the same statement as the commit).

create table git_repositories (
  name text primary key,
  -- the path or URL the history was imported from
  source text not null,
  -- the revision imported (default HEAD) and the commit it resolved to at the last import
  ref text not null,
  head text,
  -- the patching-cadence rules (YAML) given with --rules, used by the report and the API
  rules_yaml text,
  imported_at timestamptz,
  commit_count integer not null default 0
);

create table commits (
  repository text not null,
  id text not null,
  message text not null,
  author_name text not null,
  author_email text not null,
  author_when timestamptz not null,
  committer_name text not null,
  committer_email text not null,
  committer_when timestamptz not null,
  -- the number of parents (askgit's `parents`): 0 for a root commit, 2 or more for a merge
  parents integer not null,
  parent_ids text[] not null,
  primary key (repository, id)
);

-- One row per file a commit changed: against its first parent for a merge, against the empty
-- tree for a root commit. additions/deletions are NULL for a binary file. Renames are recorded
-- as a deletion and an addition (git log --no-renames).
create table stats (
  repository text not null,
  commit_id text not null,
  file text not null,
  additions integer,
  deletions integer
);
-- A hash index: joins on a commit id are equality only, and inserting random 40-character keys
-- into a hash index costs a fraction of a b-tree's (it halved the import's database time).
create index stats_commit_id on stats using hash (commit_id);
