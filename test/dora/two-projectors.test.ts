/**
 * Two projectors (two replicas' `refreshDeliveries` loops, each with its own connection pool) on
 * one PostgreSQL database while facts arrive and are routed: neither fails (no deadlock between
 * their marks and incident locks), and what they leave is exactly what one full rewrite of the
 * same facts gives (a mark lost between them would leave a stream behind; a stream rewritten by
 * both at once would double its rows). PostgreSQL only: PGlite has one connection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultDoraSettings, refreshDeliveries } from '../../src/dora/index.js';
import { openStore } from '../../src/store/index.js';
import { postCdevents, routeAll, testApp } from '../support/app.js';
import { createThrowawayDatabase } from '../support/engines.js';
import { derivedRows, markAllStale } from '../support/full-rewrite.js';
import { random, randomHistory, shuffled } from '../support/random-dora-history.js';

describe('two projectors on one postgres database', () => {
  it('neither fails, and together they write what one full rewrite writes', async () => {
    const database = await createThrowawayDatabase();
    const intakeStore = await openStore({ databaseUrl: database.url, poolSize: 2 });
    const replicas = [
      await openStore({ databaseUrl: database.url, poolSize: 2, migrate: false }),
      await openStore({ databaseUrl: database.url, poolSize: 2, migrate: false }),
    ];
    const { app, router } = testApp(intakeStore);
    const errors: unknown[] = [];
    const passes = [0, 0];
    let arriving = true;
    try {
      // Every history at once, in a random order: the same streams, incidents and repositories
      // are written by both projectors' batches.
      const next = random(4242);
      const events = shuffled(
        [1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((seed) => randomHistory(seed).events),
        next,
      );
      const loops = replicas.map(async (store, index) => {
        // Runs on until the facts stop arriving and one more pass found everything done.
        for (;;) {
          const done = !arriving;
          try {
            await refreshDeliveries(store, defaultDoraSettings, 3);
            passes[index]!++;
          } catch (error) {
            errors.push(error);
          }
          if (done) return;
        }
      });
      const routing = (async () => {
        while (arriving) await routeAll(router);
      })();
      for (let at = 0; at < events.length;) {
        const size = 1 + Math.floor(next() * 8);
        await postCdevents(app, events.slice(at, at + size));
        at += size;
        await routeAll(router);
      }
      await routeAll(router);
      arriving = false;
      await routing;
      await Promise.all(loops);
      assert.deepEqual(errors, [], 'no projector pass failed (a deadlock aborts one)');
      assert.ok(passes[0]! > 1 && passes[1]! > 1, `both projectors ran passes: ${passes}`);
      await refreshDeliveries(intakeStore, defaultDoraSettings);

      const { rows: pending } = await intakeStore.query<{ n: number }>(
        `select (select count(*) from cdevents where projected_at is null)::int
              + (select count(*) from dora_stale_streams)::int
              + (select count(*) from dora_stale_days)::int as n`,
      );
      assert.equal(pending[0]!.n, 0);
      const together = await derivedRows(intakeStore);
      const { rows: doubled } = await intakeStore.query(
        `select deployment_seq from dora_deliveries group by 1 having count(*) > 1`,
      );
      assert.deepEqual(doubled, []);

      await markAllStale(intakeStore);
      await refreshDeliveries(intakeStore, defaultDoraSettings);
      assert.deepEqual(together, await derivedRows(intakeStore));
    } finally {
      arriving = false;
      await app.close();
      for (const store of replicas) await store.close();
      await intakeStore.close();
      await database.drop();
    }
  });
});
