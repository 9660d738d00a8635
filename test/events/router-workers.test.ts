/**
 * Router workers (`router.workers`, PostgreSQL): several batches routed at once still route every
 * event exactly once, number the CDEvents in the order their raw events were claimed (intake
 * order, for every subject: the rules break ties between equal timestamps by that number), and a
 * batch the database keeps failing holds up no other worker. PostgreSQL only: PGlite has one
 * connection, so the config refuses more than one worker there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaults } from '../../src/config/index.js';
import { insertEvents } from '../../src/events/event-rows.js';
import {
  compileRoutingTable,
  createRouter,
  validateCdevent,
  wrapCdevent,
  type Router,
} from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import { builtinTransformers } from '../../src/sources/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

const door = { name: '/cdevents', principal: null, vouched: ['cdevents'] };

/** A `service.deployed` for one of ten services, all at the same instant (ties everywhere). */
function deployed(prefix: string, index: number) {
  const service = `svc-${index % 10}`;
  const result = validateCdevent({
    context: {
      specversion: '0.5.1',
      id: `${prefix}-${index}`,
      source: '/test/router-workers',
      type: 'dev.cdevents.service.deployed.0.3.0',
      timestamp: '2026-11-01T10:00:00Z',
    },
    subject: {
      id: service,
      content: { environment: { id: 'production' }, artifactId: `pkg:oci/${service}@v${index}` },
    },
  });
  assert.ok(result.ok);
  return wrapCdevent(result.value);
}

async function seed(store: Store, prefix: string, count: number): Promise<void> {
  const events = Array.from({ length: count }, (_, index) => deployed(prefix, index));
  await insertEvents(
    store,
    events,
    events.map(() => door),
  );
}

function router(store: Store, workers: number): Router {
  const transformers = builtinTransformers({});
  const table = compileRoutingTable(
    defaults.routes.map((route) => ({ ...route, transformers: [...route.transformers] })),
    transformers.keys(),
  );
  return createRouter({
    store,
    table,
    transformers,
    logger: silentLogger,
    workers,
    batchSize: 25,
    pollIntervalMs: 20,
    settleMs: 0,
  });
}

async function unrouted(store: Store, prefix: string): Promise<number> {
  const { rows } = await store.query<{ n: number }>(
    `select count(*)::int8 as n from events where routed_at is null and id like $1`,
    [`${prefix}-%`],
  );
  return Number(rows[0]!.n);
}

for (const engine of engines.filter((engine) => engine === 'postgres')) {
  describe(`router workers on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
    });
    after(async () => {
      await dispose();
    });

    it(
      'routes every event once, numbering CDEvents in intake order for every subject',
      { timeout: 120_000 },
      async () => {
        await seed(store, 'order', 1000);
        const routing = router(store, 4);
        routing.start();
        try {
          await pollUntil(async () => (await unrouted(store, 'order')) === 0, 'everything routed');
        } finally {
          await routing.stop();
        }
        const { rows: counts } = await store.query<{ route_count: number; n: number }>(
          `select route_count, count(*)::int8 as n from events where id like 'order-%'
         group by route_count`,
        );
        assert.deepEqual(
          counts.map((row) => [row.route_count, Number(row.n)]),
          [[1, 1000]],
        );
        // Every subject's CDEvents, in CDEvent number order, come from raw events in intake order.
        const { rows } = await store.query<{ subject_id: string; event_seqs: string[] }>(
          `select subject_id, array_agg(event_seq order by seq) as event_seqs from cdevents
         where id like 'order-%' group by subject_id order by subject_id`,
        );
        assert.equal(rows.length, 10);
        for (const row of rows) {
          const seqs = row.event_seqs.map(Number);
          assert.equal(seqs.length, 100);
          assert.deepEqual(
            seqs,
            [...seqs].sort((a, b) => a - b),
            `${row.subject_id} out of order`,
          );
        }
      },
    );

    it(
      'keeps the other workers routing while one batch keeps failing',
      { timeout: 120_000 },
      async () => {
        // A real failure inside the database: a trigger that aborts any CDEvent 'stuck-0'.
        await store.exec(`
        create function refuse_stuck() returns trigger language plpgsql as $$
        begin
          if new.id = 'stuck-0' then raise exception 'stuck batch'; end if;
          return new;
        end $$;
        create trigger refuse_stuck before insert on cdevents
          for each row execute function refuse_stuck();
      `);
        await seed(store, 'stuck', 500);
        const routing = router(store, 3);
        routing.start();
        try {
          // The failing batch is at most one batch; everything else is routed around it.
          await pollUntil(
            async () => (await unrouted(store, 'stuck')) <= 25,
            'everything but the failing batch routed',
          );
          const { rows } = await store.query<{ routed_at: Date | null }>(
            `select routed_at from events where id = 'stuck-0'`,
          );
          assert.equal(rows[0]!.routed_at, null);
          await store.exec(`drop trigger refuse_stuck on cdevents; drop function refuse_stuck();`);
          await pollUntil(async () => (await unrouted(store, 'stuck')) === 0, 'the rest routed');
        } finally {
          await routing.stop();
        }
        const { rows } = await store.query<{ n: number }>(
          `select count(*)::int8 as n from cdevents where id like 'stuck-%'`,
        );
        assert.equal(Number(rows[0]!.n), 500);
      },
    );
  });
}
