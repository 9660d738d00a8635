/**
 * A projector killed mid-batch (SIGKILL while its transaction is open) loses nothing and doubles
 * nothing: its claims roll back with the transaction, and the next pass (here, in this process)
 * finishes the work. PostgreSQL only: a PGlite store lives inside the one process that would be
 * killed, so there is no other process to find what it left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import pg from 'pg';
import { defaultDoraSettings, metricsReport, refreshDeliveries } from '../../src/dora/index.js';
import { openStore } from '../../src/store/index.js';
import { routeAll, testApp } from '../support/app.js';
import { createThrowawayDatabase } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

const SERVICES = 150;
const PER_SERVICE = 20;
const APP_NAME = 'cadence-projector-kill-test';

const deployed = (service: number, n: number) => ({
  specversion: '1.0',
  id: `kill-${service}-${n}`,
  source: '/kill-test',
  type: 'dev.cdevents.service.deployed.0.3.0',
  datacontenttype: 'application/json',
  data: {
    context: {
      specversion: '0.5.1',
      id: `kill-${service}-${n}`,
      source: '/kill-test',
      type: 'dev.cdevents.service.deployed.0.3.0',
      // Two hours apart: every report is a deployment of its own.
      timestamp: new Date(
        Date.UTC(2026, 2, 1) + (n * SERVICES + service) * 7_200_000,
      ).toISOString(),
    },
    subject: {
      id: `svc-${service}`,
      content: {
        environment: { id: 'production' },
        artifactId: `pkg:oci/svc-${service}@sha256%3A${n}`,
      },
    },
  },
});

describe('projector killed mid-batch on postgres', () => {
  it('finds nothing lost or doubled after the next pass', async () => {
    const database = await createThrowawayDatabase();
    const store = await openStore({ databaseUrl: database.url, poolSize: 3 });
    const { app, router } = testApp(store);
    const watcher = new pg.Client({ connectionString: database.url });
    await watcher.connect();
    try {
      const events = Array.from({ length: SERVICES * PER_SERVICE }, (_, i) =>
        deployed(i % SERVICES, Math.floor(i / SERVICES)),
      );
      for (let start = 0; start < events.length; start += 500) {
        const response = await app.inject({
          method: 'POST',
          url: '/events',
          headers: { 'content-type': 'application/cloudevents-batch+json' },
          payload: JSON.stringify(events.slice(start, start + 500)),
        });
        assert.equal(response.statusCode, 202, response.body);
      }
      await routeAll(router);

      const url = new URL(database.url);
      url.searchParams.set('application_name', APP_NAME);
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(new URL('../support/projector-process.ts', import.meta.url)),
          url.toString(),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Killed once it has committed some work and has a transaction open on more.
      await pollUntil(
        async () => {
          const { rows } = await watcher.query(
            `select
               (select count(*) from pg_stat_activity
                where application_name = $1 and xact_start is not null
                  and state in ('active', 'idle in transaction'))::int as open,
               (select count(*) from dora_deliveries)::int as done`,
            [APP_NAME],
          );
          return rows[0].open > 0 && rows[0].done > 0;
        },
        'the child projector mid-batch',
        { intervalMs: 5, timeoutMs: 120_000 },
      );
      child.kill('SIGKILL');
      await exited;
      await pollUntil(async () => {
        const { rows } = await watcher.query(
          `select count(*)::int as n from pg_stat_activity where application_name = $1`,
          [APP_NAME],
        );
        return rows[0].n === 0;
      }, 'PostgreSQL to end the killed backend');
      const { rows: left } = await watcher.query(
        `select (select count(*) from dora_stale_streams)::int
              + (select count(*) from cdevents where projected_at is null)::int
              + (select count(*) from dora_stale_days)::int as pending`,
      );
      assert.ok(left[0].pending > 0, 'the kill left work unfinished (else it proves nothing)');

      await refreshDeliveries(store, defaultDoraSettings);
      const { rows } = await watcher.query(
        `select (select count(*) from deployments)::int as facts,
                (select count(*) from dora_deliveries)::int as deliveries,
                (select count(distinct deployment_seq) from dora_deliveries)::int as distinct_seqs,
                (select coalesce(sum(attempts), 0) from dora_daily)::int as rolled_up,
                (select count(*) from cdevents where projected_at is null)::int as unprojected,
                (select count(*) from dora_stale_streams)::int as stale_streams,
                (select count(*) from dora_stale_days)::int as stale_days`,
      );
      assert.deepEqual(rows[0], {
        facts: events.length,
        deliveries: events.length,
        distinct_seqs: events.length,
        rolled_up: events.length,
        unprojected: 0,
        stale_streams: 0,
        stale_days: 0,
      });
      // Every day's rollup equals its rows (a day lost from the stale marks would differ).
      const { rows: wrong } = await watcher.query(
        `select d.day from dora_daily d
         full join (select environment, (deployed_at at time zone 'UTC')::date as day,
                           count(*) as n from dora_deliveries group by 1, 2) r
           on r.environment = d.environment and r.day = d.day
         where d.attempts is distinct from r.n`,
      );
      assert.deepEqual(wrong, []);
      const report = await metricsReport(store, {
        from: new Date('2026-03-01T00:00:00Z'),
        to: new Date('2026-12-31T00:00:00Z'),
      });
      assert.equal(report.overall.deployments, events.length);
      assert.equal(report.freshness.lagSeconds, 0);
    } finally {
      await watcher.end();
      await app.close();
      await store.close();
      await database.drop();
    }
  });
});
