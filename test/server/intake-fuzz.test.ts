import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/index.js';
import { testApp } from '../support/app.js';
import { openTestStore } from '../support/engines.js';

const RUNS = 10_000;

// Content types near and far from the ones the binding knows.
const contentType = fc.oneof(
  fc.constantFrom(
    'application/cloudevents+json',
    'APPLICATION/CLOUDEVENTS+JSON; charset=utf-8',
    'application/cloudevents-batch+json',
    'application/cloudevents+xml',
    'application/json',
    'text/plain',
    'application/octet-stream',
    'multipart/form-data; boundary=x',
    '',
  ),
  fc.string({ maxLength: 40 }),
);

const headerValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('1.0', '0.3', '%', '%zz', '%E2%82%AC', 'caf%C3%A9', '', ' '),
);
const attrName = fc.oneof(
  fc.constantFrom(
    'specversion',
    'id',
    'source',
    'type',
    'time',
    'subject',
    'dataschema',
    'datacontenttype',
    'ext1',
    'Bad-Name',
    'averyveryverylongattributename',
  ),
  fc.string({ minLength: 1, maxLength: 8 }),
);
const attrValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '1.0',
    '2026-11-01T10:00:00Z',
    '2026-02-30T10:00:00Z',
    'https://x/y',
    '/rel',
    'dev.cdevents.service.deployed.0.3.0',
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);
const eventObject = fc
  .record(
    {
      specversion: fc.oneof(fc.constant('1.0'), attrValue),
      id: fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), attrValue),
      source: fc.oneof(fc.constant('/fuzz'), attrValue),
      type: fc.oneof(
        fc.constantFrom('com.example.fuzz', 'dev.cdevents.service.deployed.0.3.0'),
        attrValue,
      ),
      data: fc.jsonValue({ maxDepth: 3 }),
      data_base64: fc.oneof(fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 6 })),
    },
    { requiredKeys: [] },
  )
  .chain((base) =>
    fc.dictionary(attrName, attrValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...base })),
  );

const body = fc.oneof(
  eventObject.map((event) => JSON.stringify(event)),
  fc.array(eventObject, { maxLength: 5 }).map((events) => JSON.stringify(events)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constant('x'.repeat(9000)), // over the test's body limit
);

// Well-formed events with random ids, extensions and payloads, in each content mode: the
// property must hold for what the intake accepts, not only for what it refuses.
const wellFormedEvent = fc.record({
  specversion: fc.constant('1.0'),
  id: fc.string({ minLength: 1, maxLength: 12 }),
  source: fc.constantFrom('/fuzz', 'urn:fuzz', 'https://fuzz.example/a?b=c'),
  type: fc.constantFrom('com.example.fuzz', 'com.example.other'),
  time: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fuzzext: fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean()),
  data: fc.jsonValue({ maxDepth: 3 }),
});
const wellFormed = fc.oneof(
  wellFormedEvent.map((event) => ({
    contentType: 'application/cloudevents+json',
    ce: {},
    body: JSON.stringify(event),
    path: '/events',
  })),
  fc.array(wellFormedEvent, { minLength: 1, maxLength: 5 }).map((events) => ({
    contentType: 'application/cloudevents-batch+json',
    ce: {},
    body: JSON.stringify(events),
    path: '/events',
  })),
  wellFormedEvent.map(({ data, ...attributes }) => ({
    contentType: 'application/json',
    ce: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [
        `ce-${name}`,
        encodeURIComponent(String(value)),
      ]),
    ),
    body: JSON.stringify(data),
    path: '/events',
  })),
);

const generated = fc.record({
  contentType,
  ce: fc.dictionary(
    attrName.map((name) => `ce-${name.toLowerCase().replace(/[^a-z0-9-]/g, 'x')}`),
    headerValue,
    { maxKeys: 5 },
  ),
  body,
  path: fc.constantFrom('/events', '/cdevents'),
});
const request = fc.oneof({ arbitrary: generated, weight: 4 }, { arbitrary: wellFormed, weight: 1 });

async function countEvents(store: Store): Promise<number> {
  const { rows } = await store.query<{ n: number }>('select count(*)::int8 as n from events');
  return rows[0]!.n;
}

// PGlite in memory: the intake's decoding and checks are the same code on either engine, and the
// engines' write path is covered by the intake tests on both.
describe('intake under generated input', () => {
  let store: Store;
  let app: FastifyInstance;
  let dispose: () => Promise<void>;
  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    ({ app } = testApp(store, { bodyLimitBytes: 8 * 1024 }));
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  it(`answers ${RUNS} generated requests with 202 or a 4xx problem, and stores exactly what it acknowledged`, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ contentType: type, ce, body: payload, path }) => {
        const headers: Record<string, string> = { ...ce };
        if (type) headers['content-type'] = type;
        const before = await countEvents(store);
        const response = await app.inject({ method: 'POST', url: path, headers, payload });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        const after = await countEvents(store);
        if (response.statusCode === 202) {
          assert.equal(after - before, response.json().accepted, 'stored what it acknowledged');
        } else {
          assert.ok(
            response.statusCode >= 400 && response.statusCode < 500,
            `status ${response.statusCode}: ${response.body}`,
          );
          assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
          assert.equal(typeof response.json().detail, 'string');
          assert.equal(after, before, 'nothing stored from a refused request');
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
    );
    // The generator must reach both outcomes, or the property proves little.
    assert.ok((statuses.get(202) ?? 0) > 100, `accepted: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(400) ?? 0) > 1000, `refused: ${JSON.stringify([...statuses])}`);
    for (const status of [413, 415])
      assert.ok((statuses.get(status) ?? 0) > 0, `saw ${status}: ${JSON.stringify([...statuses])}`);
  });
});
