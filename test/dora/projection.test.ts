/**
 * Projection in the background: reads only read and say how fresh they are; a stream rewrite
 * marks only the days whose rollup inputs changed; the rollup statements read each claimed day
 * as an index range (EXPLAIN on both engines: the plan's shape, never its timing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedDays, ROLLUP_STATEMENTS, type RollupRow } from '../../src/dora/daily-rollups.js';
import { createBackgroundProjector, metricsReport } from '../../src/dora/index.js';
import { readFreshness } from '../../src/dora/freshness.js';
import { silentLogger } from '../../src/log/index.js';
import { freshnessNote } from '../../src/cli/metrics-command.js';
import { postCdevents, testApp } from '../support/app.js';
import { scenario, settings } from '../support/dora-scenario.js';
import { engines, openTestStore } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

const at = (iso: string) => new Date(iso);
const deploy = (seq: number, iso: string, extra: Partial<Record<string, unknown>> = {}) =>
  ({
    deliverySeq: seq,
    deployedAt: at(iso),
    kind: 'deploy',
    outcome: 'success',
    failed: false,
    rework: false,
    restoredAt: undefined,
    ...extra,
  }) as RollupRow;
const commit = (seq: number, iso: string, sha: string, lead: number): RollupRow => ({
  deliverySeq: seq,
  deployedAt: at(iso),
  sha,
  leadTimeSeconds: lead,
});

describe('changedDays', () => {
  const history = [
    deploy(1, '2026-03-01T10:00:00Z'),
    commit(1, '2026-03-01T10:00:00Z', 'a', 3600),
    deploy(2, '2026-03-02T10:00:00Z'),
    deploy(3, '2026-03-03T10:00:00Z'),
  ];
  const cases: [string, RollupRow[], RollupRow[], string[]][] = [
    ['nothing changed', history, [...history].reverse(), []],
    [
      'a new deployment: only its day',
      history,
      [...history, deploy(4, '2026-03-04T09:00:00Z')],
      ['2026-03-04'],
    ],
    [
      'a deployment now failed and restored: its day only',
      history,
      history.map((r) =>
        'sha' in r || r.deliverySeq !== 2
          ? r
          : deploy(2, '2026-03-02T10:00:00Z', {
              failed: true,
              restoredAt: at('2026-03-02T12:00:00Z'),
            }),
      ),
      ['2026-03-02'],
    ],
    [
      'a commit credited to another deployment: both days',
      history,
      [...history.filter((r) => !('sha' in r)), commit(3, '2026-03-03T10:00:00Z', 'a', 90_000)],
      ['2026-03-01', '2026-03-03'],
    ],
    ['a stream emptied: every day it had', history, [], ['2026-03-01', '2026-03-02', '2026-03-03']],
    ['a first deployment', [], [deploy(9, '2026-03-09T23:59:59Z')], ['2026-03-09']],
    [
      'the same seq moved to another day: both days',
      history,
      history.map((r) =>
        'sha' in r || r.deliverySeq !== 3 ? r : deploy(3, '2026-03-05T10:00:00Z'),
      ),
      ['2026-03-03', '2026-03-05'],
    ],
  ];
  for (const [name, before, after, expected] of cases) {
    it(name, () => assert.deepEqual(changedDays(before, after), expected));
  }
});

describe('freshnessNote (the CLI line)', () => {
  const freshness = (pending: Record<string, number>) => ({
    freshness: {
      asOf: '2026-03-01T10:00:00.000Z',
      lagSeconds: 2.345,
      pending: { events: 0, cdevents: 0, streams: 0, days: 0, ...pending },
    },
  });
  const cases: [string, Record<string, number>, string | undefined][] = [
    ['nothing pending: no line', {}, undefined],
    [
      'events and streams pending',
      { events: 12, streams: 2 },
      'as of 2026-03-01T10:00:00.000Z (2.3s behind): 12 events not yet routed, 2 streams still being counted',
    ],
    [
      'only rollups pending',
      { days: 3 },
      'as of 2026-03-01T10:00:00.000Z (2.3s behind): 3 days still being counted',
    ],
  ];
  for (const [name, pending, expected] of cases) {
    it(name, () => assert.equal(freshnessNote(freshness(pending)), expected));
  }
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

for (const engine of engines) {
  describe(`background projection on ${engine}`, () => {
    it('reads only read: before the projector runs a read shows what is pending', async () => {
      const { store, dispose } = await openTestStore(engine);
      const { app, router } = testApp(store, { dora: settings });
      try {
        const empty = await readFreshness(store);
        assert.deepEqual(empty.pending, { events: 0, cdevents: 0, streams: 0, days: 0 });
        assert.equal(empty.lagSeconds, 0);
        const posted = new Date();
        await postCdevents(app, scenario);
        const window = { from: at('2026-03-01T00:00:00Z'), to: at('2026-03-15T00:00:00Z') };
        const unrouted = await metricsReport(store, window, settings);
        assert.equal(unrouted.overall.deployments, 0, 'the read did not project');
        assert.equal(unrouted.freshness.pending.events, scenario.length);
        assert.ok(new Date(unrouted.freshness.asOf) <= new Date(Date.now()));
        assert.ok(new Date(unrouted.freshness.asOf).getTime() >= posted.getTime() - 1000);

        while ((await router.routeBatch()) > 0);
        const routed = await metricsReport(store, window, settings);
        assert.equal(routed.overall.deployments, 0, 'still not projected');
        assert.equal(routed.freshness.pending.events, 0);
        assert.ok(routed.freshness.pending.cdevents > 0);
        // asOf stays at the oldest uncounted event's receive time, not the routing time.
        assert.equal(routed.freshness.asOf, unrouted.freshness.asOf);

        // The projector in the background, woken as the server's router wakes it.
        const projector = createBackgroundProjector({
          store,
          settings,
          logger: silentLogger,
          pollIntervalMs: 60_000,
        });
        projector.start();
        projector.kick();
        const counted = await pollUntil(async () => {
          const report = await metricsReport(store, window, settings);
          return report.freshness.lagSeconds === 0 && report;
        }, 'the projector to count everything');
        await projector.stop();
        assert.deepEqual(counted.freshness.pending, {
          events: 0,
          cdevents: 0,
          streams: 0,
          days: 0,
        });
        // The golden scenario's number (test/dora/golden-scenario.test.ts).
        assert.equal(counted.overall.deployments, 6);
      } finally {
        await app.close();
        await dispose();
      }
    });

    it('plans the rollup statements as index range scans per claimed day', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        // Two environments, 400 days, 50 rows a day: enough that reading everything is dearer.
        await store.exec(`
          insert into dora_deliveries (deployment_seq, service, environment, kind, outcome,
                                       deployed_at, failed, failure_reasons, restored_at, rework)
          select g, 'svc-' || (g % 20), case when g % 2 = 0 then 'production' else 'staging' end,
                 'deploy', 'success', timestamptz '2025-01-01' + (g * interval '10 minutes'),
                 g % 7 = 0, '{}', case when g % 7 = 0
                   then timestamptz '2025-01-01' + (g * interval '10 minutes') + interval '1 hour'
                 end, false
          from generate_series(1, 40000) g;
          insert into dora_delivered_commits (deployment_seq, sha, committed_at, lead_time_seconds,
                                              service, environment, deployed_at)
          select deployment_seq, 's' || deployment_seq, deployed_at - interval '2 hours', 7200,
                 service, environment, deployed_at
          from dora_deliveries;
          analyze dora_deliveries;
          analyze dora_delivered_commits;`);
        const days = Array.from({ length: 64 }, (_, i) =>
          new Date(Date.UTC(2025, 2, 1 + i)).toISOString().slice(0, 10),
        );
        const params = [days.map(() => 'production'), days];
        for (const [name, statement] of Object.entries(ROLLUP_STATEMENTS)) {
          const { rows } = await store.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
            `explain (format json) ${statement}`,
            params,
          );
          const raw = rows[0]!['QUERY PLAN'];
          const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
          const all = nodes(plan);
          const scans = all.filter((n) =>
            ['dora_deliveries', 'dora_delivered_commits'].includes(n['Relation Name'] ?? ''),
          );
          assert.ok(scans.length > 0, `${name}: ${JSON.stringify(plan)}`);
          for (const scan of scans) {
            // A bitmap heap scan reads what its bitmap index scan (its child) found.
            const index = scan['Node Type'] === 'Bitmap Heap Scan' ? scan.Plans?.[0] : scan;
            assert.match(
              index?.['Node Type'] ?? '',
              /^(Index Scan|Index Only Scan|Bitmap Index Scan)$/,
              `${name}: ${JSON.stringify(plan)}`,
            );
            assert.match(
              index?.['Index Cond'] ?? '',
              /deployed_at/,
              `${name}: a range, not a filter`,
            );
          }
          for (const node of all) {
            assert.notEqual(node['Node Type'], 'Hash Join', `${name}: ${JSON.stringify(plan)}`);
          }
        }
      } finally {
        await dispose();
      }
    });
  });
}
