import { createHash, timingSafeEqual } from 'node:crypto';
import type { CloudEvent, HttpMessage } from '../events/index.js';
import { CadenceError } from '../problem/index.js';

/**
 * A producer that posts its own webhook format (not CloudEvents) to `/webhooks/{name}`.
 *
 * The receiver runs at the HTTP edge, before anything is stored: it checks the delivery is
 * authentic (signature or token, when a secret is configured) and that the payload has the
 * producer's shape, then wraps it in the CloudEvent(s) the intake stores raw. The router later
 * hands those to the transformer of the same source, which makes the CDEvents.
 *
 * A receiver throws `CadenceError('unauthorized')` for a missing or wrong signature/token and
 * `CadenceError('invalid-input', { field })` for a payload that is not the producer's shape, so a
 * bad delivery gets a 4xx and nothing is stored.
 */
export interface WebhookReceiver {
  /** The path segment: `/webhooks/{name}`. */
  readonly name: string;
  receive(message: HttpMessage, receivedAt: Date): CloudEvent[];
}

/** One header's value as a string (joined when repeated), or undefined. */
export function headerValue(message: HttpMessage, name: string): string | undefined {
  const value = message.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Compares two secrets in constant time (a plain `===` leaks their common prefix length). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The CloudEvent a webhook delivery is stored as. */
export function webhookCloudEvent(fields: {
  id: string;
  source: string;
  type: string;
  time: Date;
  subject?: string | undefined;
  data: unknown;
}): CloudEvent {
  return {
    specversion: '1.0',
    id: fields.id,
    source: fields.source,
    type: fields.type,
    time: fields.time.toISOString(),
    ...(fields.subject ? { subject: fields.subject } : {}),
    datacontenttype: 'application/json',
    extensions: {},
    data: fields.data,
  };
}

/** A stable id for a delivery that carries none of its own: a hash of the body. */
export function bodyDigestId(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

/** Throws the 401 every receiver gives for a failed authenticity check. */
export function refuseUnauthenticated(field: string, detail: string): never {
  throw new CadenceError('unauthorized', { field, detail });
}
