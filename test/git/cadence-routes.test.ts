/** `/api/v1/cadence/*` through the real app, on every engine: the report the dashboard reads. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importRepository } from '../../src/git/index.js';
import { engines } from '../support/engines.js';
import { VENDORING_RULES, vendoringRepoForFile } from '../support/git-fixture.js';
import { appPerSuite } from '../support/suite-app.js';

const vendoring = vendoringRepoForFile();

for (const engine of engines) {
  describe(`cadence API on ${engine}`, () => {
    const suite = appPerSuite(engine);

    const get = async (url: string) => {
      const response = await suite.app.inject({ method: 'GET', url });
      return {
        status: response.statusCode,
        type: response.headers['content-type'],
        body: response.json(),
      };
    };

    it('says no repository has been imported yet, with a 404 naming the field', async () => {
      const response = await get('/api/v1/cadence/report');
      assert.equal(response.status, 404);
      assert.match(String(response.type), /^application\/problem\+json/);
      assert.equal(response.body.field, 'repository');
      assert.match(response.body.detail, /cadence git import/);
      assert.deepEqual((await get('/api/v1/cadence/repositories')).body, { repositories: [] });
    });

    it('serves the report of the only repository with the rules stored at import', async () => {
      await importRepository(suite.store, {
        source: vendoring.fixture.dir,
        name: 'vendoring',
        rulesYaml: VENDORING_RULES,
        mirrorDir: vendoring.mirrorDir,
      });
      const { status, body } = await get('/api/v1/cadence/report?asOf=2024-02-20');
      assert.equal(status, 200);
      assert.equal(body.repository, 'vendoring');
      assert.equal(body.rules, 'stored');
      assert.deepEqual(
        body.updates.map((u: { package: string; leadTimeDays: number }) => [
          u.package,
          u.leadTimeDays,
        ]),
        [
          ['nginx', 1.5],
          ['nginx', 5],
          ['redis', 5],
          ['redis', 3],
          ['redis', 25.5],
          ['nginx', 3],
        ],
      );
      assert.deepEqual(body.currentMonth, {
        month: '2024-02',
        count: 2,
        min: 3,
        median: 14.25,
        max: 25.5,
      });
      assert.deepEqual(
        body.pending.map((p: { package: string; ageDays: number }) => [p.package, p.ageDays]),
        [['postgres', 10]],
      );
    });

    it('lists the repositories', async () => {
      await importRepository(suite.store, {
        source: vendoring.fixture.dir,
        name: 'no-rules',
        mirrorDir: vendoring.mirrorDir,
      });
      const { status, body } = await get('/api/v1/cadence/repositories');
      assert.equal(status, 200);
      assert.deepEqual(
        body.repositories.map((r: Record<string, unknown>) => [
          r.name,
          r.commitCount,
          r.head,
          r.hasRules,
          r.source,
        ]),
        [
          ['no-rules', 16, vendoring.commits.renameDocs, false, vendoring.fixture.dir],
          ['vendoring', 16, vendoring.commits.renameDocs, true, vendoring.fixture.dir],
        ],
      );
    });

    it('answers bad requests with problem+json naming the field', async () => {
      const cases: [url: string, status: number, field: string, detail: RegExp][] = [
        [
          '/api/v1/cadence/report',
          400,
          'repository',
          /several repositories are imported \(no-rules, vendoring\)/,
        ],
        [
          '/api/v1/cadence/report?repository=nope',
          404,
          'repository',
          /no repository nope has been imported/,
        ],
        [
          '/api/v1/cadence/report?repository=no-rules',
          400,
          'rules',
          /has no rules: import it with --rules/,
        ],
        ['/api/v1/cadence/report?repository=vendoring&asOf=yesterday', 400, 'asOf', /RFC 3339/],
        ['/api/v1/cadence/report?repository=vendoring&rules=x', 400, 'rules', /Unrecognized key/],
      ];
      for (const [url, status, field, detail] of cases) {
        const response = await get(url);
        assert.equal(response.status, status, url);
        assert.match(String(response.type), /^application\/problem\+json/);
        assert.equal(response.body.field, field, url);
        assert.match(response.body.detail, detail);
      }
    });
  });
}
