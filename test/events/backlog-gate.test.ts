/**
 * Back-pressure: past `router.maxBacklog` unrouted events, producers' requests are refused with
 * 429, Retry-After and a problem naming the backlog, and nothing from them is stored; once the
 * router catches up they are accepted again. Cadence's own events are never refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countEvents } from '../../src/events/event-rows.js';
import { routeAll, sampleEvent, structured, testApp } from '../support/app.js';
import { openTestStore } from '../support/engines.js';

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
      // The gate judges by its last count; the router refreshes it after each batch.
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
