import type { Queryable } from '../store/index.js';
import type { GitCommit } from './git-log-reader.js';

/** A row of `git_repositories`, as the domain sees it. */
export interface GitRepository {
  name: string;
  source: string;
  ref: string;
  head: string | null;
  rulesYaml: string | null;
  importedAt: Date | null;
  commitCount: number;
  /** Boundary commits of the last import of a shallow clone; empty for a complete history. */
  shallowBoundaries: string[];
  /** The repository git read (a subdirectory's enclosing work tree, a URL's mirror). */
  repositoryPath: string | null;
}

interface RepositoryRow {
  name: string;
  source: string;
  ref: string;
  head: string | null;
  rules_yaml: string | null;
  imported_at: Date | null;
  commit_count: number;
  shallow_boundaries: string[];
  repository_path: string | null;
}

const toRepository = (row: RepositoryRow): GitRepository => ({
  name: row.name,
  source: row.source,
  ref: row.ref,
  head: row.head,
  rulesYaml: row.rules_yaml,
  importedAt: row.imported_at,
  commitCount: row.commit_count,
  shallowBoundaries: row.shallow_boundaries,
  repositoryPath: row.repository_path,
});

const REPOSITORY_COLUMNS =
  'name, source, ref, head, rules_yaml, imported_at, commit_count, shallow_boundaries, repository_path';

export async function getRepository(db: Queryable, name: string): Promise<GitRepository | null> {
  const { rows } = await db.query<RepositoryRow>(
    `select ${REPOSITORY_COLUMNS} from git_repositories where name = $1`,
    [name],
  );
  return rows[0] ? toRepository(rows[0]) : null;
}

export async function listRepositories(db: Queryable): Promise<GitRepository[]> {
  const { rows } = await db.query<RepositoryRow>(
    `select ${REPOSITORY_COLUMNS} from git_repositories order by name`,
  );
  return rows.map(toRepository);
}

/**
 * Records a repository before its commits are written. The head stays as it was until the
 * import completes ({@link markImported}); rules are replaced only when given.
 */
export async function upsertRepository(
  db: Queryable,
  repository: { name: string; source: string; ref: string; rulesYaml?: string | undefined },
): Promise<void> {
  await db.query(
    `insert into git_repositories (name, source, ref, rules_yaml) values ($1, $2, $3, $4)
     on conflict (name) do update set
       source = excluded.source, ref = excluded.ref,
       rules_yaml = coalesce(excluded.rules_yaml, git_repositories.rules_yaml)`,
    [repository.name, repository.source, repository.ref, repository.rulesYaml ?? null],
  );
}

/**
 * The import reached `head`, with the clone cut at `shallowBoundaries` (none: complete): later
 * imports read only what is newer, and what is behind a boundary once it opens.
 */
export async function markImported(
  db: Queryable,
  name: string,
  head: string,
  state: { shallowBoundaries: string[]; repositoryPath: string },
): Promise<number> {
  const { rows } = await db.query<{ commit_count: number }>(
    `update git_repositories
     set head = $2, imported_at = now(), shallow_boundaries = $3::text[], repository_path = $4,
         commit_count = (select count(*) from commits where repository = $1)
     where name = $1
     returning commit_count`,
    [name, head, state.shallowBoundaries, state.repositoryPath],
  );
  return rows[0]?.commit_count ?? 0;
}

/** Forgets a repository's history (its rules stay): the next import reads it all again. */
export async function deleteHistory(db: Queryable, name: string): Promise<void> {
  await db.query('update git_repositories set head = null, commit_count = 0 where name = $1', [
    name,
  ]);
  await db.query('delete from stats where repository = $1', [name]);
  await db.query('delete from commit_bytes where repository = $1', [name]);
  await db.query('delete from commits where repository = $1', [name]);
}

/**
 * Forgets the given commits (and their stats): boundary commits of a shallow import, read again
 * with their real parents and changes once the history behind them is there.
 */
export async function deleteCommits(db: Queryable, name: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('delete from stats where repository = $1 and commit_id = any($2::text[])', [
    name,
    ids,
  ]);
  await db.query('delete from commit_bytes where repository = $1 and commit_id = any($2::text[])', [
    name,
    ids,
  ]);
  await db.query('delete from commits where repository = $1 and id = any($2::text[])', [name, ids]);
}

/**
 * Writes a batch of commits and their file stats in ONE statement: every column is sent as an
 * array and unnested server-side, so the statement text is the same for any batch and the
 * round trips are one per batch. A commit already stored (an interrupted import run again) is
 * skipped together with its stats, so a batch can be written twice safely.
 */
