/**
 * grafana/cadence.json against the real schema: every panel's SQL (and every variable's query),
 * with Grafana's macros and variables substituted as Grafana would, runs on a migrated
 * PostgreSQL database seeded with the DORA golden scenario and the vendoring repository, and
 * the panels show the numbers the API shows. Grafana reads PostgreSQL only, so this runs there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { refreshDeliveries } from '../../src/dora/index.js';
import { importRepository } from '../../src/git/index.js';
import type { Store } from '../../src/store/index.js';
import { routeAll, testApp } from '../support/app.js';
import { HOUR, scenario, settings } from '../support/dora-scenario.js';
import { openTestStore } from '../support/engines.js';
import { buildVendoringRepo, VENDORING_RULES } from '../support/git-fixture.js';

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
function substitute(sql: string, variables: Record<string, string>): string {
  let out = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 BETWEEN ${FROM} AND ${TO}`)
    .replace(/\$__timeFrom\(\)/g, FROM)
    .replace(/\$__timeTo\(\)/g, TO);
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
  const run = async (title: string, extra: Record<string, string> = {}) => {
    const sql = substitute(byTitle(title).targets![0]!.rawSql, { ...variables, ...extra });
    return (await store.query<Record<string, unknown>>(sql)).rows;
  };

  before(async () => {
    ({ store, dispose } = await openTestStore('postgres'));
    const { app, router } = testApp(store);
    for (const event of scenario) {
      const response = await app.inject({
        method: 'POST',
        url: '/cdevents',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(event),
      });
      assert.equal(response.statusCode, 202, response.body);
    }
    await routeAll(router);
    await app.close();
    // The rules' results are kept up to date by the server (any metrics read or /metrics scrape).
    await refreshDeliveries(store, settings);
    const repo = buildVendoringRepo();
    await importRepository(store, {
      source: repo.fixture.dir,
      name: 'vendoring',
      rulesYaml: VENDORING_RULES,
      mirrorDir: repo.fixture.dir,
    });
    repo.fixture.remove();
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

  it('shows the patching cadence the report computes from the same rules', async () => {
    const updates = await run('Lead time per package update');
    assert.deepEqual(
      updates.map((r) => [r.package, Number(r['lead time (days)'])]),
      [
        ['nginx', 1.5],
        ['nginx', 5],
        ['redis', 5],
        ['redis', 3],
        ['redis', 25.5],
        ['nginx', 3],
      ],
    );
    assert.deepEqual(
      (await run('Pending updates')).map((r) => r.package),
      ['postgres'],
    );
    const months = (await run('Lead time per month (min, median, max)')).map((r) => [
      (r.time as Date).toISOString().slice(0, 7),
      Number(r.min),
      Number(r.median),
      Number(r.max),
    ]);
    assert.deepEqual(months, [
      ['2024-01', 1.5, 4, 5],
      ['2024-02', 3, 14.25, 25.5],
    ]);
    const deploys = (await run('Deploys per month, per package')).map((r) => [
      (r.time as Date).toISOString().slice(0, 7),
      r.metric,
      Number(r.deploys),
    ]);
    assert.deepEqual(deploys, [
      ['2024-01', 'nginx', 2],
      ['2024-01', 'redis', 1],
      ['2024-02', 'nginx', 1],
      ['2024-02', 'redis', 1],
    ]);
    const causes = (await run('Causes per month')).map((r) => [
      (r.time as Date).toISOString().slice(0, 7),
      Number(r.causes),
    ]);
    assert.deepEqual(causes, [
      ['2024-01', 5],
      ['2024-02', 2],
    ]);
  });
});
