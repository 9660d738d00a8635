import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import {
  deleteCommits,
  deleteHistory,
  getRepository,
  insertCommits,
  markImported,
  upsertRepository,
} from './commit-rows.js';
import { readGitLog, type GitCommit } from './git-log-reader.js';
import { materializeCadence } from './materialized-cadence.js';
import { parseRules } from './rules.js';
import { redactCredentials, runGit, tryGit } from './run-git.js';

export type ImportMode = 'full' | 'incremental' | 'unchanged' | 'rewritten' | 'deepened';

export interface ImportProgress {
  /** Commits written so far by this import. */
  commits: number;
  /** Commits this import will read, when counted (`countTotal`); null otherwise. */
  total: number | null;
}

export interface ImportOptions {
  /** A local repository path (bare or not) or a URL (cloned as a bare mirror into `mirrorDir`). */
  source: string;
  /** The repository's name in the tables; default: the last part of the path or URL. */
  name?: string | undefined;
  /** The revision whose history is imported (default HEAD: the default branch of a mirror). */
  ref?: string | undefined;
  /** Patching-cadence rules (YAML), validated and stored with the repository. */
  rulesYaml?: string | undefined;
  /** Where URL sources are mirrored (one bare clone per URL, fetched again on re-import). */
  mirrorDir: string;
  /** Commits per insert statement (default 1000). */
  batchCommits?: number;
  /** Insert statements in flight while git keeps reading (default 2). */
  concurrency?: number;
  /**
   * Import a shallow clone anyway: its boundary commits are marked (`commits.boundary`) and their
   * stats left out, since git shows a boundary's whole tree as its change. Default: refused.
   */
  allowShallow?: boolean;
  /** Count the commits first (one `git rev-list --count`) so progress has a total. */
  countTotal?: boolean;
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

/** The outcome of an import: a value, also when nothing was new. */
export interface ImportSummary {
  repository: string;
  source: string;
  /** full: first import; incremental: only new commits; unchanged: nothing new; rewritten:
   * the previous head is no longer in the history (a force-push), so the history was re-read;
   * deepened: no new commit, but history behind a shallow import's boundary arrived. */
  mode: ImportMode;
  /** The repository git read: the enclosing work tree when `source` is a subdirectory of it,
   * the bare mirror of a URL. */
  repositoryPath: string;
  /** `source` relative to `repositoryPath` when it is a subdirectory (its whole repository is
   * imported, not only the subdirectory); null otherwise. */
  subdirectory: string | null;
  /** Boundary commits of a shallow clone imported with `allowShallow`; empty when complete. */
  shallowBoundaries: string[];
  /** Boundaries of the previous import whose history this import read (after an unshallow). */
  boundariesOpened: number;
  head: string;
  previousHead: string | null;
  commitsAdded: number;
  statsAdded: number;
  /** Commits stored for the repository after the import. */
  commitsStored: number;
  durationMs: number;
}

/** `https://…`, `ssh://…`, `file://…` and scp-like `git@host:org/repo.git` are URLs. */
export function isGitUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[^/\s:]+@[^/\s:]+:/.test(source);
}

/** `https://host/org/shop.git` → `shop`; `./gitops/` → `gitops`. */
export function defaultRepositoryName(source: string): string {
  const path = isGitUrl(source) ? source.replace(/^[^@/]+@[^:/]+:/, '') : resolve(source);
  const last =
    path
      .replace(/[/\\]+$/, '')
      .split(/[/\\:]/)
      .pop() ?? '';
  return last.replace(/\.git$/, '') || 'repository';
}

function checkName(name: string): string {
  // The name is shown in tables and used in a directory name: keep it printable and short.
  if (!/^[\w.@/-]{1,200}$/.test(name) || name.includes('..')) {
    throw new CadenceError('invalid-input', {
      field: 'name',
      detail: `repository name ${JSON.stringify(name)} must be 1-200 letters, digits and . _ - / @`,
    });
  }
  return name;
}

