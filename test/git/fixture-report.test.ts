/**
 * The two fixture stories (test/support/git-fixture.ts) imported from real git repositories and
 * reported with their rules, on every engine; every number is asserted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importRepository, reportRepository, type RepositoryReport } from '../../src/git/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import {
  buildPromotionRepo,
  buildVendoringRepo,
  PROMOTION_RULES,
  VENDORING_RULES,
  type PromotionRepo,
  type VendoringRepo,
} from '../support/git-fixture.js';

const iso = (at: string) => new Date(at).toISOString();

let vendoring: VendoringRepo;
let promotion: PromotionRepo;
let mirrorDir: string;
before(() => {
  vendoring = buildVendoringRepo();
  promotion = buildPromotionRepo();
  mirrorDir = mkdtempSync(join(tmpdir(), 'cadence-mirrors-'));
});
after(() => {
  vendoring.fixture.remove();
  promotion.fixture.remove();
  rmSync(mirrorDir, { recursive: true, force: true });
});

for (const engine of engines) {
  describe(`patching cadence of the fixture repositories on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      await importRepository(store, {
        source: vendoring.fixture.dir,
        name: 'vendoring',
        rulesYaml: VENDORING_RULES,
        mirrorDir,
      });
      await importRepository(store, {
        source: promotion.fixture.dir,
        name: 'promotion',
        rulesYaml: PROMOTION_RULES,
        mirrorDir,
      });
    });
    after(() => dispose());

    describe('the vendoring repository', () => {
      let report: RepositoryReport;
      before(async () => {
        report = await reportRepository(store, {
          repository: 'vendoring',
          asOf: new Date('2024-02-20T00:00:00Z'),
        });
      });

      it('pairs every cause with the first later deploy of its package', () => {
        const c = vendoring.commits;
        const row = (
          pkg: string,
          cause: string,
          causeAt: string,
          deploy: string,
          at: string,
          days: number,
        ) => ({
          package: pkg,
          cause: { commit: cause, at: iso(causeAt) },
          deploy: { commit: deploy, at: iso(at) },
          leadTimeDays: days,
        });
        assert.deepEqual(report.updates, [
          row('nginx', c.vendorNginx125, '2024-01-05', c.mergePr1, '2024-01-06T12:00:00Z', 1.5),
          row('nginx', c.vendorNginxRedis, '2024-01-10', c.squashPr2, '2024-01-15', 5),
          row('redis', c.vendorNginxRedis, '2024-01-10', c.squashPr2, '2024-01-15', 5),
          row('redis', c.vendorRedis721, '2024-01-12', c.squashPr2, '2024-01-15', 3),
          row('redis', c.vendorRedis74, '2024-01-20', c.mergePr4, '2024-02-14T12:00:00Z', 25.5),
          row('nginx', c.vendorNginx127, '2024-02-01', c.mergePr3, '2024-02-04', 3),
        ]);
      });

      it('reports the vendoring never deployed as pending, with its age', () => {
        assert.deepEqual(report.pending, [
          {
            package: 'postgres',
            cause: { commit: vendoring.commits.vendorPostgres, at: iso('2024-02-10') },
            ageDays: 10,
          },
        ]);
      });

      it('gives min, median, max and deciles of the lead time per month of the deploy', () => {
        assert.deepEqual(report.leadTimeByMonth, [
          {
            month: '2024-01',
            count: 4,
            min: 1.5,
            median: 4,
            max: 5,
            percentileDeciles: [1.95, 2.4, 2.85, 3.4, 4, 4.6, 5, 5, 5],
            // Four updates: four ntile groups of one, fastest first.
            ntileVariability: [1.5, 3, 5, 5],
          },
          {
            month: '2024-02',
            count: 2,
            min: 3,
            median: 14.25,
            max: 25.5,
            percentileDeciles: [5.25, 7.5, 9.75, 12, 14.25, 16.5, 18.75, 21, 23.25],
            ntileVariability: [3, 25.5],
          },
        ]);
        assert.deepEqual(report.currentMonth, {
          month: '2024-02',
          count: 2,
          min: 3,
          median: 14.25,
          max: 25.5,
        });
        assert.deepEqual(report.lastThreeMonths, {
          from: '2023-12',
          to: '2024-02',
          count: 6,
          min: 1.5,
          median: 4,
          max: 25.5,
        });
      });

      it('counts deploys (commit × package) and causes per month', () => {
        assert.deepEqual(report.deploysByMonth, [
          { month: '2024-01', deploys: 3, pairedDeploys: 3, packages: { nginx: 2, redis: 1 } },
          { month: '2024-02', deploys: 2, pairedDeploys: 2, packages: { nginx: 1, redis: 1 } },
        ]);
        assert.deepEqual(report.causesByMonth, [
          { month: '2024-01', causes: 5 },
          { month: '2024-02', causes: 2 },
        ]);
      });

      it('measures the interval between production deploys by week and month', () => {
        assert.deepEqual(report.deployIntervals, [
          {
            environment: 'production',
            deploys: 4,
            weekly: [
              { bucket: '2024-01-15', count: 1, min: 8.5, median: 8.5, max: 8.5 },
              { bucket: '2024-01-29', count: 1, min: 20, median: 20, max: 20 },
              { bucket: '2024-02-12', count: 1, min: 10.5, median: 10.5, max: 10.5 },
            ],
            monthly: [
              { bucket: '2024-01', count: 1, min: 8.5, median: 8.5, max: 8.5 },
              { bucket: '2024-02', count: 2, min: 10.5, median: 15.25, max: 20 },
            ],
          },
        ]);
        const c = vendoring.commits;
        const interval = (commit: string, previous: string, minutes: number) => ({
          environment: 'production',
          commit,
          at: report.updates.find((u) => u.deploy.commit === commit)!.deploy.at,
          previousCommit: previous,
          previousAt: report.updates.find((u) => u.deploy.commit === previous)!.deploy.at,
          minutes,
        });
        assert.deepEqual(report.intervals, [
          interval(c.squashPr2, c.mergePr1, 8.5 * 1440),
          interval(c.mergePr3, c.squashPr2, 20 * 1440),
          interval(c.mergePr4, c.mergePr3, 10.5 * 1440),
        ]);
        assert.deepEqual(report.promotion, []);
        assert.deepEqual(report.shallowBoundaries, []);
        assert.equal(report.unattributedFiles, 0);
        assert.equal(report.rules, 'stored');
        assert.equal(report.head, vendoring.commits.renameDocs);
      });
    });

    describe('the folder-promotion repository', () => {
      let report: RepositoryReport;
      before(async () => {
        report = await reportRepository(store, {
          repository: 'promotion',
          asOf: new Date('2024-03-31T00:00:00Z'),
        });
      });

      it('pairs releases with production deploys only', () => {
        const c = promotion.commits;
        assert.deepEqual(
          report.updates.map((u) => [u.package, u.cause.commit, u.deploy.commit, u.leadTimeDays]),
          [
            ['api', c.releaseApi, c.prodApi10, 2],
            ['web', c.releaseWeb, c.prodApiWeb, 5],
          ],
        );
        assert.deepEqual(report.pending, []);
        assert.deepEqual(report.leadTimeByMonth, [
          {
            month: '2024-03',
            count: 2,
            min: 2,
            median: 3.5,
            max: 5,
            percentileDeciles: [2.3, 2.6, 2.9, 3.2, 3.5, 3.8, 4.1, 4.4, 4.7],
            ntileVariability: [2, 5],
          },
        ]);
        assert.deepEqual(report.deploysByMonth, [
          // The api deploy of Mar 12 and the ingress one shipped no release: 4 deploys, 2 paired.
          {
            month: '2024-03',
            deploys: 4,
            pairedDeploys: 2,
            packages: { api: 2, web: 1, ingress: 1 },
          },
        ]);
        assert.deepEqual(report.causesByMonth, [{ month: '2024-03', causes: 2 }]);
      });

      it('measures the interval between deploys per environment folder', () => {
        assert.deepEqual(report.environments, ['staging', 'prod']);
        assert.deepEqual(report.deployIntervals, [
          {
            environment: 'staging',
            deploys: 4,
            weekly: [
              { bucket: '2024-03-04', count: 1, min: 3.5, median: 3.5, max: 3.5 },
              { bucket: '2024-03-11', count: 1, min: 3, median: 3, max: 3 },
              { bucket: '2024-03-18', count: 1, min: 9, median: 9, max: 9 },
            ],
            monthly: [{ bucket: '2024-03', count: 3, min: 3, median: 3.5, max: 9 }],
          },
          {
            environment: 'prod',
            deploys: 3,
            weekly: [
              { bucket: '2024-03-11', count: 1, min: 6, median: 6, max: 6 },
              { bucket: '2024-03-25', count: 1, min: 13, median: 13, max: 13 },
            ],
            monthly: [{ bucket: '2024-03', count: 2, min: 6, median: 9.5, max: 13 }],
          },
        ]);
        const c = promotion.commits;
        assert.deepEqual(
          report.intervals.map((i) => [i.environment, i.commit, i.previousCommit, i.minutes]),
          [
            ['staging', c.stagingApiWeb, c.stagingApi10, 3.5 * 1440],
            ['staging', c.stagingApi12, c.stagingApiWeb, 3 * 1440],
            ['staging', c.stagingWeb21, c.stagingApi12, 9 * 1440],
            ['prod', c.prodApiWeb, c.prodApi10, 6 * 1440],
            ['prod', c.prodPlatform, c.prodApiWeb, 13 * 1440],
          ],
        );
      });

      it('gives the promotion rate staging → prod and counts files without a package', () => {
        assert.deepEqual(report.promotion, [
          {
            from: 'staging',
            to: 'prod',
            deploys: 5,
            promoted: 3,
            superseded: 1,
            waiting: 1,
            // Cadence's share: 3 promoted of 4 decided.
            share: 0.75,
            // The author's ratio: 2 prod intervals over 3 staging intervals.
            fromIntervals: 3,
            toIntervals: 2,
            intervalRatio: 0.666667,
          },
        ]);
        assert.equal(report.unattributedFiles, 1);
      });
    });
  });
}
