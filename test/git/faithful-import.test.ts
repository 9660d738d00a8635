/**
 * Imports that must not lie about the history, on every engine, from real git repositories:
 * a shallow clone (refused, or imported with its boundary marked), the same clone unshallowed
 * (the missing history arrives and every figure equals a full import's), a shallow mirror of a
 * URL, Latin-1 names and messages (decoded per the encoding header, else kept as raw bytes), and
 * a subdirectory path (the enclosing repository named).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  importRepository,
  reportRepository,
  type ImportSummary,
  type RepositoryReport,
} from '../../src/git/index.js';
import { CadenceError } from '../../src/problem/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import {
  buildVendoringRepo,
  GitFixture,
  VENDORING_RULES,
  type VendoringRepo,
} from '../support/git-fixture.js';

const git = (cwd: string, args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });

/** A commit object written byte for byte (git would re-encode what `git commit` is given). */
function rawCommit(fixture: GitFixture, lines: Buffer[]): string {
  return execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], {
    cwd: fixture.dir,
    input: Buffer.concat(lines),
  })
    .toString()
    .trim();
}

const asOf = new Date('2024-02-20T00:00:00Z');
/** The report's figures, without what names the import (its name and time). */
const withoutIdentity = (report: RepositoryReport) => ({
  ...report,
  repository: null,
  importedAt: null,
});

let work: string;
let vendoring: VendoringRepo;
let latin1: GitFixture;
const latin1Commits: Record<'withHeader' | 'withoutHeader', string> = {
  withHeader: '',
  withoutHeader: '',
};
before(() => {
  work = mkdtempSync(join(tmpdir(), 'cadence-faithful-'));
  vendoring = buildVendoringRepo();

  latin1 = GitFixture.create('cadence-latin1-');
  const root = latin1.commit('root', '2024-01-01T00:00:00Z', { 'a.txt': 'a\n' });
  const tree = latin1.git(['rev-parse', 'HEAD^{tree}']).trim();
  const latin = (text: string) => Buffer.from(text, 'latin1');
  latin1Commits.withHeader = rawCommit(latin1, [
    latin(`tree ${tree}\nparent ${root}\n`),
    latin('author Ren\xe9 L\xe9vy <rene@example.com> 1704153600 +0100\n'),
    latin('committer Fran\xe7oise <fr@example.com> 1704153600 +0100\n'),
    latin('encoding ISO-8859-1\n\ncaf\xe9 cr\xe8me\n\nd\xe9tails\n'),
  ]);
  latin1Commits.withoutHeader = rawCommit(latin1, [
    latin(`tree ${tree}\nparent ${latin1Commits.withHeader}\n`),
    latin('author Ren\xe9 <rene@example.com> 1704240000 +0000\n'),
    latin('committer Ren\xe9 <rene@example.com> 1704240000 +0000\n'),
    latin('\nna\xefve message\n'),
  ]);
  latin1.git(['update-ref', 'refs/heads/main', latin1Commits.withoutHeader]);
});
after(() => {
  vendoring.fixture.remove();
  latin1.remove();
  rmSync(work, { recursive: true, force: true });
});

