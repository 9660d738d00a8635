import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import {
  parseJson,
  parseJsonObject as parseJsonAsObject,
  type CloudEvent,
  type HttpMessage,
} from '../events/index.js';
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

/** Checks the delivery's `Authorization: Bearer <token>` against the configured token. */
export function checkBearerToken(message: HttpMessage, token: string): void {
  const given = headerValue(message, 'authorization');
  if (!given) {
    refuseUnauthenticated('authorization', 'Authorization: Bearer <token> is required');
  }
  const bearer = /^Bearer +(\S+)\s*$/i.exec(given);
  if (!bearer || !sameSecret(bearer[1]!, token)) {
    refuseUnauthenticated('authorization', 'the bearer token does not match the configured token');
  }
}

/** A header's value, refused as invalid input naming the header when missing or not `pattern`. */
export function requiredHeader(message: HttpMessage, name: string, pattern = /./): string {
  const value = headerValue(message, name);
  if (!value || !pattern.test(value)) {
    throw new CadenceError('invalid-input', {
      field: name,
      detail: value
        ? `header ${name} is malformed: ${JSON.stringify(value)}`
        : `header ${name} is required`,
    });
  }
  return value;
}

/** The body parsed as JSON; not JSON is invalid input naming `body`. */
export function parseJsonBody(body: Buffer): unknown {
  return parseJson(body, 'body');
}

/** The body parsed as a JSON object; anything else is invalid input naming `body`. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  return parseJsonAsObject(body, 'body');
}

/** How a payload problem names its field. */
export interface FieldNaming {
  /** Array indexes in brackets (`alerts[0].fingerprint`) rather than as segments (`commits.0.id`). */
  brackets?: boolean;
  /** The name of the whole payload, for a problem with the payload itself; `body` unless said. */
  whole?: string;
  /** An unknown key is named itself (most likely a misspelt field), not the object holding it. */
  nameUnknownKey?: boolean;
}

/** A zod issue path as the field a problem names: `repository.full_name`, `alerts[0].fingerprint`. */
export function fieldPath(path: readonly PropertyKey[], naming: FieldNaming = {}): string {
  const whole = naming.whole ?? 'body';
  if (!naming.brackets) return path.map(String).join('.') || whole;
  let name = '';
  for (const key of path) {
    if (typeof key === 'number') name += `[${key}]`;
    else name += name ? `.${String(key)}` : String(key);
  }
  return name || whole;
}

/** The first problem of a payload, as a field path and a message. */
export function firstIssue(
  error: z.ZodError,
  naming: FieldNaming = {},
): { field: string; message: string } {
  const issue = error.issues[0]!;
  const path =
    naming.nameUnknownKey && issue.code === 'unrecognized_keys'
      ? [...issue.path, issue.keys[0]!]
      : issue.path;
  return { field: fieldPath(path, naming), message: issue.message };
}

/** `<what>: <field>: <message>` for the first problem of a payload. */
export function describeIssue(error: z.ZodError, what: string, naming: FieldNaming = {}): string {
  const { field, message } = firstIssue(error, naming);
  return `${what}: ${field}: ${message}`;
}

/**
 * The payload as `schema` reads it; a payload that does not fit is invalid input naming its first
 * wrong field, with the detail `<what>: <field>: <message>`.
 */
export function checkPayload<S extends z.ZodType>(
  schema: S,
  payload: unknown,
  what: string,
  naming: FieldNaming = {},
): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const { field, message } = firstIssue(parsed.error, naming);
  throw new CadenceError('invalid-input', { field, detail: `${what}: ${field}: ${message}` });
}

/**
 * The producers whose webhook receiver checks a configured secret (GitHub's HMAC signature,
 * GitLab's token, Alertmanager's and Argo CD's bearer token). Their transformers run only for
 * events that came through that receiver, or from a caller whose ingest token names the source:
 * an anonymous CloudEvent of their type on `/events` is refused.
 */
export function securedSources(settings: {
  github?: { secret?: string | undefined };
  gitlab?: { token?: string | undefined };
  alertmanager?: { token?: string | undefined };
  argocd?: { token?: string | undefined };
}): Set<string> {
  const secured = new Set<string>();
  if (settings.github?.secret) secured.add('github');
  if (settings.gitlab?.token) secured.add('gitlab');
  if (settings.alertmanager?.token) secured.add('alertmanager');
  if (settings.argocd?.token) secured.add('argocd');
  return secured;
}
