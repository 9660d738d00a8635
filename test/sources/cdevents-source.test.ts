/**
 * The CDEvents passthrough (the `cdevents` transformer) keeps the source contract at both doors
 * producers send CDEvents to: `POST /cdevents` (a bare CDEvent) and `POST /events` (a CloudEvent
 * carrying one, binary mode), with `server.auth.ingest` on and an ingest token allowed `cdevents`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cdeventsSource } from '../../src/sources/cdevents-source.js';
import { storedEvent } from '../support/source-deliveries.js';
import {
  ingestTokens,
  sourceContract,
  type Delivery,
  type SourceContractFixture,
} from './source-contract.js';

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
          id: 'e',
          source: '/s',
          type: event.context.type,
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
            id: 'e',
            source: '/s',
            type: 'dev.cdevents.x',
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

type Headers = Record<string, string>;

/**
 * The contract at one door, `send` putting a CDEvent into that door's request; `door` adds the
 * door's own shape errors and unmapped case, given `authorised` (a request with this source's
 * token, plus any extra headers) and the token's headers.
 */
function passthroughContract(
  path: '/cdevents' | '/events',
  send: (event: unknown, headers: Headers) => Delivery,
  door: (
    authorised: (event: unknown, extra?: Headers) => Delivery,
    mine: () => Headers,
  ) => Pick<SourceContractFixture, 'shapeErrors' | 'unmapped'>,
): void {
  const tokens = ingestTokens('cdevents');
  // The token's headers exist once the contract's setUp ran: read them at each call.
  const mine = () => tokens.headers.mine;
  sourceContract({
    source: 'cdevents',
    path,
    app: { auth: tokens.auth },
    setUp: tokens.setUp,
    valid: () => send(deployed(), mine()),
    unauthorised: () => [
      { name: 'no token', ...send(deployed(), {}), status: 401, field: 'authorization' },
      {
        name: "another producer's token",
        ...send(deployed(), tokens.headers.other),
        status: 403,
        // The token is good; the event's type is what it may not send. The door names the
        // CloudEvent attribute even for a bare CDEvent, whose body calls it `context.type`.
        field: 'type',
      },
    ],
    ...door((event, extra = {}) => send(event, { ...extra, ...mine() }), mine),
  });
}

const bare = (event: unknown, headers: Headers) => ({
  body: typeof event === 'string' ? event : JSON.stringify(event),
  headers: { 'content-type': 'application/json', ...headers },
});
passthroughContract('/cdevents', bare, (authorised) => ({
  shapeErrors: () => [
    { name: 'a body that is not JSON', ...authorised('{'), field: 'body' },
    { name: 'no context.id', ...authorised(withoutId()), field: 'context.id' },
    {
      name: 'a subject that is no object',
      ...authorised(deployed({}, 'checkout')),
      field: 'subject',
    },
    {
      name: 'a type no CDEvents spec has',
      ...authorised(deployed({ type: 'dev.cdevents.nonsense.happened.0.1.0' })),
      field: 'context.type',
    },
  ],
  unmapped: { notApplicable: NOTHING_UNMAPPABLE },
}));

/** A binary-mode CloudEvent: attributes in `ce-` headers, the data as the JSON body. */
const binaryCloudEvent = (
  attributes: { id: string; source: string; type: string },
  data: unknown,
  headers: Headers,
) => ({
  body: JSON.stringify(data),
  headers: {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': attributes.id,
    'ce-source': attributes.source,
    'ce-type': attributes.type,
    ...headers,
  },
});
/** A CDEvent as a binary-mode CloudEvent, its attributes from its context. */
const binary = (event: unknown, headers: Headers) => {
  const { context } = event as { context: { id?: string; source: string; type: string } };
  return binaryCloudEvent({ ...context, id: context.id ?? 'no-id' }, event, headers);
};
passthroughContract('/events', binary, (authorised, mine) => ({
  shapeErrors: () => [
    { name: 'no ce-id', ...authorised(deployed(), { 'ce-id': '' }), field: 'ce-id' },
    { name: 'a CDEvent without context.id', ...authorised(withoutId()), field: 'data.context.id' },
  ],
  // What /events accepts but nothing maps: a CloudEvent of a type no route names (the passthrough
  // itself has nothing unmappable, as at /cdevents).
  unmapped: () => ({
    ...binaryCloudEvent(
      { id: 'unrouted-1', source: '/ci/shop', type: 'com.example.build.finished' },
      { build: 42 },
      mine(),
    ),
    note: /no route matches this event type/,
  }),
}));
