/**
 * Group commit (issue 16): concurrent requests' events are written together, each request is
 * acknowledged only after the commit holding its events, a bad event is refused on its own before
 * it joins a group, a request the database refuses fails alone (its group is written again one
 * request at a time), and (source, id) stays idempotent within one group and across groups. Run on both engines; the statement
 * counter below wraps the real store (it only counts what reaches the database).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CloudEvent } from '../../src/events/cloud-event.js';
import { createEventWriter } from '../../src/events/event-writer.js';
import { CadenceError } from '../../src/problem/index.js';
import type { Store } from '../../src/store/index.js';
import { sampleEvent, structured, testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

function event(id: string, data: unknown = { n: id }): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/test/writer',
    type: 'com.example.writer',
    extensions: {},
    data,
  };
}

/** The real store, counting the event inserts that reach it. */
function counting(store: Store): { store: Store; inserts: () => number } {
  let inserts = 0;
  return {
    store: {
      ...store,
      engine: store.engine,
      query(sql, params) {
        if (sql.trimStart().startsWith('insert into events')) inserts++;
        return store.query(sql, params);
      },
    },
    inserts: () => inserts,
  };
}

async function storedIds(store: Store, prefix: string): Promise<string[]> {
  const { rows } = await store.query<{ id: string }>(
    `select id from events where id like $1 order by id`,
    [`${prefix}%`],
  );
  return rows.map((row) => row.id);
}

/** The next turn of the event loop: whatever the writer had queued has been taken as a group. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

for (const engine of engines) {
  describe(`event writer group commit on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
    });
    after(async () => {
      await dispose();
    });

    it('acknowledges N concurrent posts with N rows, in fewer commits than requests', async () => {
      const spy = counting(store);
      const { app } = testApp(spy.store);
      const n = 120;
      const responses = await Promise.all(
        Array.from({ length: n }, (_, index) =>
          app.inject({
            method: 'POST',
            url: '/events',
            headers: structured,
            payload: JSON.stringify(sampleEvent({ id: `conc-${String(index).padStart(3, '0')}` })),
          }),
        ),
      );
      await app.close();
      for (const response of responses) {
        assert.equal(response.statusCode, 202, response.body);
        assert.deepEqual(response.json(), { mode: 'structured', accepted: 1, duplicates: 0 });
      }
      assert.equal((await storedIds(store, 'conc-')).length, n);
      assert.ok(spy.inserts() < n, `${spy.inserts()} inserts for ${n} concurrent requests`);
    });

    it('keeps (source, id) idempotent within one group and across groups', async () => {
      const spy = counting(store);
      const writer = createEventWriter(spy.store);
      // Written in one turn: one group, with the same event from two requests and twice in one.
      const [first, second, batch] = await Promise.all([
        writer.write([event('dup-a')]),
        writer.write([event('dup-a')]),
        writer.write([event('dup-b'), event('dup-b'), event('dup-c')]),
      ]);
      assert.equal(spy.inserts(), 1, 'the three requests shared one insert');
      assert.deepEqual(first.stored, [true]);
      assert.deepEqual(second.stored, [false]);
      assert.deepEqual(batch.stored, [true, false, true]);
      // A later group: everything is already there.
      const again = await writer.write([event('dup-c'), event('dup-a'), event('dup-d')]);
      assert.deepEqual(again.stored, [false, false, true]);
      assert.deepEqual(await storedIds(store, 'dup-'), ['dup-a', 'dup-b', 'dup-c', 'dup-d']);
    });

    it('refuses an event the database cannot store before it joins a group', async () => {
      const spy = counting(store);
      const writer = createEventWriter(spy.store);
      const results = await Promise.allSettled([
        writer.write([event('nul-ok-1')]),
        writer.write([event('nul-ok-2'), event('nul-bad', { deep: { note: 'a\u0000b' } })]),
        writer.write([event('nul-ok-3')]),
      ]);
      assert.equal(results[0].status, 'fulfilled');
      assert.equal(results[2].status, 'fulfilled');
      assert.equal(results[1].status, 'rejected');
      const error = (results[1] as PromiseRejectedResult).reason as CadenceError;
      assert.ok(error instanceof CadenceError);
      assert.equal(error.code, 'invalid-input');
      assert.equal(error.field, '[1].data.deep.note');
      // One insert for the two good requests: the bad one never reached the database (a group
      // that hit the database's refusal would cost a failed insert and one retry per request).
      assert.equal(spy.inserts(), 1);
      assert.deepEqual(await storedIds(store, 'nul-'), ['nul-ok-1', 'nul-ok-3']);
    });

    it('still fails only its own request when the database refuses a value', async () => {
      const writer = createEventWriter(store);
      // Year 0 passes RFC 3339 but not timestamptz: the database's refusal, not a check's.
      const results = await Promise.allSettled([
        writer.write([event('refused-ok-1')]),
        writer.write([{ ...event('refused-bad'), time: '0000-01-01T00:00:00Z' }]),
        writer.write([event('refused-ok-2')]),
      ]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const error = (results[1] as PromiseRejectedResult).reason as CadenceError;
      assert.equal(error.code, 'invalid-input');
      assert.deepEqual(await storedIds(store, 'refused-'), ['refused-ok-1', 'refused-ok-2']);
    });

    it('fails only the request the database refuses; its group and the next are stored', async () => {
      // A real failure inside the database: a trigger that aborts any insert carrying 'poison'.
      await store.exec(`
        create function refuse_poison() returns trigger language plpgsql as $$
        begin
          if new.id = 'fail-poison' then raise exception 'poisoned batch'; end if;
          return new;
        end $$;
        create trigger refuse_poison before insert on events
          for each row execute function refuse_poison();
      `);
      try {
        const writer = createEventWriter(store);
        // Settled as they are written: on PGlite the first group fails before the second starts.
        const settled = (ids: string[]) =>
          ids.map((id) =>
            writer.write([event(id)]).then(
              () => 'stored',
              (error: Error) => error,
            ),
          );
        const firstGroup = settled(['fail-a', 'fail-poison']);
        await nextTurn();
        // The first group is in flight (or done); these form the next one.
        const secondGroup = settled(['fail-b', 'fail-c']);
        const results = await Promise.all([...firstGroup, ...secondGroup]);
        // The poisoned request fails on its own: its group's transaction is written again one
        // request at a time, so the innocent one in it is stored (once), as are the next group's.
        assert.equal(results[0], 'stored');
        assert.match(String(results[1]), /poisoned batch/);
        assert.deepEqual(results.slice(2), ['stored', 'stored']);
        assert.deepEqual(await storedIds(store, 'fail-'), ['fail-a', 'fail-b', 'fail-c']);
        // The writer carries on, and the stored request sent again is a duplicate.
        assert.deepEqual((await writer.write([event('fail-a')])).stored, [false]);
        await writer.drain();
      } finally {
        await store.exec(
          `drop trigger refuse_poison on events; drop function refuse_poison() cascade;`,
        );
      }
    });
  });
}
