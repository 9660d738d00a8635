/**
 * Back-pressure: past `router.maxBacklog` unrouted events, producers' requests are refused with
 * 429, Retry-After and a problem naming the backlog, and nothing from them is stored; once the
 * router catches up they are accepted again. Cadence's own events are never refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBacklogGate } from '../../src/events/backlog-gate.js';
import type { CloudEvent } from '../../src/events/cloud-event.js';
import { countEvents, insertEvents } from '../../src/events/event-rows.js';
import { CadenceError } from '../../src/problem/index.js';
import type { Queryable } from '../../src/store/index.js';
import { routeAll, sampleEvent, structured, testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

/** The real store, counting the backlog counts that reach it. */
function countingCounts(db: Queryable): { db: Queryable; counts: () => number } {
  let counts = 0;
  return {
    db: {
      query(sql, params) {
        if (/count\(\*\)[\s\S]*routed_at is null/.test(sql)) counts++;
        return db.query(sql, params);
      },
    },
    counts: () => counts,
  };
}

const rawEvent = (id: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/test/backlog',
  type: 'com.example.backlog',
  extensions: {},
});

async function refusal(admit: Promise<void>): Promise<CadenceError | undefined> {
  try {
    await admit;
    return undefined;
  } catch (error) {
    if (error instanceof CadenceError) return error;
    throw error;
  }
}

for (const engine of engines) {
  describe(`backlog estimate on ${engine}`, () => {
    it('follows what this process stores and routes between counts, counting only on the timer', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const spy = countingCounts(store);
        // A timer longer than the test: every judgement after the first count is the estimate.
        const gate = createBacklogGate({ db: spy.db, maxBacklog: 2, refreshMs: 60_000 });
        await gate.admit();
        assert.equal(spy.counts(), 1);
        gate.stored(3);
        assert.equal((await refusal(gate.admit()))?.field, 'backlog');
        gate.routed(1);
        assert.equal(await refusal(gate.admit()), undefined, 'two waiting is within the bound');
        gate.routed(5);
        gate.stored(2);
        assert.equal(await refusal(gate.admit()), undefined, 'never estimated below nothing');
        gate.stored(1);
        assert.match((await refusal(gate.admit()))?.message ?? '', /3 events wait to be routed/);
        assert.equal(spy.counts(), 1, 'no count besides the first');
      } finally {
        await dispose();
      }
    });

    it('brings in what another replica stored at the next count', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const gate = createBacklogGate({ db: store, maxBacklog: 2, refreshMs: 60_000 });
        await gate.admit();
        // Stored past this gate (another replica's intake): the estimate cannot know of them.
        await insertEvents(store, [rawEvent('r-1'), rawEvent('r-2'), rawEvent('r-3')]);
        assert.equal(await refusal(gate.admit()), undefined);
        assert.equal(await gate.refresh(), 3);
        assert.equal((await refusal(gate.admit()))?.code, 'backlogged');
      } finally {
        await dispose();
      }
    });
  });
}

describe('intake back-pressure', () => {
  it('answers 429 with Retry-After past the bound, and accepts again once routed', async () => {
    const { store, dispose } = await openTestStore('pglite');
    const { app, router, backlog } = testApp(store, { maxBacklog: 2 });
    const post = (id: string) =>
      app.inject({
        method: 'POST',
        url: '/events',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id })),
      });
    try {
      for (const id of ['a', 'b', 'c']) assert.equal((await post(id)).statusCode, 202);
      assert.equal(await backlog!.refresh(), 3);
      const refused = await post('d');
      assert.equal(refused.statusCode, 429, refused.body);
      assert.equal(refused.headers['retry-after'], '1');
      assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
      const problem = refused.json();
      assert.equal(problem.field, 'backlog');
      assert.match(problem.detail, /3 events wait to be routed \(router\.maxBacklog is 2\)/);
      assert.equal(await countEvents(store), 3, 'nothing from the refused request was stored');

      await routeAll(router);
      assert.equal(await backlog!.refresh(), 0);
      assert.equal((await post('d')).statusCode, 202);
      assert.equal(await countEvents(store), 4);
    } finally {
      await app.close();
      await dispose();
    }
  });
});