/** A bare mirror of `url` under `mirrorDir`: cloned the first time, fetched (pruned) after. */
async function mirror(url: string, name: string, mirrorDir: string): Promise<string> {
  // Keyed by the URL without credentials, so a rotated token keeps using the same mirror.
  const hash = createHash('sha256').update(redactCredentials(url)).digest('hex').slice(0, 12);
  const dir = join(mirrorDir, `${name.replace(/[^\w.-]/g, '_')}-${hash}.git`);
  if (existsSync(dir)) {
    await runGit(dir, ['remote', 'set-url', 'origin', url], 'source');
    // A mirror is only shallow when its source was (cloned from a shallow clone): then each fetch
    // asks for all the history the source has now, so an unshallowed source completes it.
    const shallow = (await shallowBoundaries(dir)).length > 0;
    await runGit(
      dir,
      ['fetch', '--prune', '--quiet', ...(shallow ? ['--unshallow'] : []), 'origin'],
      'source',
    );
    return dir;
  }
  mkdirSync(mirrorDir, { recursive: true });
  // Cloned beside its final place and renamed, so an interrupted clone is never mistaken for one.
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    await runGit(mirrorDir, ['clone', '--mirror', '--quiet', url, partial], 'source');
    renameSync(partial, dir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return dir;
}

/** Where a local path's repository is, and the path's place in it. */
async function localRepository(
  path: string,
): Promise<{ dir: string; repositoryPath: string; subdirectory: string | null }> {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CadenceError('invalid-input', {
      field: 'source',
      detail: `${path} is neither a directory nor a git URL`,
    });
  }
  const check = await tryGit(dir, ['rev-parse', '--git-dir']);
  if (check.code !== 0) {
    throw new CadenceError('invalid-input', {
      field: 'source',
      detail: `${path} is not a git repository`,
    });
  }
  const top = await tryGit(dir, ['rev-parse', '--show-toplevel']);
  if (top.code === 0 && top.stdout.trim() !== '') {
    const prefix = (await runGit(dir, ['rev-parse', '--show-prefix'])).trim().replace(/\/$/, '');
    return { dir, repositoryPath: top.stdout.trim(), subdirectory: prefix === '' ? null : prefix };
  }
  // A bare repository (or inside a .git directory): the git directory is the repository.
  const gitDir = (await runGit(dir, ['rev-parse', '--absolute-git-dir'])).trim();
  return { dir, repositoryPath: gitDir, subdirectory: null };
}

/**
 * The boundary commits of a shallow clone (`.git/shallow`: commits whose parents were not
 * fetched), empty for a complete history.
 */
export async function shallowBoundaries(dir: string): Promise<string[]> {
  const shallow = (await runGit(dir, ['rev-parse', '--is-shallow-repository'])).trim();
  if (shallow !== 'true') return [];
  const file = resolve(dir, (await runGit(dir, ['rev-parse', '--git-path', 'shallow'])).trim());
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[0-9a-f]{40,64}$/.test(line))
    .sort();
}

/** The parents a commit object records: a shallow boundary's, which git log hides. */
async function recordedParents(dir: string, commit: string): Promise<string[]> {
  const object = await runGit(dir, ['cat-file', 'commit', commit]);
  const headers = object.slice(0, object.indexOf('\n\n'));
  return headers
    .split('\n')
    .filter((line) => line.startsWith('parent '))
    .map((line) => line.slice('parent '.length));
}

function shallowRefusal(source: string, boundaries: string[]): CadenceError {
  return new CadenceError('invalid-input', {
    field: 'source',
    detail:
      `${source} is a shallow clone (its history stops at ${boundaries.length} boundary ` +
      `commit${boundaries.length === 1 ? '' : 's'}, whose changes git would show as the whole ` +
      `tree): run \`git -C ${source} fetch --unshallow\` and import again, or pass ` +
      '--allow-shallow to import what is there with the boundary marked and its stats left out',
  });
}