export async function insertCommits(
  db: Queryable,
  repository: string,
  commits: GitCommit[],
): Promise<{ commits: number; stats: number }> {
  if (commits.length === 0) return { commits: 0, stats: 0 };
  const ids: string[] = [];
  const messages: string[] = [];
  const authorNames: string[] = [];
  const authorEmails: string[] = [];
  const authorWhens: string[] = [];
  const committerNames: string[] = [];
  const committerEmails: string[] = [];
  const committerWhens: string[] = [];
  const parents: string[] = [];
  const rawAuthorNames: (string | null)[] = [];
  const rawCommitterNames: (string | null)[] = [];
  const rawMessages: (string | null)[] = [];
  const statCommits: string[] = [];
  const files: string[] = [];
  const additions: (number | null)[] = [];
  const deletions: (number | null)[] = [];
  for (const commit of commits) {
    ids.push(commit.id);
    messages.push(commit.message);
    authorNames.push(commit.authorName);
    authorEmails.push(commit.authorEmail);
    authorWhens.push(commit.authorWhen);
    committerNames.push(commit.committerName);
    committerEmails.push(commit.committerEmail);
    committerWhens.push(commit.committerWhen);
    // Parent ids travel as one space-separated string per commit: unnest cannot take an array
    // of arrays of different lengths.
    parents.push(commit.parents.join(' '));
    // Bytes travel as hex text, decoded server-side: the same on both engines' drivers.
    rawAuthorNames.push(commit.raw?.authorName?.toString('hex') ?? null);
    rawCommitterNames.push(commit.raw?.committerName?.toString('hex') ?? null);
    rawMessages.push(commit.raw?.message?.toString('hex') ?? null);
    // A boundary commit's file list is the whole tree as of the cut, not a change: not a stat.
    if (commit.boundary) continue;
    for (const stat of commit.stats) {
      statCommits.push(commit.id);
      files.push(stat.file);
      additions.push(stat.additions);
      deletions.push(stat.deletions);
    }
  }
  const { rows } = await db.query<{ commits: number; stats: number; bytes: number }>(
    `with new_commits as (
       insert into commits (repository, id, message, author_name, author_email, author_when,
                            committer_name, committer_email, committer_when, parents, parent_ids)
       select $1, t.id, t.message, t.author_name, t.author_email, t.author_when,
              t.committer_name, t.committer_email, t.committer_when,
              cardinality(string_to_array(t.parents, ' ')), string_to_array(t.parents, ' ')
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                   $7::text[], $8::text[], $9::timestamptz[], $10::text[])
         as t(id, message, author_name, author_email, author_when,
              committer_name, committer_email, committer_when, parents)
       on conflict (repository, id) do nothing
       returning id
     ), new_stats as (
       insert into stats (repository, commit_id, file, additions, deletions)
       select $1, s.commit_id, s.file, s.additions, s.deletions
       from unnest($11::text[], $12::text[], $13::int4[], $14::int4[])
         as s(commit_id, file, additions, deletions)
       where s.commit_id in (select id from new_commits)
       returning 1
     ), new_bytes as (
       insert into commit_bytes (repository, commit_id, author_name, committer_name, message)
       select $1, b.id, decode(b.author_name, 'hex'), decode(b.committer_name, 'hex'),
              decode(b.message, 'hex')
       from unnest($2::text[], $15::text[], $16::text[], $17::text[])
         as b(id, author_name, committer_name, message)
       where coalesce(b.author_name, b.committer_name, b.message) is not null
         and b.id in (select id from new_commits)
       on conflict do nothing
       returning 1
     )
     select (select count(*) from new_commits)::int4 as commits,
            (select count(*) from new_stats)::int4 as stats,
            (select count(*) from new_bytes)::int4 as bytes`,
    [
      repository,
      ids,
      messages,
      authorNames,
      authorEmails,
      authorWhens,
      committerNames,
      committerEmails,
      committerWhens,
      parents,
      statCommits,
      files,
      additions,
      deletions,
      rawAuthorNames,
      rawCommitterNames,
      rawMessages,
    ],
  );
  const { commits: added, stats } = rows[0]!;
  return { commits: added, stats };
}

/** What the rules need of one commit. */
export interface HistoryCommit {
  id: string;
  message: string;
  authorWhen: Date;
  parents: number;
  files: string[];
}

/** A repository's commits with the files each changed, oldest first (by author time). */
export async function loadHistory(db: Queryable, repository: string): Promise<HistoryCommit[]> {
  const { rows: commitRows } = await db.query<{
    id: string;
    message: string;
    author_when: Date;
    parents: number;
  }>(
    `select id, message, author_when, parents from commits
     where repository = $1 order by author_when, committer_when, id`,
    [repository],
  );
  const { rows: statRows } = await db.query<{ commit_id: string; file: string }>(
    'select commit_id, file from stats where repository = $1',
    [repository],
  );
  const byId = new Map<string, HistoryCommit>();
  const history = commitRows.map((row) => {
    const commit: HistoryCommit = {
      id: row.id,
      message: row.message,
      authorWhen: new Date(row.author_when),
      parents: row.parents,
      files: [],
    };
    byId.set(row.id, commit);
    return commit;
  });
  for (const row of statRows) byId.get(row.commit_id)?.files.push(row.file);
  for (const commit of history) commit.files.sort();
  return history;
}
