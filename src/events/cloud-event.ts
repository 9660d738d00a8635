import { CadenceError, type ProblemIssue } from '../problem/index.js';

/** A CloudEvent 1.0 as Cadence stores it: context attributes, extensions, and the payload. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  dataschema?: string;
  /** Extension attributes by name, values as received (string, number or boolean). */
  extensions: Record<string, string | number | boolean>;
  /** A JSON value (JSON media types) or a string (text media types). */
  data?: unknown;
  /** The payload base64-encoded when it is not JSON or text. */
  data_base64?: string;
}

const REQUIRED = ['id', 'source', 'specversion', 'type'] as const;
const OPTIONAL_STRINGS = ['time', 'subject', 'datacontenttype', 'dataschema'] as const;
const CONTEXT = new Set<string>([...REQUIRED, ...OPTIONAL_STRINGS, 'data', 'data_base64']);
// https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md#naming-conventions
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;
// RFC 3339 date-time, as the spec requires for `time`.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isRfc3339(value: string): boolean {
  const match = RFC3339.exec(value);
  if (!match) return false;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  if (mo! < 1 || mo! > 12 || h! > 23 || mi! > 59 || s! > 60) return false;
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return d! >= 1 && d! <= daysInMonth;
}

/** True when the string holds whitespace or a control character (C0, DEL). */
function hasSpaceOrControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}

export function isUriReference(value: string): boolean {
  // A URI-reference may be relative ("/my/source"); it may not contain spaces or control chars.
  return value.length > 0 && !hasSpaceOrControl(value);
}

export function isAbsoluteUri(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && isUriReference(value);
}

/**
 * Checks a decoded set of context attributes and builds a CloudEvent, or throws one
 * `invalid-input` CadenceError listing every problem (`field` names the attribute).
 * `prefix` says where the attributes came from in messages (`ce-` for headers).
 */
export function toCloudEvent(
  attributes: Record<string, unknown>,
  payload: { data?: unknown; data_base64?: string },
  prefix = '',
): CloudEvent {
  const issues: ProblemIssue[] = [];
  const field = (name: string) => `${prefix}${name}`;
  for (const name of REQUIRED) {
    const value = attributes[name];
    if (value === undefined || value === null) {
      issues.push({ field: field(name), message: `required attribute ${field(name)} is missing` });
    } else if (typeof value !== 'string' || value.length === 0) {
      issues.push({ field: field(name), message: `${field(name)} must be a non-empty string` });
    }
  }
  if (typeof attributes.specversion === 'string' && attributes.specversion !== '1.0') {
    issues.push({
      field: field('specversion'),
      message: `specversion ${JSON.stringify(attributes.specversion)} is not supported; use "1.0"`,
    });
  }
  if (
    typeof attributes.source === 'string' &&
    attributes.source &&
    !isUriReference(attributes.source)
  ) {
    issues.push({ field: field('source'), message: 'source must be a URI-reference' });
  }
  for (const name of OPTIONAL_STRINGS) {
    const value = attributes[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value.length === 0) {
      issues.push({ field: field(name), message: `${field(name)} must be a non-empty string` });
    }
  }
  if (typeof attributes.time === 'string' && attributes.time && !isRfc3339(attributes.time)) {
    issues.push({ field: field('time'), message: 'time must be an RFC 3339 timestamp' });
  }
  if (
    typeof attributes.dataschema === 'string' &&
    attributes.dataschema &&
    !isAbsoluteUri(attributes.dataschema)
  ) {
    issues.push({ field: field('dataschema'), message: 'dataschema must be an absolute URI' });
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string' && value.includes('\u0000')) {
      issues.push({ field: field(name), message: `${field(name)} must not contain U+0000` });
    }
  }
  const extensions: CloudEvent['extensions'] = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (CONTEXT.has(name)) continue;
    if (!ATTRIBUTE_NAME.test(name)) {
      issues.push({
        field: field(name),
        message: 'attribute names must be 1-20 lowercase letters or digits',
      });
    } else if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isInteger(value))
    ) {
      extensions[name] = value;
    } else if (value !== null) {
      issues.push({
        field: field(name),
        message: `extension ${name} must be a string, integer or boolean`,
      });
    }
  }
  if (payload.data_base64 !== undefined && !BASE64.test(payload.data_base64)) {
    issues.push({ field: 'data_base64', message: 'data_base64 must be base64' });
  }
  if (issues.length > 0) {
    throw new CadenceError('invalid-input', {
      detail: issues.map((issue) => issue.message).join('; '),
      issues,
    });
  }
  const event: CloudEvent = {
    specversion: '1.0',
    id: attributes.id as string,
    source: attributes.source as string,
    type: attributes.type as string,
    extensions,
  };
  for (const name of OPTIONAL_STRINGS) {
    if (typeof attributes[name] === 'string') event[name] = attributes[name];
  }
  if (payload.data !== undefined) event.data = payload.data;
  if (payload.data_base64 !== undefined) event.data_base64 = payload.data_base64;
  return event;
}
