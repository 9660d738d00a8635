import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { startCadence } from '../support/cadence-process.js';
import { createThrowawayDatabase } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

const EVENTS = 1200;

function cdevent(n: number) {
  return {
    context: {
      specversion: '0.5.1',
      id: `replica-${n}`,
      source: '/two-replicas',
      type: 'dev.cdevents.service.deployed.0.3.0',
      timestamp: '2026-11-03T10:00:00Z',
    },
    subject: {
      id: `svc-${n % 7}`,
      content: { environment: { id: 'production' }, artifactId: `pkg:oci/svc@sha256%3A${n}` },
    },
  };
}

describe('two cadence serve processes on one PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-replicas-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('route every event exactly once: none transformed twice, none skipped', async () => {
    const database = await createThrowawayDatabase();
    const config = join(dir, 'cadence.yaml');
    // Small batches and a short poll make the two routers contend for the same rows.
    writeFileSync(config, 'router:\n  batchSize: 7\n  pollIntervalMs: 20\n');
    const replicas = await Promise.all(
      [0, 1].map(() => startCadence(['--config', config], { DATABASE_URL: database.url })),
    );
    try {
      const batches: unknown[][] = [];
      for (let n = 0; n < EVENTS; n += 20) {
        batches.push(
          Array.from({ length: 20 }, (_, i) => {
            const event = cdevent(n + i);
            return {
              specversion: '1.0',
              id: event.context.id,
              source: event.context.source,
              type: event.context.type,
              data: event,
            };
          }),
        );
      }
      // Both replicas take writes at the same time, so both routers see fresh work.
      await Promise.all(
        batches.map(async (batch, index) => {
          const response = await fetch(`${replicas[index % 2]!.url}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/cloudevents-batch+json' },
            body: JSON.stringify(batch),
          });
          assert.equal(response.status, 202);
        }),
      );
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await pollUntil(
          async () =>
            Number(
              (await client.query('select count(*) as n from events where routed_at is null'))
                .rows[0].n,
            ) === 0,
          'every event to be routed',
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        const counts = (
          await client.query(
            'select route_count, count(*)::int as n from events group by route_count',
          )
        ).rows;
        assert.deepEqual(
          counts,
          [{ route_count: 1, n: EVENTS }],
          'each event transformed exactly once',
        );
        const produced = Number(
          (await client.query('select count(*) as n from cdevents')).rows[0].n,
        );
        assert.equal(produced, EVENTS);
      } finally {
        await client.end();
      }
    } finally {
      for (const replica of replicas) replica.child.kill('SIGTERM');
      await Promise.all(replicas.map((replica) => replica.exited));
      await database.drop();
    }
  });
});
