import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Router } from '../../src/events/index.js';
import type { Store } from '../../src/store/index.js';
import { batched, routeAll, sampleEvent, structured, testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

async function count(store: Store, table = 'events'): Promise<number> {
  const { rows } = await store.query<{ n: number }>(`select count(*)::int8 as n from ${table}`);
  return rows[0]!.n;
}

for (const engine of engines) {
  describe(`CloudEvents intake on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let router: Router;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app, router } = testApp(store, { bodyLimitBytes: 64 * 1024 }));
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('accepts structured mode with 202 and stores the event raw, extensions kept', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/events',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 's-1', traceparent: '00-1-2-01', priority: 3 })),
      });
      assert.equal(response.statusCode, 202, response.body);
      assert.deepEqual(response.json(), { mode: 'structured', accepted: 1, duplicates: 0 });
      const { rows } = await store.query<{ extensions: unknown; data: unknown; time: Date }>(
        `select extensions, data, time from events where id = 's-1'`,
      );
      assert.deepEqual(rows[0]?.extensions, { traceparent: '00-1-2-01', priority: 3 });
      assert.deepEqual(rows[0]?.data, { hello: 'world' });
      assert.equal(rows[0]?.time.toISOString(), '2026-11-01T10:00:00.000Z');
    });

    it('accepts binary mode with percent-decoded headers', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/events',
        headers: {
          'ce-specversion': '1.0',
          'ce-id': 'b-1',
          'ce-source': 'urn%3Aexample%3Abinary',
          'ce-type': 'com.example.binary',
          'ce-myext': 'caf%C3%A9',
          'content-type': 'text/plain; charset=utf-8',
        },
        payload: 'plain text',
      });
      assert.equal(response.statusCode, 202, response.body);
      const listed = await app.inject({ url: '/api/v1/events?source=urn%3Aexample%3Abinary' });
      const [event] = listed.json().events;
      assert.equal(event.id, 'b-1');
      assert.equal(event.data, 'plain text');
      assert.deepEqual(event.extensions, { myext: 'café' });
    });

    it('accepts a batch, and is idempotent on (source, id)', async () => {
      const batch = [
        sampleEvent({ id: 'batch-1' }),
        sampleEvent({ id: 'batch-2' }),
        sampleEvent({ id: 'batch-1' }),
      ];
      const first = await app.inject({
        method: 'POST',
        url: '/events',
        headers: batched,
        payload: JSON.stringify(batch),
      });
      assert.equal(first.statusCode, 202);
      assert.deepEqual(first.json(), { mode: 'batch', accepted: 2, duplicates: 1 });
      const again = await app.inject({
        method: 'POST',
        url: '/events',
        headers: batched,
        payload: JSON.stringify(batch),
      });
      assert.deepEqual(again.json(), { mode: 'batch', accepted: 0, duplicates: 3 });
      const { rows } = await store.query<{ n: number }>(
        `select count(*)::int8 as n from events where id like 'batch-%'`,
      );
      assert.equal(rows[0]?.n, 2);
    });

    const bad: {
      name: string;
      headers: Record<string, string>;
      payload: string;
      status: number;
      field: string;
    }[] = [
      {
        name: 'malformed JSON',
        headers: structured,
        payload: '{"specversion":',
        status: 400,
        field: 'body',
      },
      {
        name: 'missing source',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 'x-1', source: undefined })),
        status: 400,
        field: 'source',
      },
      {
        name: 'wrong specversion',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 'x-2', specversion: '2.0' })),
        status: 400,
        field: 'specversion',
      },
      {
        name: 'unknown media type',
        headers: { 'content-type': 'application/xml' },
        payload: '<e/>',
        status: 415,
        field: 'content-type',
      },
      {
        name: 'body over the limit',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 'x-3', data: 'x'.repeat(70 * 1024) })),
        status: 413,
        field: 'body',
      },
      {
        name: 'an invalid batch item',
        headers: batched,
        payload: JSON.stringify([sampleEvent({ id: 'x-4' }), sampleEvent({ id: 'x-5', type: '' })]),
        status: 400,
        field: '[1].type',
      },
      {
        name: 'a NUL character in data',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 'x-6', data: { a: 'nul\u0000' } })),
        status: 400,
        field: 'data.a',
      },
      {
        name: 'an invalid CDEvent',
        headers: structured,
        payload: JSON.stringify(
          sampleEvent({
            id: 'x-7',
            type: 'dev.cdevents.service.deployed.0.3.0',
            data: { context: { type: 'dev.cdevents.service.deployed.0.3.0' } },
          }),
        ),
        status: 400,
        field: 'data.context.specversion',
      },
      {
        name: 'an id over 1,024 bytes (the unique key PostgreSQL can index)',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 'é'.repeat(513) })),
        status: 400,
        field: 'id',
      },
      {
        name: 'a batch item with a source over 1,024 bytes',
        headers: batched,
        payload: JSON.stringify([
          sampleEvent({ id: 'x-8' }),
          sampleEvent({ id: 'x-9', source: `/${'s'.repeat(1024)}` }),
        ]),
        status: 400,
        field: '[1].source',
      },
      {
        name: 'a binary-mode ce-id over 1,024 bytes',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': 'i'.repeat(1025),
          'ce-source': '/test/source',
          'ce-type': 'com.example.thing.happened',
        },
        payload: '{}',
        status: 400,
        field: 'ce-id',
      },
    ];
    for (const { name, headers, payload, status, field } of bad) {
      it(`refuses ${name} with ${status} problem+json naming ${field}, storing nothing`, async () => {
        const before = await count(store);
        const response = await app.inject({ method: 'POST', url: '/events', headers, payload });
        assert.equal(response.statusCode, status, response.body);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        const problem = response.json();
        assert.equal(problem.status, status);
        assert.equal(problem.field, field, JSON.stringify(problem));
        assert.equal(typeof problem.detail, 'string');
        assert.equal(await count(store), before);
      });
    }

    it('lets a good request through while a bad one in the same write group is refused', async () => {
      const [good, badResponse] = await Promise.all([
        app.inject({
          method: 'POST',
          url: '/events',
          headers: structured,
          payload: JSON.stringify(sampleEvent({ id: 'grp-ok' })),
        }),
        app.inject({
          method: 'POST',
          url: '/events',
          headers: structured,
          payload: JSON.stringify(sampleEvent({ id: 'grp-bad', data: '\u0000' })),
        }),
      ]);
      assert.equal(good.statusCode, 202);
      assert.equal(badResponse.statusCode, 400);
      const { rows } = await store.query<{ id: string }>(
        `select id from events where id like 'grp-%'`,
      );
      assert.deepEqual(rows, [{ id: 'grp-ok' }]);
    });

    it('routes stored events: CDEvents passthrough, unmatched types noted', async () => {
      const cdevent = {
        context: {
          specversion: '0.5.1',
          id: 'cd-1',
          source: '/ci',
          type: 'dev.cdevents.service.deployed.0.3.0',
          timestamp: '2026-11-02T08:00:00Z',
        },
        subject: {
          id: 'web',
          content: { environment: { id: 'production' }, artifactId: 'pkg:oci/web@sha256%3Aabc' },
        },
      };
      const posted = await app.inject({
        method: 'POST',
        url: '/cdevents',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(cdevent),
      });
      assert.equal(posted.statusCode, 202, posted.body);
      await routeAll(router);
      const { rows } = await store.query<{
        subject_id: string;
        predicate: string;
        transformer: string;
      }>(`select subject_id, predicate, transformer from cdevents where id = 'cd-1'`);
      assert.deepEqual(rows, [
        { subject_id: 'web', predicate: 'deployed', transformer: 'cdevents' },
      ]);
      const { rows: unrouted } = await store.query<{ n: number }>(
        'select count(*)::int8 as n from events where routed_at is null',
      );
      assert.equal(unrouted[0]?.n, 0);
      const { rows: noted } = await store.query<{ route_note: string }>(
        `select route_note from events where id = 's-1'`,
      );
      assert.match(noted[0]!.route_note, /no route matches/);
    });

    it('serves health and readiness, and problem+json for unknown paths and bad queries', async () => {
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
      const ready = await app.inject({ url: '/readyz' });
      assert.deepEqual(ready.json(), { status: 'ready', engine });
      const missing = await app.inject({ url: '/nope' });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().field, 'path');
      const badQuery = await app.inject({ url: '/api/v1/events?limit=0' });
      assert.equal(badQuery.statusCode, 400);
      assert.equal(badQuery.json().field, 'limit');
      const noEvent = await app.inject({ url: '/api/v1/events/999999' });
      assert.equal(noEvent.statusCode, 404);
    });
  });
}