async function resolveHead(dir: string, ref: string): Promise<string> {
  const result = await tryGit(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (result.code === 0) return result.stdout.trim();
  const any = await tryGit(dir, ['rev-list', '-n', '1', '--all']);
  throw new CadenceError('invalid-input', {
    field: 'ref',
    detail:
      any.code === 0 && any.stdout.trim() === ''
        ? 'the repository has no commits yet'
        : `${ref} is not a commit in the repository`,
  });
}

/** Is the commit still there and an ancestor of (or equal to) `head`? */
async function stillInHistory(dir: string, commit: string, head: string): Promise<boolean> {
  const exists = await tryGit(dir, ['cat-file', '-e', `${commit}^{commit}`]);
  if (exists.code !== 0) return false;
  const ancestor = await tryGit(dir, ['merge-base', '--is-ancestor', commit, head]);
  return ancestor.code === 0;
}

/**
 * Imports a repository's history into `commits` and `stats`: one streamed `git log`, parsed as
 * it arrives and written in batches while git keeps reading, so memory stays flat whatever the
 * history's size. Re-import reads only the commits since the last imported head; when that head
 * is no longer in the history (a force-push rewrote it) the repository is read again from scratch.
 * An interrupted import leaves its head unchanged; running it again completes it.
 *
 * @example
 * const summary = await importRepository(store, { source: './gitops', mirrorDir: '.cadence/git' });
 * // { repository: 'gitops', mode: 'full', commitsAdded: 1234, … }
 */
export async function importRepository(
  store: Store,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  if (options.rulesYaml !== undefined) parseRules(options.rulesYaml);
  const name = checkName(options.name ?? defaultRepositoryName(options.source));
  return withImportLock(store, name, () => importLocked(store, name, options, started));
}

// Any constant will do: it only has to be the same in every Cadence process.
const IMPORT_LOCK_KEY = 4_217_734;

/**
 * On PostgreSQL, one import of a repository at a time across every process sharing the database
 * (two would race on the deletion of a rewritten history): a transaction-scoped advisory lock,
 * held open while the import writes through the pool's other connections. PGlite is one
 * process's database, so there is nothing to coordinate.
 */
async function withImportLock<T>(store: Store, name: string, work: () => Promise<T>): Promise<T> {
  if (store.engine !== 'postgres') return work();
  return store.transaction(async (tx) => {
    const { rows } = await tx.query<{ locked: boolean }>(
      'select pg_try_advisory_xact_lock($1, hashtext($2)) as locked',
      [IMPORT_LOCK_KEY, name],
    );
    if (!rows[0]?.locked) {
      throw new CadenceError('conflict', {
        field: 'name',
        detail: `repository ${name} is being imported by another process; try again when it is done`,
      });
    }
    return work();
  });
}

async function importLocked(
  store: Store,
  name: string,
  options: ImportOptions,
  started: number,
): Promise<ImportSummary> {
  const url = isGitUrl(options.source);
  // What is stored and shown: a URL without its credentials.
  const source = url ? redactCredentials(options.source) : resolve(options.source);
  const ref = options.ref ?? 'HEAD';
  const existing = await getRepository(store, name);
  if (existing && existing.source !== source) {
    throw new CadenceError('conflict', {
      field: 'name',
      detail: `repository ${name} was imported from ${existing.source}; pass --name to import ${source} under another name`,
    });
  }
  const local = url ? null : await localRepository(options.source);
  const dir = local ? local.dir : await mirror(options.source, name, options.mirrorDir);
  const repositoryPath = local ? local.repositoryPath : dir;
  const boundaries = await shallowBoundaries(dir);
  if (boundaries.length > 0 && !options.allowShallow) {
    throw shallowRefusal(url ? source : resolve(options.source), boundaries);
  }
  const head = await resolveHead(dir, ref);
  const previousHead = existing?.head ?? null;

  let mode: ImportMode = 'full';
  let revisions = [head];
  if (previousHead === head) {
    mode = 'unchanged';
  } else if (previousHead !== null) {
    if (await stillInHistory(dir, previousHead, head)) {
      mode = 'incremental';
      revisions = [head, `^${previousHead}`];
    } else {
      mode = 'rewritten';
    }
  }
  // Boundaries of the last import that are no longer boundaries: the history behind them has
  // arrived (`git fetch --unshallow` or `--deepen`). Those commits were stored without their
  // parents and stats; they are read again with everything behind them.
  const opened =
    mode === 'full' || mode === 'rewritten'
      ? []
      : (existing?.shallowBoundaries ?? []).filter((commit) => !boundaries.includes(commit));
  if (opened.length > 0 && mode === 'unchanged') mode = 'deepened';

  await upsertRepository(store, { name, source, ref, rulesYaml: options.rulesYaml });
  if (mode === 'rewritten') await store.transaction((tx) => deleteHistory(tx, name));

  const boundaryParents = new Map<string, string[]>();
  for (const commit of boundaries) boundaryParents.set(commit, await recordedParents(dir, commit));
  const markBoundaries = async function* (reader: AsyncGenerator<GitCommit[]>) {
    for await (const commits of reader) {
      for (const commit of commits) {
        const parents = boundaryParents.get(commit.id);
        if (parents) {
          commit.boundary = true;
          commit.parents = parents;
        }
      }
      yield commits;
    }
  };

  let commitsAdded = 0;
  let statsAdded = 0;
  const reads: string[][] = [];
  if (mode !== 'unchanged' && mode !== 'deepened') reads.push(revisions);
  if (opened.length > 0) {
    await store.transaction((tx) => deleteCommits(tx, name, opened));
    reads.push(opened);
  }
  for (const read of reads) {
    let total: number | null = null;
    if (options.countTotal) {
      total = commitsAdded + Number((await runGit(dir, ['rev-list', '--count', ...read])).trim());
    }
    const progress = () => options.onProgress?.({ commits: commitsAdded, total });
    progress();
    const before = { commits: commitsAdded, stats: statsAdded };
    const written = await writeHistory(store, name, markBoundaries(readGitLog(dir, read)), {
      batchCommits: options.batchCommits ?? 1000,
      concurrency: options.concurrency ?? 2,
      onBatch: (added) => {
        commitsAdded += added.commits;
        statsAdded += added.stats;
        progress();
      },
    });
    commitsAdded = before.commits + written.commits;
    statsAdded = before.stats + written.stats;
  }
  const commitsStored = await markImported(store, name, head, {
    shallowBoundaries: boundaries,
    repositoryPath,
  });
  // The rules' results follow every import (new commits, or new rules with --rules).
  await materializeCadence(store, name);
  return {
    repository: name,
    source,
    mode,
    repositoryPath,
    subdirectory: local?.subdirectory ?? null,
    shallowBoundaries: boundaries,
    boundariesOpened: opened.length,
    head,
    previousHead,
    commitsAdded,
    statsAdded,
    commitsStored,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Drains the reader into insert statements, keeping up to `concurrency` in flight: git parses
 * the next commits while the database writes the last ones. A failed statement stops the import.
 */
async function writeHistory(
  store: Store,
  repository: string,
  reader: AsyncGenerator<GitCommit[]>,
  options: {
    batchCommits: number;
    concurrency: number;
    onBatch: (added: { commits: number; stats: number }) => void;
  },
): Promise<{ commits: number; stats: number }> {
  const totals = { commits: 0, stats: 0 };
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let batch: GitCommit[] = [];
  let batchStats = 0;

  const flush = async () => {
    const rows = batch;
    batch = [];
    batchStats = 0;
    const write: Promise<void> = insertCommits(store, repository, rows)
      .then(
        (added) => {
          totals.commits += added.commits;
          totals.stats += added.stats;
          options.onBatch(added);
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => inFlight.delete(write));
    inFlight.add(write);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (failure) throw failure.error;
  };

  try {
    for await (const commits of reader) {
      for (const commit of commits) {
        batch.push(commit);
        batchStats += commit.stats.length;
        // Bounded by files too: one commit can touch thousands, and a statement's arrays are
        // held in memory on both sides.
        if (batch.length >= options.batchCommits || batchStats >= options.batchCommits * 5) {
          await flush();
        }
      }
    }
    if (batch.length > 0) await flush();
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
  return totals;
}
