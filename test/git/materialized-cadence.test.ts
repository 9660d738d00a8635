/**
 * `cadence_events`, `cadence_pairs` and `cadence_intervals` follow the stored rules on every
 * engine: written by the import, rewritten when the rules change (import with --rules), kept
 * on a re-import that brings nothing new, and always the rows the report is computed from.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { importRepository, reportRepository, type RepositoryReport } from '../../src/git/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { VENDORING_RULES, vendoringRepoForFile } from '../support/git-fixture.js';

// The same repository read by other rules: every commit touching deploy/prod deploys (no merge
// requirement), so the PR branch commits now count and lead times shrink.
const ANY_COMMIT_DEPLOYS = `purposes:
  - name: vendoring
    role: cause
    paths: ['packages/vendored/{package}/**']
  - name: deploy
    role: deploy
    paths: ['deploy/prod/{package}/**']
`;

const asOf = new Date('2024-02-20T00:00:00Z');
const vendoring = vendoringRepoForFile();

for (const engine of engines) {
  describe(`materialized cadence on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => ({ store, dispose } = await openTestStore(engine)));
    after(() => dispose());

    const tables = async () => {
      const pairs = await store.query<{
        package: string;
        cause_commit: string;
        deploy_commit: string | null;
        lead_time_days: number | null;
      }>(
        `select package, cause_commit, deploy_commit, lead_time_days from cadence_pairs
         where repository = 'gitops' order by cause_at, package`,
      );
      const intervals = await store.query<{
        commit_id: string;
        previous_commit_id: string;
        minutes: number;
      }>(
        `select commit_id, previous_commit_id, minutes from cadence_intervals
         where repository = 'gitops' order by at`,
      );
      const events = await store.query<{ role: string; count: number }>(
        `select role, count(*)::int4 as count from cadence_events
         where repository = 'gitops' group by role order by role`,
      );
      return { pairs: pairs.rows, intervals: intervals.rows, events: events.rows };
    };
    /** The rows the report implies: its updates, then its pending causes, and its intervals. */
    const implied = (report: RepositoryReport) => ({
      pairs: [
        ...report.updates.map((u) => ({
          package: u.package,
          cause_commit: u.cause.commit,
          deploy_commit: u.deploy.commit as string | null,
          lead_time_days: u.leadTimeDays as number | null,
          at: u.cause.at,
        })),
        ...report.pending.map((p) => ({
          package: p.package,
          cause_commit: p.cause.commit,
          deploy_commit: null,
          lead_time_days: null,
          at: p.cause.at,
        })),
      ]
        .sort((a, b) => (a.at === b.at ? (a.package < b.package ? -1 : 1) : a.at < b.at ? -1 : 1))
        .map(({ at: _at, ...row }) => row),
      intervals: report.intervals.map((i) => ({
        commit_id: i.commit,
        previous_commit_id: i.previousCommit,
        minutes: i.minutes,
      })),
    });

    it('holds nothing for a repository imported without rules', async () => {
      await importRepository(store, {
        source: vendoring.fixture.dir,
        name: 'gitops',
        mirrorDir: vendoring.mirrorDir,
      });
      assert.deepEqual(await tables(), { pairs: [], intervals: [], events: [] });
    });

    it('is written by an import with rules: the rows of the report', async () => {
      const summary = await importRepository(store, {
        source: vendoring.fixture.dir,
        name: 'gitops',
        rulesYaml: VENDORING_RULES,
        mirrorDir: vendoring.mirrorDir,
      });
      assert.equal(summary.mode, 'unchanged', 'no new commit: only the rules changed');
      const report = await reportRepository(store, { repository: 'gitops', asOf });
      const rows = await tables();
      assert.deepEqual({ pairs: rows.pairs, intervals: rows.intervals }, implied(report));
      assert.equal(rows.pairs.length, 7);
      assert.deepEqual(rows.events, [
        { role: 'cause', count: 7 },
        { role: 'deploy', count: 5 },
      ]);
    });

    it('follows new rules, and keeps them on a re-import without --rules', async () => {
      await importRepository(store, {
        source: vendoring.fixture.dir,
        name: 'gitops',
        rulesYaml: ANY_COMMIT_DEPLOYS,
        mirrorDir: vendoring.mirrorDir,
      });
      const report = await reportRepository(store, { repository: 'gitops', asOf });
      const rows = await tables();
      assert.deepEqual({ pairs: rows.pairs, intervals: rows.intervals }, implied(report));
      // nginx 1.25 is now deployed by the PR branch commit of Jan 6 00:00, not the merge at 12:00.
      assert.equal(rows.pairs[0]!.deploy_commit, vendoring.commits.bumpNginxBranch);
      assert.equal(rows.pairs[0]!.lead_time_days, 1);
      await importRepository(store, {
        source: vendoring.fixture.dir,
        name: 'gitops',
        mirrorDir: vendoring.mirrorDir,
      });
      assert.deepEqual(await tables(), rows);
    });
  });
}
