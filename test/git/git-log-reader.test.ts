/**
 * The streaming `git log` parser: crafted output (every shape of commit), fed whole and in every
 * possible split, and the reader against a real repository.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GitLogParser, readGitLog, type GitCommit } from '../../src/git/git-log-reader.js';
import { CadenceError } from '../../src/problem/index.js';
import { GitFixture } from '../support/git-fixture.js';

const header = (id: string, parents: string, message: string) =>
  `\x1e${id}\x1f${parents}\x1fAda\x1fada@example.com\x1f2024-01-02T03:04:05+01:00\x1fBob\x1fbob@example.com\x1f2024-01-02T04:00:00+01:00\x1f${message}\n\x00\x00`;

const commit = (
  id: string,
  parents: string[],
  message: string,
  stats: GitCommit['stats'],
): GitCommit => ({
  id,
  parents,
  authorName: 'Ada',
  authorEmail: 'ada@example.com',
  authorWhen: '2024-01-02T03:04:05+01:00',
  committerName: 'Bob',
  committerEmail: 'bob@example.com',
  committerWhen: '2024-01-02T04:00:00+01:00',
  message,
  stats,
});

const cases: { name: string; output: string; commits: GitCommit[] }[] = [
  {
    name: 'a commit with text and binary files',
    output: `${header('c2', 'c1', 'second\n\nbody')}\n3\t1\ta/x.txt\x00-\t-\tlogo.png\x00`,
    commits: [
      commit('c2', ['c1'], 'second\n\nbody', [
        { file: 'a/x.txt', additions: 3, deletions: 1 },
        { file: 'logo.png', additions: null, deletions: null },
      ]),
    ],
  },
  {
    name: 'an empty commit followed by a root commit',
    output: `${header('c1', 'c0', 'empty')}${header('c0', '', 'root')}\n1\t0\tREADME\x00`,
    commits: [
      commit('c1', ['c0'], 'empty', []),
      commit('c0', [], 'root', [{ file: 'README', additions: 1, deletions: 0 }]),
    ],
  },
  {
    name: 'a merge, and paths and messages holding separators, tabs and newlines',
    output: `${header('m', 'p1 p2', 'merge \x1e with \x1f inside')}\n0\t0\tweird\ttab\nline\x000\t0\t\x1e.txt\x00`,
    commits: [
      commit('m', ['p1', 'p2'], 'merge \x1e with \x1f inside', [
        { file: 'weird\ttab\nline', additions: 0, deletions: 0 },
        { file: '\x1e.txt', additions: 0, deletions: 0 },
      ]),
    ],
  },
];

function parseAll(chunks: string[]): GitCommit[] {
  const parser = new GitLogParser();
  const commits: GitCommit[] = [];
  for (const chunk of chunks) commits.push(...parser.push(chunk));
  commits.push(...parser.end());
  return commits;
}

describe('GitLogParser', () => {
  for (const { name, output, commits } of cases) {
    it(`parses ${name}, whole and split at every position`, () => {
      assert.deepEqual(parseAll([output]), commits);
      for (let at = 0; at <= output.length; at++) {
        assert.deepEqual(
          parseAll([output.slice(0, at), output.slice(at)]),
          commits,
          `split at ${at}`,
        );
      }
    });
  }

  it('returns a commit only once the next one starts or the output ends', () => {
    const parser = new GitLogParser();
    assert.deepEqual(parser.push(`${header('c2', 'c1', 'two')}\n1\t1\ta\x00`), []);
    assert.deepEqual(
      parser.push(header('c1', '', 'one')).map((c) => c.id),
      ['c2'],
    );
    assert.deepEqual(
      parser.end().map((c) => c.id),
      ['c1'],
    );
  });

  it('refuses output that is not git log in its format, or that stops inside a commit', () => {
    assert.throws(
      () => parseAll(['garbage\x1e']),
      (error: unknown) => {
        assert.ok(error instanceof CadenceError);
        assert.match(error.message, /unexpected git log output near "garbage/);
        return true;
      },
    );
    assert.throws(
      () => parseAll([`${header('c', '', 'x')}\n1\t2\tunterminated`]),
      /ended in the middle of a commit/,
    );
    assert.throws(() => parseAll(['\x1eabc\x1fdef']), /ended in the middle of a commit/);
  });
});

describe('readGitLog', () => {
  it('streams a real history from one git log, merges against their first parent', async () => {
    const f = GitFixture.create();
    try {
      const root = f.commit('root', '2024-01-01T00:00:00Z', { 'a.txt': '1\n2\n' });
      f.branch('side');
      const side = f.commit('side', '2024-01-02T00:00:00Z', { 'b.txt': 'b\n' });
      f.checkout('main');
      const main = f.commit('main', '2024-01-03T00:00:00Z', { 'a.txt': '1\n' });
      const merge = f.merge('side', 'Merge side', '2024-01-04T00:00:00Z');
      const seen: GitCommit[] = [];
      for await (const batch of readGitLog(f.dir, ['HEAD'])) seen.push(...batch);
      const byId = new Map(seen.map((c) => [c.id, c]));
      assert.equal(seen.length, 4);
      assert.deepEqual(byId.get(merge)!.parents, [main, side]);
      assert.deepEqual(byId.get(merge)!.stats, [{ file: 'b.txt', additions: 1, deletions: 0 }]);
      assert.deepEqual(byId.get(main)!.stats, [{ file: 'a.txt', additions: 0, deletions: 1 }]);
      assert.deepEqual(byId.get(root)!.stats, [{ file: 'a.txt', additions: 2, deletions: 0 }]);
      assert.equal(byId.get(root)!.authorWhen, '2024-01-01T00:00:00+00:00');
      assert.equal(byId.get(root)!.authorName, 'Alice Example');
      assert.equal(byId.get(root)!.committerName, 'Cadence CI');
      // Only what is new since an earlier head:
      const since: string[] = [];
      for await (const batch of readGitLog(f.dir, ['HEAD', `^${main}`]))
        since.push(...batch.map((c) => c.id));
      assert.deepEqual(since.sort(), [merge, side].sort());
      await assert.rejects(async () => {
        for await (const batch of readGitLog(f.dir, ['no-such-ref'])) void batch;
      }, /git log failed: fatal: .*no-such-ref/);
    } finally {
      f.remove();
    }
  });
});
