import { CadenceError } from '../problem/index.js';
import { toCloudEvent, type CloudEvent } from './cloud-event.js';

/** How the CloudEvents HTTP binding carried the events. */
export type HttpMode = 'binary' | 'structured' | 'batch';

export interface HttpMessage {
  /** Header names in lower case, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface DecodedMessage {
  mode: HttpMode;
  events: CloudEvent[];
}

export interface MediaType {
  /** Lower-cased `type/subtype`. */
  essence: string;
  params: Record<string, string>;
}

/** Parses a Content-Type header; names are case-insensitive (RFC 9110 §8.3.1). */
export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [essence = '', ...rest] = header.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params[part.slice(0, eq).trim().toLowerCase()] = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return { essence: essence.trim().toLowerCase(), params };
}

export function isJsonMediaType(type: MediaType | undefined): boolean {
  if (!type) return false;
  return (
    type.essence === 'application/json' ||
    type.essence === 'text/json' ||
    type.essence.endsWith('+json')
  );
}

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

function header(message: HttpMessage, name: string): string | undefined {
  const value = message.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Parses JSON, turning a syntax error into a 400 naming `field`. The one JSON body parser: the
 * CloudEvents binding, the webhook receivers and the API routes all read bodies with it.
 */
export function parseJson(body: Buffer, field: string): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CadenceError('invalid-input', {
      field,
      detail: `${field} is not valid JSON: ${(error as Error).message}`,
    });
  }
}

/** Parses a JSON object; anything else (an array, a string, null) is a 400 naming `field`. */
export function parseJsonObject(body: Buffer, field: string): Record<string, unknown> {
  const value = parseJson(body, field);
  if (!isObject(value)) {
    throw new CadenceError('invalid-input', { field, detail: `${field} must be a JSON object` });
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One event in structured form (a JSON object); `at` prefixes field names inside a batch. */
function fromStructured(value: unknown, at: string): CloudEvent {
  if (!isObject(value)) {
    throw new CadenceError('invalid-input', {
      field: at || 'body',
      detail: `${at || 'body'} must be a JSON object holding one CloudEvent`,
    });
  }
  const { data, data_base64, ...attributes } = value;
  if (data !== undefined && data_base64 !== undefined) {
    throw new CadenceError('invalid-input', {
      field: `${at}data_base64`,
      detail: 'an event carries either data or data_base64, not both',
    });
  }
  if (data_base64 !== undefined && typeof data_base64 !== 'string') {
    throw new CadenceError('invalid-input', {
      field: `${at}data_base64`,
      detail: 'data_base64 must be a string',
    });
  }
  return toCloudEvent(attributes, { data, data_base64: data_base64 as string | undefined }, at);
}

function percentDecode(value: string, name: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new CadenceError('invalid-input', {
      field: name,
      detail: `header ${name} has an invalid percent-encoding`,
    });
  }
}

function fromBinary(message: HttpMessage, mediaType: MediaType | undefined): CloudEvent {
  const attributes: Record<string, string> = {};
  for (const [name, raw] of Object.entries(message.headers)) {
    if (!name.startsWith('ce-') || raw === undefined) continue;
    // https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#3132-http-header-values
    attributes[name.slice(3)] = percentDecode(Array.isArray(raw) ? raw.join(',') : raw, name);
  }
  const contentType = header(message, 'content-type');
  if (contentType) attributes.datacontenttype = contentType;
  if (message.body.length === 0) return toCloudEvent(attributes, {}, 'ce-');
  if (isJsonMediaType(mediaType)) {
    return toCloudEvent(attributes, { data: parseJson(message.body, 'data') }, 'ce-');
  }
  if (mediaType?.essence.startsWith('text/')) {
    return toCloudEvent(attributes, { data: message.body.toString('utf8') }, 'ce-');
  }
  return toCloudEvent(attributes, { data_base64: message.body.toString('base64') }, 'ce-');
}

/**
 * Decodes an HTTP request into CloudEvents per the CloudEvents 1.0 HTTP binding: structured
 * (`application/cloudevents+json`), batched (`application/cloudevents-batch+json`) or binary
 * (`ce-*` headers). Throws a CadenceError (400/415) naming the field at fault; a batch is
 * refused whole when any of its events is invalid.
 */
export function decodeHttpMessage(message: HttpMessage): DecodedMessage {
  const mediaType = parseMediaType(header(message, 'content-type'));
  if (mediaType?.essence === STRUCTURED) {
    return { mode: 'structured', events: [fromStructured(parseJson(message.body, 'body'), '')] };
  }
  if (mediaType?.essence === BATCH) {
    const batch = parseJson(message.body, 'body');
    if (!Array.isArray(batch)) {
      throw new CadenceError('invalid-input', {
        field: 'body',
        detail: 'a batch must be a JSON array of CloudEvents',
      });
    }
    return {
      mode: 'batch',
      events: batch.map((item, index) => fromStructured(item, `[${index}].`)),
    };
  }
  if (mediaType?.essence.startsWith('application/cloudevents')) {
    throw new CadenceError('unsupported-media-type', {
      field: 'content-type',
      detail: `event format ${mediaType.essence} is not supported; use ${STRUCTURED} or ${BATCH}`,
    });
  }
  if (header(message, 'ce-specversion') !== undefined) {
    return { mode: 'binary', events: [fromBinary(message, mediaType)] };
  }
  if (mediaType && !isJsonMediaType(mediaType) && !mediaType.essence.startsWith('text/')) {
    throw new CadenceError('unsupported-media-type', {
      field: 'content-type',
      detail: `media type ${mediaType.essence} is not a CloudEvents format; use ${STRUCTURED}, ${BATCH}, or binary mode with ce-* headers`,
    });
  }
  throw new CadenceError('invalid-input', {
    field: 'ce-specversion',
    detail: `no CloudEvent found: send ${STRUCTURED}, ${BATCH}, or binary mode with ce-specversion, ce-id, ce-source and ce-type headers`,
  });
}