for (const engine of engines) {
  describe(`faithful imports on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let full: RepositoryReport;
    const mirrorDir = () => join(work, `mirrors-${engine}`);
    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      await importRepository(store, {
        source: vendoring.fixture.dir,
        name: 'full',
        rulesYaml: VENDORING_RULES,
        mirrorDir: mirrorDir(),
      });
      full = await reportRepository(store, { repository: 'full', asOf });
    });
    after(() => dispose());

    describe('a shallow clone', () => {
      let clone: string;
      before(() => {
        clone = join(work, `shallow-${engine}`);
        git(work, ['clone', '--quiet', '--depth', '3', `file://${vendoring.fixture.dir}`, clone]);
      });

      it('is refused, with the fix in the message', async () => {
        await assert.rejects(
          importRepository(store, { source: clone, name: 'shallow', mirrorDir: mirrorDir() }),
          (error: unknown) =>
            error instanceof CadenceError &&
            error.field === 'source' &&
            error.message.includes(`git -C ${clone} fetch --unshallow`) &&
            error.message.includes('--allow-shallow'),
        );
        const { rows } = await store.query("select 1 from commits where repository = 'shallow'");
        assert.equal(rows.length, 0, 'nothing written');
      });

      it('imports with --allow-shallow: the boundary marked, with its real parents, no stats', async () => {
        const summary = await importRepository(store, {
          source: clone,
          name: 'shallow',
          rulesYaml: VENDORING_RULES,
          allowShallow: true,
          mirrorDir: mirrorDir(),
        });
        // git shows no parents for a boundary commit; the clone's shallow file names the cut.
        const gitDir = git(clone, ['rev-parse', '--absolute-git-dir']).trim();
        const cutCommits = readFileSync(join(gitDir, 'shallow'), 'utf8').trim().split('\n').sort();
        assert.ok(cutCommits.length > 0);
        assert.deepEqual(summary.shallowBoundaries, cutCommits);
        const reachable = git(clone, ['rev-list', '--count', 'HEAD']).trim();
        assert.equal(summary.commitsStored, Number(reachable));
        const { rows } = await store.query<{
          id: string;
          parents: number;
          parent_ids: string[];
          stats: number;
        }>(
          `select c.id, c.parents, c.parent_ids,
                  (select count(*) from stats s where s.repository = c.repository and s.commit_id = c.id)::int4 as stats
           from commits c join git_repositories r on r.name = c.repository
           where c.repository = 'shallow' and c.id = any(r.shallow_boundaries) order by c.id`,
        );
        assert.deepEqual(
          rows.map((r) => r.id),
          cutCommits,
        );
        for (const row of rows) {
          const recorded = git(vendoring.fixture.dir, ['rev-parse', `${row.id}^@`])
            .trim()
            .split('\n');
          assert.deepEqual(row.parent_ids, recorded, 'the parents the commit object records');
          assert.equal(row.parents, recorded.length);
          assert.equal(row.stats, 0, 'a boundary commit has no stats (git shows its whole tree)');
        }
        const report = await reportRepository(store, { repository: 'shallow', asOf });
        assert.deepEqual(report.shallowBoundaries, cutCommits);
        // Only what the clone holds: fewer updates than the full history, none invented.
        const fullUpdates = new Set(full.updates.map((u) => JSON.stringify(u)));
        for (const update of report.updates) assert.ok(fullUpdates.has(JSON.stringify(update)));
        assert.ok(report.updates.length < full.updates.length);
      });

      it('once unshallowed, reads the missing history: every figure equals a full import', async () => {
        git(clone, ['fetch', '--quiet', '--unshallow']);
        const again: ImportSummary = await importRepository(store, {
          source: clone,
          name: 'shallow',
          mirrorDir: mirrorDir(),
        });
        assert.equal(again.mode, 'deepened');
        assert.ok(again.boundariesOpened > 0);
        assert.deepEqual(again.shallowBoundaries, []);
        const stored = await store.query<{ count: number }>(
          "select count(*)::int4 as count from commits where repository = 'full'",
        );
        assert.equal(again.commitsStored, stored.rows[0]!.count);
        const report = await reportRepository(store, { repository: 'shallow', asOf });
        assert.deepEqual(withoutIdentity(report), withoutIdentity(full));
        const tables = async (name: string) =>
          (
            await store.query(
              `select c.id, c.parents, c.parent_ids, s.file, s.additions, s.deletions
               from commits c left join stats s on s.repository = c.repository and s.commit_id = c.id
               where c.repository = $1 order by c.id, s.file`,
              [name],
            )
          ).rows;
        assert.deepEqual(await tables('shallow'), await tables('full'));
        const unchanged = await importRepository(store, {
          source: clone,
          name: 'shallow',
          mirrorDir: mirrorDir(),
        });
        assert.equal(unchanged.mode, 'unchanged');
      });
    });

    it('a URL whose mirror is shallow: marked, then completed when the source unshallows', async () => {
      const clone = join(work, `shallow-source-${engine}`);
      git(work, ['clone', '--quiet', '--depth', '2', `file://${vendoring.fixture.dir}`, clone]);
      const url = `file://${clone}`;
      await assert.rejects(
        importRepository(store, { source: url, name: 'url', mirrorDir: mirrorDir() }),
        (error: unknown) => error instanceof CadenceError && error.field === 'source',
      );
      const first = await importRepository(store, {
        source: url,
        name: 'url',
        rulesYaml: VENDORING_RULES,
        allowShallow: true,
        mirrorDir: mirrorDir(),
      });
      assert.equal(first.shallowBoundaries.length, 1);
      assert.equal(first.commitsStored, 2);
      git(clone, ['fetch', '--quiet', '--unshallow']);
      const second = await importRepository(store, {
        source: url,
        name: 'url',
        mirrorDir: mirrorDir(),
      });
      assert.equal(second.mode, 'deepened');
      assert.deepEqual(second.shallowBoundaries, []);
      const report = await reportRepository(store, { repository: 'url', asOf });
      assert.deepEqual(withoutIdentity(report), withoutIdentity(full));
    });

    it('keeps Latin-1 names and messages: decoded per the encoding header, else raw bytes kept', async () => {
      await importRepository(store, {
        source: latin1.dir,
        name: 'latin1',
        mirrorDir: mirrorDir(),
      });
      const { rows } = await store.query<{
        id: string;
        author_name: string;
        committer_name: string;
        message: string;
        author_name_bytes: Uint8Array | null;
        committer_name_bytes: Uint8Array | null;
        message_bytes: Uint8Array | null;
      }>(
        `select c.id, c.author_name, c.committer_name, c.message,
                b.author_name as author_name_bytes, b.committer_name as committer_name_bytes,
                b.message as message_bytes
         from commits c
         left join commit_bytes b on b.repository = c.repository and b.commit_id = c.id
         where c.repository = 'latin1' and c.id = any($1::text[]) order by c.author_when`,
        [[latin1Commits.withHeader, latin1Commits.withoutHeader]],
      );
      const bytes = (value: Uint8Array | null) => (value ? Buffer.from(value) : null);
      assert.deepEqual(
        rows.map((r) => ({
          ...r,
          author_name_bytes: bytes(r.author_name_bytes),
          committer_name_bytes: bytes(r.committer_name_bytes),
          message_bytes: bytes(r.message_bytes),
        })),
        [
          {
            id: latin1Commits.withHeader,
            author_name: 'René Lévy',
            committer_name: 'Françoise',
            message: 'café crème\n\ndétails',
            author_name_bytes: null,
            committer_name_bytes: null,
            message_bytes: null,
          },
          {
            id: latin1Commits.withoutHeader,
            author_name: 'Ren\uFFFD',
            committer_name: 'Ren\uFFFD',
            message: 'na\uFFFDve message',
            author_name_bytes: Buffer.from('René', 'latin1'),
            committer_name_bytes: Buffer.from('René', 'latin1'),
            message_bytes: Buffer.from('naïve message', 'latin1'),
          },
        ],
      );
      // The raw bytes decode back to the author's name with the charset the reader knows.
      assert.equal(new TextDecoder('latin1').decode(rows[1]!.author_name_bytes!), 'René');
    });

    it('names the repository a subdirectory path imported', async () => {
      const fixture = GitFixture.create('cadence-subdir-');
      try {
        fixture.commit('root', '2024-01-01T00:00:00Z', { 'apps/web/deploy.yaml': 'x\n' });
        const sub = join(fixture.dir, 'apps', 'web');
        mkdirSync(sub, { recursive: true });
        writeFileSync(join(sub, 'untracked'), '');
        const summary = await importRepository(store, { source: sub, mirrorDir: mirrorDir() });
        assert.equal(summary.repository, 'web');
        assert.equal(summary.subdirectory, 'apps/web');
        assert.equal(realpathSync(summary.repositoryPath), realpathSync(fixture.dir));
        const top = await importRepository(store, {
          source: fixture.dir,
          name: 'top',
          mirrorDir: mirrorDir(),
        });
        assert.equal(top.subdirectory, null);
        assert.equal(realpathSync(top.repositoryPath), realpathSync(fixture.dir));
      } finally {
        fixture.remove();
      }
    });
  });
}
