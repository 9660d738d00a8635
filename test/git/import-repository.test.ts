/**
 * `importRepository` on every engine, against real git: a public-project-like history imported
 * end to end and cross-checked against `git log` and `git show --numstat`; incremental re-import;
 * a force-push; a URL mirrored and fetched again; an interrupted import completed; bad input.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importRepository, redactCredentials } from '../../src/git/index.js';
import { getRepository, insertCommits } from '../../src/git/commit-rows.js';
import { readGitLog, type GitCommit } from '../../src/git/git-log-reader.js';
import { CadenceError } from '../../src/problem/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { buildPublicLikeHistory, GitFixture } from '../support/git-fixture.js';

/** Undoes git's C-style quoting of a path (`"tab\there"`, octal bytes for non-ASCII). */
function unquoteGitPath(path: string): string {
  if (!path.startsWith('"')) return path;
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };
  for (let i = 1; i < path.length - 1; i++) {
    const c = path[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const e = path[++i]!;
    if (/[0-7]/.test(e)) {
      bytes.push(parseInt(path.slice(i, i + 3), 8));
      i += 2;
    } else {
      bytes.push(simple[e] ?? e.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

type StatKey = string;
const statKey = (
  commit: string,
  file: string,
  additions: number | null,
  deletions: number | null,
) => JSON.stringify([commit, file, additions, deletions]);

/** Every commit's file stats as `git show --numstat` prints them (quoted paths, no -z). */
function gitShowStats(fixture: GitFixture, commits: string[]): StatKey[] {
  const keys: StatKey[] = [];
  for (let i = 0; i < commits.length; i += 200) {
    const output = fixture.git([
      'show',
      '--numstat',
      '--format=%x01%H',
      '--diff-merges=first-parent',
      '--no-renames',
      ...commits.slice(i, i + 200),
    ]);
    let current = '';
    for (const line of output.split('\n')) {
      if (line.startsWith('\x01')) current = line.slice(1);
      else if (line.length > 0) {
        const [additions, deletions, ...path] = line.split('\t');
        const count = (text: string | undefined) => (text === '-' ? null : Number(text));
        keys.push(
          statKey(current, unquoteGitPath(path.join('\t')), count(additions), count(deletions)),
        );
      }
    }
  }
  return keys.sort();
}

describe('redactCredentials', () => {
  const cases: [text: string, redacted: string][] = [
    [
      'https://x-access-token:s3cret@github.com/org/repo.git',
      'https://***@github.com/org/repo.git',
    ],
    ['https://s3cret@github.com/org/repo.git', 'https://***@github.com/org/repo.git'],
    [
      "fatal: repository 'https://u:p@host/r/' not found",
      "fatal: repository 'https://***@host/r/' not found",
    ],
    ['https://github.com/org/repo.git', 'https://github.com/org/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ['/srv/git/repo', '/srv/git/repo'],
  ];
  for (const [text, redacted] of cases) {
    it(`${text} → ${redacted}`, () => assert.equal(redactCredentials(text), redacted));
  }
});

let publicLike: GitFixture;
let mirrorDir: string;
before(async () => {
  publicLike = await buildPublicLikeHistory();
  mirrorDir = mkdtempSync(join(tmpdir(), 'cadence-mirrors-'));
});
after(() => {
  publicLike.remove();
  rmSync(mirrorDir, { recursive: true, force: true });
});

for (const engine of engines) {
  describe(`git import on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => ({ store, dispose } = await openTestStore(engine)));
    after(() => dispose());

    it('imports a public-project-like history exactly as git log and git show report it', async () => {
      const summary = await importRepository(store, {
        source: publicLike.dir,
        name: 'public',
        mirrorDir,
        batchCommits: 50, // several batches in flight, as on a large history
      });
      const git = (args: string[]) => publicLike.git(args).trim();
      const count = Number(git(['rev-list', '--count', 'HEAD']));
      assert.ok(count > 200);
      assert.equal(summary.mode, 'full');
      assert.equal(summary.commitsAdded, count);
      assert.equal(summary.commitsStored, count);
      assert.equal(summary.head, git(['rev-parse', 'HEAD']));

      // Commits: ids, parents, people and times from git log's own formats.
      const expected = git(['log', '--format=%H%x09%P%x09%an%x09%ae%x09%at%x09%cn%x09%ce%x09%ct'])
        .split('\n')
        .map((line) => line.split('\t'))
        .map(([id, parents, an, ae, at, cn, ce, ct]) =>
          JSON.stringify([
            id,
            parents ? parents.split(' ') : [],
            an,
            ae,
            Number(at),
            cn,
            ce,
            Number(ct),
          ]),
        )
        .sort();
      const { rows } = await store.query<{
        id: string;
        parent_ids: string[];
        parents: number;
        author_name: string;
        author_email: string;
        author_when: Date;
        committer_name: string;
        committer_email: string;
        committer_when: Date;
        message: string;
      }>("select * from commits where repository = 'public'");
      const stored = rows
        .map((r) =>
          JSON.stringify([
            r.id,
            r.parent_ids,
            r.author_name,
            r.author_email,
            new Date(r.author_when).getTime() / 1000,
            r.committer_name,
            r.committer_email,
            new Date(r.committer_when).getTime() / 1000,
          ]),
        )
        .sort();
      assert.deepEqual(stored, expected);
      for (const row of rows) assert.equal(row.parents, row.parent_ids.length);
      assert.equal(
        rows.filter((r) => r.parents > 1).length,
        Number(git(['rev-list', '--merges', '--count', 'HEAD'])),
      );
      assert.ok(
        rows.some((r) => r.parents === 3),
        'the octopus merge',
      );

      // Messages as git prints them, control characters and all.
      const messages = publicLike
        .git(['log', '--format=%H%x00%B%x00%x00%x00'])
        .split('\0\0\0')
        .filter((part) => part.trim())
        .map((part) => {
          const [id, message] = part.replace(/^\n/, '').split('\0');
          return [id!, message!.replace(/\n+$/, '')] as const;
        });
      const storedMessages = new Map(rows.map((r) => [r.id, r.message]));
      assert.equal(messages.length, count);
      for (const [id, message] of messages) assert.equal(storedMessages.get(id), message, id);
      assert.ok(
        [...storedMessages.values()].some((m) => m.includes('\x1e record and a \x1f unit')),
      );

      // File stats: exactly git show --numstat's lines, binary files as NULL.
      const { rows: stats } = await store.query<{
        commit_id: string;
        file: string;
        additions: number | null;
        deletions: number | null;
      }>("select commit_id, file, additions, deletions from stats where repository = 'public'");
      const storedStats = stats
        .map((s) => statKey(s.commit_id, s.file, s.additions, s.deletions))
        .sort();
      assert.deepEqual(
        storedStats,
        gitShowStats(
          publicLike,
          rows.map((r) => r.id),
        ),
      );
      assert.equal(summary.statsAdded, stats.length);
      const files = new Set(stats.map((s) => s.file));
      for (const file of [
        'weird/tab\there.txt',
        'weird/new\nline.txt',
        'weird/"quoted".txt',
        'docs/ünïcödé 文档.md',
        '-dash.txt',
        'link-to-docs',
      ]) {
        assert.ok(files.has(file), file);
      }
      assert.ok(stats.some((s) => s.additions === null && s.file.endsWith('.png')));
    });

    it('re-imports incrementally, then reports nothing new', async () => {
      const f = GitFixture.create();
      try {
        f.commit('one', '2024-01-01T00:00:00Z', { a: '1\n' });
        f.commit('two', '2024-01-02T00:00:00Z', { a: '2\n' });
        const first = await importRepository(store, {
          source: f.dir,
          name: 'incremental',
          mirrorDir,
        });
        assert.deepEqual([first.mode, first.commitsAdded], ['full', 2]);
        const three = f.commit('three', '2024-01-03T00:00:00Z', { b: '3\n' });
        f.commit('four', '2024-01-04T00:00:00Z', { b: '4\n' });
        const second = await importRepository(store, {
          source: f.dir,
          name: 'incremental',
          mirrorDir,
        });
        assert.deepEqual(
          [
            second.mode,
            second.commitsAdded,
            second.statsAdded,
            second.commitsStored,
            second.previousHead,
          ],
          ['incremental', 2, 2, 4, first.head],
        );
        const third = await importRepository(store, {
          source: f.dir,
          name: 'incremental',
          mirrorDir,
        });
        assert.deepEqual(
          [third.mode, third.commitsAdded, third.commitsStored],
          ['unchanged', 0, 4],
        );
        const { rows } = await store.query<{ file: string }>(
          "select file from stats where repository = 'incremental' and commit_id = $1",
          [three],
        );
        assert.deepEqual(rows, [{ file: 'b' }]);
      } finally {
        f.remove();
      }
    });

    it('detects a force-push that rewrote history and re-reads the repository', async () => {
      const f = GitFixture.create();
      try {
        f.commit('one', '2024-01-01T00:00:00Z', { a: '1\n' });
        const kept = f.commit('two', '2024-01-02T00:00:00Z', { a: '2\n' });
        const dropped = f.commit('three', '2024-01-03T00:00:00Z', { a: '3\n' });
        await importRepository(store, { source: f.dir, name: 'rewritten', mirrorDir });
        f.git(['reset', '--quiet', '--hard', kept]);
        // Drop the old commit's objects too, as a server would after gc.
        f.git(['reflog', 'expire', '--expire=now', '--all']);
        f.git(['gc', '--quiet', '--prune=now']);
        const replacement = f.commit('three, rewritten', '2024-01-04T00:00:00Z', { a: '3!\n' });
        const summary = await importRepository(store, {
          source: f.dir,
          name: 'rewritten',
          mirrorDir,
        });
        assert.deepEqual(
          [summary.mode, summary.commitsAdded, summary.commitsStored, summary.previousHead],
          ['rewritten', 3, 3, dropped],
        );
        const { rows } = await store.query<{ id: string }>(
          "select id from commits where repository = 'rewritten' order by author_when",
        );
        assert.deepEqual(rows.map((r) => r.id).slice(1), [kept, replacement]);
        const { rows: orphans } = await store.query(
          "select 1 from stats where repository = 'rewritten' and commit_id = $1",
          [dropped],
        );
        assert.equal(orphans.length, 0);
      } finally {
        f.remove();
      }
    });

    it('mirrors a URL into the cache and fetches only what is new on re-import', async () => {
      const origin = GitFixture.create('cadence-origin-');
      const cache = mkdtempSync(join(tmpdir(), 'cadence-cache-'));
      try {
        origin.commit('one', '2024-01-01T00:00:00Z', { a: '1\n' });
        const url = `file://${origin.dir}`;
        const first = await importRepository(store, { source: url, mirrorDir: cache });
        assert.equal(first.repository, origin.dir.split('/').pop());
        assert.deepEqual([first.mode, first.commitsAdded, first.source], ['full', 1, url]);
        const mirrors = readdirSync(cache);
        assert.equal(mirrors.length, 1);
        assert.ok(existsSync(join(cache, mirrors[0]!, 'HEAD')), 'a bare mirror');
        origin.commit('two', '2024-01-02T00:00:00Z', { a: '2\n' });
        const second = await importRepository(store, { source: url, mirrorDir: cache });
        assert.deepEqual(
          [second.mode, second.commitsAdded, second.commitsStored],
          ['incremental', 1, 2],
        );
      } finally {
        origin.remove();
        rmSync(cache, { recursive: true, force: true });
      }
    });

    it('completes an interrupted import without duplicating rows', async () => {
      const f = GitFixture.create();
      try {
        for (let day = 1; day <= 6; day++) {
          f.commit(`commit ${day}`, `2024-01-0${day}T00:00:00Z`, { [`f${day % 2}`]: `${day}\n` });
        }
        // An earlier run wrote the newest three commits, then died before recording its head.
        const commits: GitCommit[] = [];
        for await (const batch of readGitLog(f.dir, ['HEAD'])) commits.push(...batch);
        await store.query(
          "insert into git_repositories (name, source, ref) values ('interrupted', $1, 'HEAD')",
          [f.dir],
        );
        await insertCommits(store, 'interrupted', commits.slice(0, 3));
        const summary = await importRepository(store, {
          source: f.dir,
          name: 'interrupted',
          mirrorDir,
        });
        assert.deepEqual(
          [summary.mode, summary.commitsAdded, summary.statsAdded, summary.commitsStored],
          ['full', 3, 3, 6],
        );
        const { rows } = await store.query<{ n: number }>(
          "select count(*)::int4 as n from stats where repository = 'interrupted'",
        );
        assert.equal(rows[0]!.n, 6);
      } finally {
        f.remove();
      }
    });

    if (engine === 'postgres') {
      it('lets one process at a time import a repository', async () => {
        // Another process holds the repository's import lock for as long as this transaction.
        await store.transaction(async (tx) => {
          await tx.query('select pg_advisory_xact_lock(4217734, hashtext($1))', ['locked']);
          await assert.rejects(
            importRepository(store, { source: publicLike.dir, name: 'locked', mirrorDir }),
            (error: unknown) =>
              error instanceof CadenceError &&
              error.code === 'conflict' &&
              /locked is being imported by another process/.test(error.message),
          );
        });
        assert.equal(await getRepository(store, 'locked'), null);
      });
    }

    it('stores a URL without its credentials', async () => {
      const origin = GitFixture.create('cadence-origin-');
      const cache = mkdtempSync(join(tmpdir(), 'cadence-cache-'));
      try {
        origin.commit('one', '2024-01-01T00:00:00Z', { a: '1\n' });
        // git ignores user info in a file:// URL, which makes it a stand-in for a token URL.
        const summary = await importRepository(store, {
          source: `file://token:s3cret@${origin.dir}`,
          name: 'secret',
          mirrorDir: cache,
        });
        assert.equal(summary.source, `file://***@${origin.dir}`);
        assert.equal((await getRepository(store, 'secret'))!.source, `file://***@${origin.dir}`);
      } finally {
        origin.remove();
        rmSync(cache, { recursive: true, force: true });
      }
    });

    it('refuses bad input with an error naming the field, storing nothing', async () => {
      const empty = GitFixture.create();
      const plain = mkdtempSync(join(tmpdir(), 'cadence-plain-'));
      try {
        const cases: [Parameters<typeof importRepository>[1], string, RegExp][] = [
          [
            { source: join(plain, 'missing'), mirrorDir },
            'source',
            /neither a directory nor a git URL/,
          ],
          [{ source: plain, mirrorDir }, 'source', /is not a git repository/],
          [{ source: empty.dir, name: 'empty', mirrorDir }, 'ref', /has no commits yet/],
          [
            { source: publicLike.dir, name: 'x', ref: 'no-such-branch', mirrorDir },
            'ref',
            /no-such-branch is not a commit/,
          ],
          [{ source: publicLike.dir, name: 'bad name!', mirrorDir }, 'name', /repository name/],
          [
            { source: empty.dir, name: 'public', mirrorDir },
            'name',
            /was imported from .*pass --name/,
          ],
          [
            {
              source: publicLike.dir,
              name: 'y',
              rulesYaml: 'purposes: [{ name: a, role: cause }]',
              mirrorDir,
            },
            'rules.purposes.0',
            /needs paths and\/or a message/,
          ],
          [
            { source: 'file:///nonexistent/repo.git', name: 'z', mirrorDir },
            'source',
            /git clone failed/,
          ],
        ];
        for (const [options, field, message] of cases) {
          await assert.rejects(importRepository(store, options), (error: unknown) => {
            assert.ok(error instanceof CadenceError, String(error));
            assert.equal(error.field, field, error.message);
            assert.match(error.message, message);
            return true;
          });
        }
        for (const name of ['empty', 'x', 'y', 'z'])
          assert.equal(await getRepository(store, name), null);
      } finally {
        empty.remove();
        rmSync(plain, { recursive: true, force: true });
      }
    });
  });
}
