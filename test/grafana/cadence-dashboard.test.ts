/**
 * grafana/cadence.json against the real schema: every panel's SQL (and every variable's query),
 * with Grafana's macros and variables substituted as Grafana would, runs on a migrated
 * PostgreSQL database seeded with the DORA golden scenario and the vendoring repository, and
 * the panels show the numbers the API shows. Grafana reads PostgreSQL only, so this runs there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { importRepository, type RepositoryReport } from '../../src/git/index.js';
import type { Store } from '../../src/store/index.js';
import { postCdevents, testApp } from '../support/app.js';
import { HOUR, scenario, settings } from '../support/dora-scenario.js';
import { openTestStore } from '../support/engines.js';
import {
  buildPromotionRepo,
  buildVendoringRepo,
  PROMOTION_RULES,
  VENDORING_RULES,
} from '../support/git-fixture.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { rawSql: string; format: string; datasource: { uid: string } }[];
}
interface Variable {
  type: string;
  name: string;
  query: string;
  current?: { value?: string | string[] };
}
const dashboard = JSON.parse(
  readFileSync(new URL('../../grafana/cadence.json', import.meta.url), 'utf8'),
) as { panels: Panel[]; templating: { list: Variable[] }; uid: string };

const FROM = "'2026-03-01T00:00:00Z'";
const TO = "'2026-03-15T00:00:00Z'";

/** Grafana's substitution for the PostgreSQL datasource, for one chosen set of variables. */
function substitute(
  sql: string,
  variables: Record<string, string>,
  range: { from: string; to: string } = { from: FROM, to: TO },
): string {
  let out = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 BETWEEN ${range.from} AND ${range.to}`)
    .replace(/\$__timeFrom\(\)/g, range.from)
    .replace(/\$__timeTo\(\)/g, range.to);
  // Longest names first, so $service never eats part of a longer name.
  for (const name of Object.keys(variables).sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(`$${name}`, variables[name]!);
  }
  return out;
}

const panels = dashboard.panels.filter((p) => p.type !== 'row');
const byTitle = (title: string) => {
  const panel = panels.find((p) => p.title === title);
  assert.ok(panel, `panel ${title}`);
  return panel;
};

describe('the Grafana dashboard on PostgreSQL', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  const defaults = Object.fromEntries(
    dashboard.templating.list
      .filter((v) => v.type === 'textbox' || v.type === 'custom')
      .map((v) => [v.name, String(v.current?.value)]),
  );
  const variables: Record<string, string> = {
    ...defaults,
    environment: 'production',
    // A multi-value variable: Grafana quotes and joins the chosen values.
    service: "'api','web'",
    repository: 'vendoring',
  };
  const run = async (
    title: string,
    extra: Record<string, string> = {},
    range?: { from: string; to: string },
  ) => {
    const sql = substitute(byTitle(title).targets![0]!.rawSql, { ...variables, ...extra }, range);
    return (await store.query<Record<string, unknown>>(sql)).rows;
  };
  /** The report the API serves, as the dashboard reads it. */
  const apiReport = async (repository: string, asOf: string): Promise<RepositoryReport> => {
    const { app } = testApp(store);
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/cadence/report?repository=${repository}&asOf=${asOf}`,
    });
    await app.close();
    assert.equal(response.statusCode, 200, response.body);
    return response.json<RepositoryReport>();
  };

  before(async () => {
    ({ store, dispose } = await openTestStore('postgres'));
    const { app, settle } = testApp(store);
    await postCdevents(app, scenario);
    // The rules' results are kept up to date by the server's background projector.
    await settle(settings);
    await app.close();
    const repo = buildVendoringRepo();
    await importRepository(store, {
      source: repo.fixture.dir,
      name: 'vendoring',
      rulesYaml: VENDORING_RULES,
      mirrorDir: repo.fixture.dir,
    });
    repo.fixture.remove();
    const promotion = buildPromotionRepo();
    await importRepository(store, {
      source: promotion.fixture.dir,
      name: 'promotion',
      rulesYaml: PROMOTION_RULES,
      mirrorDir: promotion.fixture.dir,
    });
    promotion.fixture.remove();
  });
  after(() => dispose());

  it('uses the datasource variable everywhere and leaves no variable unsubstituted', () => {
    assert.equal(dashboard.templating.list[0]!.type, 'datasource');
    assert.ok(panels.length >= 18, `${panels.length} panels`);
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
      for (const target of panel.targets ?? []) {
        assert.equal(target.datasource.uid, '${datasource}', panel.title);
        const sql = substitute(target.rawSql, variables);
        // Only regex anchors may keep a dollar sign.
        assert.doesNotMatch(sql, /\$(?!')/, `${panel.title}: ${sql}`);
      }
    }
  });

  it('runs every panel and variable query on the migrated schema', async () => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        await assert.doesNotReject(
          store.query(substitute(target.rawSql, variables)),
          `panel ${panel.id} ${panel.title}`,
        );
      }
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const { rows } = await store.query(substitute(variable.query, variables));
      assert.ok(rows.length > 0, `variable ${variable.name} has choices`);
    }
  });

  it('shows the golden scenario’s metrics', async () => {
    assert.equal(Number((await run('Deployments'))[0]!.deployments), 6);
    const [perDay] = await run('Deployments per day');
    assert.ok(Math.abs(Number(perDay!['per day']) - 6 / 14) < 1e-9);
    assert.deepEqual(await run('Lead time for changes (median)'), [{ median: 8 * HOUR }]);
    assert.deepEqual(await run('Change failure rate'), [{ rate: 4 / 7 }]);
    assert.deepEqual(await run('Failed deployment recovery time (median)'), [
      { median: 21.75 * HOUR },
    ]);
    assert.deepEqual(await run('Deployment rework rate'), [{ rate: 1 / 6 }]);
    assert.equal(Number((await run('Deployments', { service: "'web'" }))[0]!.deployments), 5);
    const weeks = (await run('Deployments per week')).map((r) => [
      (r.time as Date).toISOString().slice(0, 10),
      Number(r.deployments),
    ]);
    assert.deepEqual(weeks, [
      ['2026-03-02', 4],
      ['2026-03-09', 2],
    ]);
  });

  it('lists deployments with their changes and incidents, and incidents with attribution', async () => {
    const rows = await run('Deployments timeline');
    assert.equal(rows.length, 8);
    const d2 = rows.find((r) => r.revision === 'r3')!;
    assert.equal(d2.changes, 'acme/web#3, acme/web@r2');
    assert.equal(Number(d2.commits), 3);
    assert.equal(d2.incidents, 'I1');
    assert.equal(d2['failed because'], 'incident I1');
    const incidents = await run('Incidents');
    assert.deepEqual(
      incidents.map((r) => [r.incident, Number(r['time to restore (s)']), r['attributed to']]),
      [
        ['I2', 7200, 'api 2026-03-03 00:00'],
        ['I1', 63000, 'web 2026-03-04 14:00'],
      ],
    );
  });

  describe('the patching-cadence panels read the materialized rows and equal the API', () => {
    const vendoringAsOf = '2024-02-20T00:00:00Z';
    // The whole history up to the report's as-of, as a Grafana time range.
    const all = { from: "'2024-01-01T00:00:00Z'", to: `'${vendoringAsOf}'` };
    const february = { from: "'2024-02-01T00:00:00Z'", to: "'2024-02-29T23:59:59Z'" };
    const march = { from: "'2024-03-01T00:00:00Z'", to: "'2024-03-31T00:00:00Z'" };
    const promotionVars = { repository: 'promotion' };
    let report: RepositoryReport;
    let promotion: RepositoryReport;
    before(async () => {
      report = await apiReport('vendoring', vendoringAsOf);
      promotion = await apiReport('promotion', '2024-03-31T00:00:00Z');
    });
    const month = (at: unknown) => (at as Date).toISOString().slice(0, 7);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

    it('has every panel of the blog over the cadence_* tables, never a fixed path', () => {
      const cadencePanels = panels.filter((p) => p.id >= 18);
      assert.deepEqual(cadencePanels.map((p) => p.title).sort(), [
        'Causes per month',
        'Deploy frequency (production deploys)',
        'Deploy intervals per environment',
        'Deploys per month, per package',
        'Deploys per package',
        'Lead time per month (min, median, max)',
        'Lead time per package update',
        'Lead time, current month (median days)',
        'Lead time, last 3 months (median days)',
        'Lead-time deciles (Cadence: percentile_cont)',
        'Lead-time variability (blog: ntile(10) group averages)',
        'Pending updates',
        'Promotion (share and interval ratio)',
        'Vendoring frequency (causes)',
        'Vendorings per package',
      ]);
      for (const panel of cadencePanels) {
        const sql = panel.targets![0]!.rawSql;
        assert.match(sql, /from cadence_(pairs|events|intervals)/, panel.title);
        assert.doesNotMatch(sql, /\bstats\b|starts_with|\$\w*prefix/, panel.title);
      }
    });

    it('lists each update and each pending cause as the API does', async () => {
      const updates = await run('Lead time per package update');
      assert.deepEqual(
        updates.map((r) => [r.package, r.cause, r.deploy, r['lead time (days)']]),
        report.updates.map((u) => [
          u.package,
          u.cause.commit.slice(0, 12),
          u.deploy.commit.slice(0, 12),
          u.leadTimeDays,
        ]),
      );
      assert.deepEqual(
        (await run('Pending updates')).map((r) => [r.package, r.cause]),
        report.pending.map((p) => [p.package, p.cause.commit.slice(0, 12)]),
      );
    });

    it('gives the lead time per month, current month and last 3 months of the API', async () => {
      const months = (await run('Lead time per month (min, median, max)')).map((r) => [
        month(r.time),
        r.min,
        r.median,
        r.max,
      ]);
      assert.deepEqual(
        months,
        report.leadTimeByMonth
          .filter((m) => m.count > 0)
          .map((m) => [m.month, m.min, m.median, m.max]),
      );
      const [current] = await run('Lead time, current month (median days)', {}, all);
      assert.deepEqual(
        [current!.median, Number(current!.updates)],
        [report.currentMonth.median, report.currentMonth.count],
      );
      const [three] = await run('Lead time, last 3 months (median days)', {}, all);
      assert.deepEqual(
        [three!.median, Number(three!.updates)],
        [report.lastThreeMonths.median, report.lastThreeMonths.count],
      );
    });

    it("gives Cadence's deciles and the blog's ntile variability of the API", async () => {
      const feb = report.leadTimeByMonth.find((m) => m.month === '2024-02')!;
      const deciles = await run('Lead-time deciles (Cadence: percentile_cont)', {}, february);
      assert.deepEqual(
        deciles.map((r) => [r.decile, Math.round((r.days as number) * 1e6) / 1e6]),
        feb.percentileDeciles.map((v, i) => [`p${(i + 1) * 10}`, v]),
      );
      const variability = await run(
        'Lead-time variability (blog: ntile(10) group averages)',
        {},
        february,
      );
      assert.deepEqual(
        variability.map((r) => Math.round((r.days as number) * 1e6) / 1e6),
        feb.ntileVariability,
      );
      // More updates than groups: PostgreSQL's own ntile agrees with the report's dealing.
      const jan = report.leadTimeByMonth.find((m) => m.month === '2024-01')!;
      const janRows = await run(
        'Lead-time variability (blog: ntile(10) group averages)',
        {},
        {
          from: "'2024-01-01T00:00:00Z'",
          to: "'2024-01-31T23:59:59Z'",
        },
      );
      assert.deepEqual(
        janRows.map((r) => r.days),
        jan.ntileVariability,
      );
    });

    it('counts deploys (all and paired) and vendorings, overall and per package, as the API', async () => {
      const [frequency] = await run('Deploy frequency (production deploys)', {}, all);
      assert.deepEqual(
        [Number(frequency!['paired with a cause (blog)']), Number(frequency!['all (Cadence)'])],
        [
          sum(report.deploysByMonth.map((m) => m.pairedDeploys)),
          sum(report.deploysByMonth.map((m) => m.deploys)),
        ],
      );
      const [promotionFrequency] = await run(
        'Deploy frequency (production deploys)',
        promotionVars,
        march,
      );
      assert.deepEqual(
        [
          Number(promotionFrequency!['paired with a cause (blog)']),
          Number(promotionFrequency!['all (Cadence)']),
        ],
        [2, 4],
      );
      assert.deepEqual(
        [2, 4],
        [promotion.deploysByMonth[0]!.pairedDeploys, promotion.deploysByMonth[0]!.deploys],
      );
      const [causes] = await run('Vendoring frequency (causes)', {}, all);
      assert.equal(Number(causes!.causes), sum(report.causesByMonth.map((m) => m.causes)));
      const perPackage: Record<string, number> = {};
      for (const m of report.deploysByMonth) {
        for (const [name, count] of Object.entries(m.packages)) {
          perPackage[name] = (perPackage[name] ?? 0) + count;
        }
      }
      assert.deepEqual(
        Object.fromEntries(
          (await run('Deploys per package', {}, all)).map((r) => [r.metric, Number(r.deploys)]),
        ),
        perPackage,
      );
      assert.deepEqual(
        Object.fromEntries(
          (await run('Vendorings per package', {}, all)).map((r) => [r.metric, Number(r.causes)]),
        ),
        { nginx: 3, redis: 3, postgres: 1 },
      );
      const deploys = (await run('Deploys per month, per package')).map((r) => [
        month(r.time),
        r.metric,
        Number(r.deploys),
      ]);
      assert.deepEqual(
        deploys,
        report.deploysByMonth.flatMap((m) =>
          Object.entries(m.packages)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([name, count]) => [m.month, name, count]),
        ),
      );
      const causesByMonth = (await run('Causes per month')).map((r) => [
        month(r.time),
        Number(r.causes),
      ]);
      assert.deepEqual(
        causesByMonth,
        report.causesByMonth.filter((m) => m.causes > 0).map((m) => [m.month, m.causes]),
      );
    });

    it('gives the intervals and both promotion figures of the API', async () => {
      const intervals = await run('Deploy intervals per environment', promotionVars, march);
      const expected = [...promotion.intervals].sort((a, b) =>
        a.environment === b.environment
          ? a.at < b.at
            ? -1
            : 1
          : a.environment < b.environment
            ? -1
            : 1,
      );
      assert.deepEqual(
        intervals.map((r) => [r.environment, r.commit, r['previous commit'], r.minutes]),
        expected.map((i) => [
          i.environment,
          i.commit.slice(0, 12),
          i.previousCommit.slice(0, 12),
          i.minutes,
        ]),
      );
      const [figures] = await run('Promotion (share and interval ratio)', promotionVars, march);
      const [staging] = promotion.promotion;
      assert.deepEqual(
        [
          Math.round((figures!['promotion share (Cadence)'] as number) * 1e6) / 1e6,
          Math.round((figures!['interval ratio (blog)'] as number) * 1e6) / 1e6,
        ],
        [staging!.share, staging!.intervalRatio],
      );
      assert.deepEqual([staging!.share, staging!.intervalRatio], [0.75, 0.666667]);
    });
  });
});
