import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Router } from '../../src/events/index.js';
import type { Store } from '../../src/store/index.js';
import { routeAll, testApp } from '../support/app.js';
import { conformanceEvents } from '../support/conformance.js';
import { engines, openTestStore } from '../support/engines.js';

const all = conformanceEvents();

function withId(
  event: Record<string, unknown> & { context: Record<string, unknown> },
  suffix: string,
): Record<string, unknown> & { context: Record<string, unknown> } {
  return { ...event, context: { ...event.context, id: `${String(event.context.id)}-${suffix}` } };
}

for (const engine of engines) {
  describe(`CDEvents intake on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let router: Router;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app, router } = testApp(store));
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it(`accepts and stores all ${all.length} conformance events: bare, structured and binary`, async () => {
      assert.ok(
        all.length >= 120,
        `expected the three spec versions' conformance events, found ${all.length}`,
      );
      // Conformance events share ids across files: give each copy its own.
      for (const { version, file, event } of all) {
        const label = `${version}/${file}`;
        const bare = await app.inject({
          method: 'POST',
          url: '/cdevents',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(withId(event, `${label}-bare`)),
        });
        assert.equal(bare.statusCode, 202, `${label} bare: ${bare.body}`);

        const wrapped = withId(event, `${label}-structured`);
        const structured = await app.inject({
          method: 'POST',
          url: '/cdevents',
          headers: { 'content-type': 'application/cloudevents+json' },
          payload: JSON.stringify({
            specversion: '1.0',
            id: wrapped.context.id,
            source: wrapped.context.source,
            type: wrapped.context.type,
            datacontenttype: 'application/json',
            data: wrapped,
          }),
        });
        assert.equal(structured.statusCode, 202, `${label} structured: ${structured.body}`);

        const binaryEvent = withId(event, `${label}-binary`);
        const binary = await app.inject({
          method: 'POST',
          url: '/events',
          headers: {
            'ce-specversion': '1.0',
            'ce-id': encodeURIComponent(String(binaryEvent.context.id)),
            'ce-source': encodeURIComponent(String(binaryEvent.context.source)),
            'ce-type': String(binaryEvent.context.type),
            'content-type': 'application/json',
          },
          payload: JSON.stringify(binaryEvent),
        });
        assert.equal(binary.statusCode, 202, `${label} binary: ${binary.body}`);
      }
      await routeAll(router);
      const { rows } = await store.query<{ n: number }>('select count(*)::int8 as n from cdevents');
      assert.equal(rows[0]?.n, all.length * 3);
      const stored = await store.query<{ body: { subject: unknown } }>(
        `select body from cdevents where id = $1`,
        [`${String(all[0]!.event.context.id)}-${all[0]!.version}/${all[0]!.file}-binary`],
      );
      assert.deepEqual(stored.rows[0]?.body.subject, all[0]!.event.subject);
    });

    const mutations: {
      name: string;
      mutate: (event: { context: Record<string, unknown> }) => unknown;
      field: string;
    }[] = [
      {
        name: 'context.id dropped',
        mutate: (e) => ({ ...e, context: { ...e.context, id: undefined } }),
        field: 'context.id',
      },
      {
        name: 'an unknown type',
        mutate: (e) => ({
          ...e,
          context: { ...e.context, type: 'dev.cdevents.nonsense.happened.0.1.0' },
        }),
        field: 'context.type',
      },
      {
        name: 'a timestamp that is no date',
        mutate: (e) => ({ ...e, context: { ...e.context, timestamp: 'yesterday' } }),
        field: 'context.timestamp',
      },
      {
        name: 'the subject dropped',
        mutate: (e) => ({ ...e, subject: undefined }),
        field: 'subject',
      },
    ];
    it(`refuses mutated conformance events with 400 naming the field (${all.length * mutations.length} cases)`, async () => {
      const before = (await store.query<{ n: number }>('select count(*)::int8 as n from events'))
        .rows[0]!.n;
      for (const { version, file, event } of all) {
        for (const { name, mutate, field } of mutations) {
          const response = await app.inject({
            method: 'POST',
            url: '/cdevents',
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify(mutate(withId(event, 'mutated'))),
          });
          assert.equal(
            response.statusCode,
            400,
            `${version}/${file} with ${name}: ${response.body}`,
          );
          const problem = response.json();
          assert.equal(
            problem.field,
            field,
            `${version}/${file} with ${name}: ${JSON.stringify(problem)}`,
          );
        }
      }
      const afterCount = (
        await store.query<{ n: number }>('select count(*)::int8 as n from events')
      ).rows[0]!.n;
      assert.equal(afterCount, before);
    });

    it('refuses a CloudEvent at /cdevents whose type is not a CDEvent', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/cdevents',
        headers: { 'content-type': 'application/cloudevents+json' },
        payload: JSON.stringify({
          specversion: '1.0',
          id: 'n',
          source: '/s',
          type: 'com.example',
          data: {},
        }),
      });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().field, 'type');
    });

    it('refuses a CDEvent whose context.id is over 1,024 bytes, storing nothing', async () => {
      const { event } = all[0]!;
      const { rows } = await store.query<{ n: number }>('select count(*)::int8 as n from events');
      const response = await app.inject({
        method: 'POST',
        url: '/cdevents',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ ...event, context: { ...event.context, id: 'i'.repeat(1025) } }),
      });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(response.json().field, 'context.id');
      const { rows: after } = await store.query<{ n: number }>(
        'select count(*)::int8 as n from events',
      );
      assert.equal(Number(after[0]!.n), Number(rows[0]!.n));
    });
  });
}
