/**
 * The CDEvents passthrough (the `cdevents` transformer) keeps the source contract at both doors
 * producers send CDEvents to: `POST /cdevents` (a bare CDEvent) and `POST /events` (a CloudEvent
 * carrying one, binary mode), with `server.auth.ingest` on and an ingest token allowed `cdevents`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cdeventsSource } from '../../src/sources/cdevents-source.js';
import { storedEvent } from '../support/source-deliveries.js';
import { ingestTokens, sourceContract } from './source-contract.js';

/** A service.deployed CDEvent as a producer sends it; the same id each time (a redelivery). */
const deployed = (context: Record<string, unknown> = {}, subject?: unknown) => ({
  context: {
    specversion: '0.5.1',
    id: 'contract-deploy-1',
    source: '/ci/shop',
    type: 'dev.cdevents.service.deployed.0.3.0',
    timestamp: '2026-11-20T09:30:00Z',
    ...context,
  },
  subject: subject ?? {
    id: 'checkout',
    source: '/ci/shop',
    content: {
      environment: { id: 'production' },
      artifactId: 'pkg:oci/checkout@sha256%3A0123456789abcdef',
    },
  },
});
const withoutId = () => {
  const event = deployed();
  return { ...event, context: { ...event.context, id: undefined } };
};

describe('cdevents transformer', () => {
  it('passes a stored CDEvent through whole', () => {
    const event = deployed();
    const outcome = cdeventsSource.transform(
      storedEvent(
        {
          specversion: '1.0',
          id: 'e',
          source: '/s',
          type: event.context.type,
          extensions: {},
          data: event,
        },
        new Date(),
      ),
    );
    assert.deepEqual(outcome, { cdevents: [event] });
  });

  it('notes a payload that is not a JSON object (no door lets one through; see below)', () => {
    for (const data of [null, [], 'text']) {
      const outcome = cdeventsSource.transform(
        storedEvent(
          {
            specversion: '1.0',
            id: 'e',
            source: '/s',
            type: 'dev.cdevents.x',
            extensions: {},
            data,
          },
          new Date(),
        ),
      );
      assert.deepEqual(outcome, { cdevents: [], note: 'payload is not a JSON object' });
    }
  });
});

// The intake validates every `dev.cdevents.*` payload against its schema before storing it (a
// 400 naming the field: the shape errors below), so whatever it stores is a valid CDEvent the
// passthrough stores whole. Its one note (a payload that is no JSON object, above) has no way in.
const NOTHING_UNMAPPABLE =
  'the intake stores only CDEvents valid against their schema, and the passthrough maps every valid CDEvent whole';

const atCdevents = ingestTokens('cdevents');
const bare = (event: unknown, headers = atCdevents.headers.mine) => ({
  body: typeof event === 'string' ? event : JSON.stringify(event),
  headers: { 'content-type': 'application/json', ...headers },
});
sourceContract({
  source: 'cdevents',
  path: '/cdevents',
  app: { auth: atCdevents.auth },
  setUp: atCdevents.setUp,
  valid: () => bare(deployed()),
  unauthorised: () => [
    { name: 'no token', ...bare(deployed(), {}), status: 401, field: 'authorization' },
    {
      name: "another producer's token",
      ...bare(deployed(), atCdevents.headers.other),
      status: 403,
      // The token is good; the event's type is what it may not send. The door names the wrapping
      // CloudEvent's attribute even for a bare CDEvent, whose body calls it `context.type`.
      field: 'type',
    },
  ],
  shapeErrors: () => [
    { name: 'a body that is not JSON', ...bare('{'), field: 'body' },
    { name: 'no context.id', ...bare(withoutId()), field: 'context.id' },
    { name: 'a subject that is no object', ...bare(deployed({}, 'checkout')), field: 'subject' },
    {
      name: 'a type no CDEvents spec has',
      ...bare(deployed({ type: 'dev.cdevents.nonsense.happened.0.1.0' })),
      field: 'context.type',
    },
  ],
  unmapped: { notApplicable: NOTHING_UNMAPPABLE },
});

const atEvents = ingestTokens('cdevents');
/** The CDEvent as a binary-mode CloudEvent: attributes in `ce-` headers, the CDEvent as body. */
const binary = (
  event: ReturnType<typeof deployed> | ReturnType<typeof withoutId>,
  headers: Record<string, string> = atEvents.headers.mine,
  attributes: Record<string, string> = {},
) => ({
  body: JSON.stringify(event),
  headers: {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': String(event.context.id ?? 'no-id'),
    'ce-source': event.context.source,
    'ce-type': event.context.type,
    ...attributes,
    ...headers,
  },
});
sourceContract({
  source: 'cdevents',
  path: '/events',
  app: { auth: atEvents.auth },
  setUp: atEvents.setUp,
  valid: () => binary(deployed()),
  unauthorised: () => [
    { name: 'no token', ...binary(deployed(), {}), status: 401, field: 'authorization' },
    {
      name: "another producer's token",
      ...binary(deployed(), atEvents.headers.other),
      status: 403,
      field: 'type',
    },
  ],
  shapeErrors: () => [
    {
      name: 'no ce-id',
      ...binary(deployed(), atEvents.headers.mine, { 'ce-id': '' }),
      field: 'ce-id',
    },
    { name: 'a CDEvent without context.id', ...binary(withoutId()), field: 'data.context.id' },
  ],
  // What /events accepts but nothing maps: a CloudEvent of a type no route names (the passthrough
  // itself has nothing unmappable, as at /cdevents).
  unmapped: () => ({
    body: JSON.stringify({ build: 42 }),
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'unrouted-1',
      'ce-source': '/ci/shop',
      'ce-type': 'com.example.build.finished',
      ...atEvents.headers.mine,
    },
    note: /no route matches this event type/,
  }),
});
