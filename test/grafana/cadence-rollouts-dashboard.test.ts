/**
 * grafana/cadence-rollouts.json against the real schema: every panel's SQL (and the variable's
 * query), with Grafana's macros and variables substituted as Grafana would, runs on a migrated
 * PostgreSQL database holding rollouts (one completed late after its deadline, one scaled, one
 * deleted) and canary analyses, and the panels show what the API shows. Grafana reads
 * PostgreSQL only, so this runs there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startAnalysis } from '../../src/analysis/index.js';
import { type LiveRollout, type Rollout } from '../../src/rollouts/index.js';
import { recordDeletion, recordObservation } from '../../src/rollouts/rollout-rows.js';
import { type RolloutObservation } from '../../src/rollouts/rollout-phase.js';
import type { Store } from '../../src/store/index.js';
import { testApp } from '../support/app.js';
import { openTestStore } from '../support/engines.js';

interface Panel {
  type: string;
  title: string;
  targets?: { rawSql: string }[];
}
const dashboard = JSON.parse(
  readFileSync(new URL('../../grafana/cadence-rollouts.json', import.meta.url), 'utf8'),
) as { panels: Panel[]; templating: { list: { name: string; query: string }[] } };

const FROM = "'2026-03-01T00:00:00Z'";
const TO = "'2026-03-15T00:00:00Z'";
const at = (hour: number, second = 0) => new Date(Date.UTC(2026, 2, 2, hour, 0, second));

/** Grafana's substitution for the PostgreSQL datasource. */
function substitute(sql: string, namespaces: string[]): string {
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 BETWEEN ${FROM} AND ${TO}`)
    .replaceAll('$namespace', namespaces.map((n) => `'${n}'`).join(','));
}

const byTitle = (title: string) => {
  const panel = dashboard.panels.find((p) => p.title === title && p.targets);
  assert.ok(panel?.targets?.[0], `panel ${title}`);
  return panel.targets[0].rawSql;
};

const observation = (
  deployment: string,
  overrides: Partial<RolloutObservation> = {},
): RolloutObservation => ({
  namespace: 'shop',
  deployment,
  uid: `uid-${deployment}`,
  revision: '1',
  images: [`registry.example/${deployment}:1.0`],
  generation: 1,
  observedGeneration: 1,
  desired: 2,
  replicas: 1,
  updated: 1,
  ready: 1,
  available: 1,
  phase: 'progressing',
  progress: 0.5,
  observed: true,
  reportedByDeployer: false,
  conditions: [],
  ...overrides,
});
const done = {
  updated: 2,
  ready: 2,
  available: 2,
  replicas: 2,
  progress: 1,
  phase: 'complete' as const,
};

describe('the rollouts Grafana dashboard on PostgreSQL', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  const query = async <T>(sql: string) => (await store.query<T>(sql)).rows;

  before(async () => {
    ({ store, dispose } = await openTestStore('postgres'));
    ({ app } = testApp(store));
    // web: 12 s; api: past its deadline at 30 s, complete at 50 s; search: stuck past its
    // deadline; cart: completed, then deleted; admin in another namespace, scaled to 4 after.
    await recordObservation(store, observation('web'), at(10));
    await recordObservation(store, observation('web', done), at(10, 12));
    await recordObservation(store, observation('api'), at(11));
    const deadline = { phase: 'failed' as const, reason: 'ProgressDeadlineExceeded' };
    await recordObservation(store, observation('api', deadline), at(11, 30));
    await recordObservation(store, observation('api', done), at(11, 50));
    await recordObservation(store, observation('search'), at(12));
    await recordObservation(store, observation('search', deadline), at(12, 40));
    await recordObservation(store, observation('cart'), at(13));
    await recordObservation(store, observation('cart', done), at(13, 5));
    await recordDeletion(store, 'uid-cart', at(14));
    await recordObservation(store, observation('admin', { namespace: 'ops' }), at(15));
    await recordObservation(store, observation('admin', { namespace: 'ops', ...done }), at(15, 20));
    await recordObservation(
      store,
      observation('admin', {
        namespace: 'ops',
        ...done,
        desired: 4,
        generation: 2,
        observedGeneration: 2,
        progress: 0.5,
        phase: 'progressing',
      }),
      at(15, 30),
    );
    for (const [id, revision] of [
      ['a-1', 'v2'],
      ['a-2', 'v3'],
    ] as const) {
      await startAnalysis(store, { id, service: 'web', revision }, undefined, at(16));
    }
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  it('offers the namespaces the API knows', async () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'namespace')!;
    const rows = await query<{ namespace: string }>(variable.query);
    assert.deepEqual(
      rows.map((row) => row.namespace),
      ['ops', 'shop'],
    );
  });

  it('Live Deployments is the API live view', async () => {
    const rows = await query<Record<string, unknown>>(
      substitute(byTitle('Live Deployments'), ['ops', 'shop']),
    );
    const { rollouts } = (await app.inject({ url: '/api/v1/rollouts' })).json<{
      rollouts: LiveRollout[];
    }>();
    const key = (r: { namespace: unknown; deployment: unknown }) =>
      `${String(r.namespace)}/${String(r.deployment)}`;
    assert.deepEqual(
      rows.map(
        (row) =>
          `${key(row as never)} ${String(row.phase)} ${String(row.updated)}/${String(row.desired)} ${Number(row.progress)}`,
      ),
      [...rollouts]
        .sort((a, b) => key(a).localeCompare(key(b)))
        .map(
          (r) =>
            `${key(r)} ${r.phase} ${r.updated}/${r.desired} ${Math.round(r.progress * 1e4) / 1e4}`,
        ),
    );
    assert.ok(!rows.some((row) => row.deployment === 'cart'), 'deleted: gone');
    assert.deepEqual(
      rows.filter((row) => row.deployment === 'admin').map((row) => [row.desired, row.phase]),
      [[4, 'progressing']],
      'the scale, not the finished record',
    );
  });

  it('Rollouts is the API history, durations and the deadline miss included', async () => {
    const rows = await query<{
      deployment: string;
      phase: string;
      duration_seconds: number | null;
      deadline_missed: boolean;
      deleted: boolean;
    }>(substitute(byTitle('Rollouts'), ['shop']));
    const api: Rollout[] = [];
    for (const name of ['web', 'api', 'search', 'cart']) {
      const response = await app.inject({ url: `/api/v1/rollouts/shop/${name}` });
      api.push(...response.json<{ rollouts: Rollout[] }>().rollouts);
    }
    const expected = api
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .map((r) => [
        r.deployment,
        r.phase,
        r.durationMs === null ? null : r.durationMs / 1000,
        r.deadlineExceededAt !== null,
        r.deletedAt !== null,
      ]);
    assert.deepEqual(
      rows.map((row) => [
        row.deployment,
        row.phase,
        row.duration_seconds,
        row.deadline_missed,
        row.deleted,
      ]),
      expected,
    );
    assert.deepEqual(
      expected.find((row) => row[0] === 'api'),
      ['api', 'complete', 50, true, false],
    );
  });

  it('Median rollout duration and Failed rollouts agree with the API', async () => {
    const [median] = await query<{ median: number }>(
      substitute(byTitle('Median rollout duration'), ['shop']),
    );
    // Completed in shop: web 12 s, api 50 s, cart 5 s: median 12 s.
    assert.equal(Number(median!.median), 12);
    const [failed] = await query<{ failed: string }>(
      substitute(byTitle('Failed rollouts'), ['shop', 'ops']),
    );
    const { rollouts } = (await app.inject({ url: '/api/v1/rollouts?phase=failed' })).json<{
      rollouts: Rollout[];
    }>();
    assert.equal(Number(failed!.failed), rollouts.length);
    assert.equal(rollouts[0]?.deployment, 'search');
  });

  it('Analyses and their verdicts are the API list', async () => {
    const rows = await query<{ id: string; status: string; revision: string }>(
      substitute(byTitle('Analyses'), []),
    );
    const { analyses } = (await app.inject({ url: '/api/v1/analyses' })).json<{
      analyses: { id: string; status: string; revision: string }[];
    }>();
    assert.deepEqual(
      rows.map((row) => `${row.id} ${row.revision} ${row.status}`).sort(),
      analyses.map((a) => `${a.id} ${a.revision} ${a.status}`).sort(),
    );
    assert.equal(rows.length, 2);
    const verdicts = await query<{ verdict: string; analyses: string }>(
      substitute(byTitle('Analysis verdicts'), []),
    );
    assert.equal(
      verdicts.reduce((sum, row) => sum + Number(row.analyses), 0),
      analyses.length,
    );
  });

  it('every SQL panel runs', async () => {
    for (const panel of dashboard.panels.filter((p) => p.targets)) {
      for (const target of panel.targets!) await query(substitute(target.rawSql, ['shop']));
    }
  });
});
