/**
 * What the source tests share: producers' deliveries as a receiver and as HTTP take them, stored
 * events as the router hands them to a transformer, and the two tables every webhook source
 * runs (payload → CDEvents and note; malformed delivery → refused naming the field).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  validateCdevent,
  type CloudEvent,
  type StoredEvent,
  type TransformOutcome,
} from '../../src/events/index.js';
import { CadenceError } from '../../src/problem/index.js';

export type Json = Record<string, unknown>;

/** A copy of `payload` with the fields at the given dotted paths set (undefined: removed). */
export function changed(payload: Json, edits: Record<string, unknown>): Json {
  const copy = structuredClone(payload);
  for (const [path, value] of Object.entries(edits)) {
    const keys = path.split('.');
    const parent = keys.slice(0, -1).reduce((object, key) => object[key] as Json, copy);
    if (value === undefined) delete parent[keys.at(-1)!];
    else parent[keys.at(-1)!] = value;
  }
  return copy;
}

/** A raw body: a string as it is, anything else as JSON. */
const raw = (body: unknown) => (typeof body === 'string' ? body : JSON.stringify(body));

/** A delivery as a webhook receiver takes it (a header set to undefined is left out). */
export function webhookDelivery(
  body: unknown,
  headers: Record<string, string | undefined> = {},
): { headers: Record<string, string | undefined>; body: Buffer } {
  return {
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(raw(body)),
  };
}

/** A receiver's delivery as HTTP sends it, with `extra` headers (auth) added. */
export function overHttp(
  message: { headers: Record<string, string | undefined>; body: Buffer },
  extra: Record<string, string> = {},
): { body: string; headers: Record<string, string> } {
  const headers = Object.fromEntries(
    Object.entries(message.headers).filter((entry): entry is [string, string] => !!entry[1]),
  );
  return { body: message.body.toString(), headers: { ...headers, ...extra } };
}

/** A JSON body posted with `headers` (the source's token, or none). */
export const jsonPost = (body: unknown, headers: Record<string, string>) => ({
  body: raw(body),
  headers: { 'content-type': 'application/json', ...headers },
});

/** Posts a delivery (raw body and headers) to `url` through the app's HTTP surface. */
export const postDelivery = (
  app: FastifyInstance,
  url: string,
  delivery: { body: string; headers: Record<string, string> },
) => app.inject({ method: 'POST', url, headers: delivery.headers, payload: delivery.body });

/** A CloudEvent that says only what a test cares about: spec version 1.0, no extensions. */
export type CloudEventInput = Omit<CloudEvent, 'specversion' | 'extensions'> &
  Partial<Pick<CloudEvent, 'specversion' | 'extensions'>>;

/** A CloudEvent as the events table hands it to a transformer: received, not yet routed. */
export function storedEvent(event: CloudEventInput, receivedAt: Date, seq = 1): StoredEvent {
  return {
    specversion: '1.0',
    ...event,
    // Fixtures written as a producer sends them carry no Cadence `extensions` field.
    extensions: event.extensions ?? {},
    seq,
    receivedAt,
    routedAt: null,
    routeOutputs: null,
    routeNote: null,
  };
}

/** The parts of a CDEvent the DORA facts read. */
export function factSummary(cdevent: Json) {
  const context = cdevent.context as Json;
  const subject = cdevent.subject as Json;
  return {
    type: context.type,
    subject: subject.id,
    timestamp: context.timestamp,
    content: subject.content,
    cadence: (cdevent.customData as Json | undefined)?.cadence,
  };
}

export interface TransformerCase {
  name: string;
  /** What the delivery becomes: each CDEvent's `factSummary`, in order. */
  expected: ReturnType<typeof factSummary>[];
  /** What the outcome's note says, when the case says. */
  note?: RegExp;
}

/**
 * One test per case: the case's delivery through the receiver and the transformer (`run`) makes
 * valid CDEvents whose summaries are `expected`, and says `note`.
 */
export function transformerCases<Case extends TransformerCase>(
  cases: readonly Case[],
  run: (testCase: Case) => Promise<TransformOutcome> | TransformOutcome,
): void {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const outcome = await run(testCase);
      for (const cdevent of outcome.cdevents) {
        const result = validateCdevent(cdevent);
        assert.ok(result.ok, JSON.stringify(result));
      }
      assert.deepEqual(outcome.cdevents.map(factSummary), testCase.expected);
      if (testCase.note) assert.match(outcome.note ?? '', testCase.note);
    });
  }
}

/** Whether `error` is the CadenceError with this code naming this field (for assert.throws). */
export const cadenceError =
  (code: string, field: string) =>
  (error: unknown): boolean =>
    error instanceof CadenceError && error.code === code && error.field === field;

/** One test per malformed delivery: the receiver refuses it with 400 naming the field. */
export function malformedDeliveries<Message>(
  cases: readonly [name: string, message: () => Message, field: string][],
  receive: (message: Message) => unknown,
): void {
  for (const [name, message, field] of cases) {
    it(`refuses ${name} with 400 naming ${field}`, () => {
      assert.throws(() => receive(message()), cadenceError('invalid-input', field));
    });
  }
}
