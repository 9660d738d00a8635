import type { FastifyRequest } from 'fastify';
import { CadenceError } from '../problem/index.js';

/**
 * Deepest JSON nesting a body may have. Real payloads (CDEvents, GitHub webhooks) stay below 20;
 * thousands of levels made JSON.stringify throw a RangeError (a 500) further in.
 */
export const MAX_JSON_DEPTH = 128;

/** The deepest `{`/`[` nesting in JSON text (bytes), strings skipped; stops past `limit`. */
export function jsonDepth(body: Uint8Array, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return deepest;
}

function firstNul(values: unknown): string | undefined {
  if (!values || typeof values !== 'object') return undefined;
  for (const [name, value] of Object.entries(values)) {
    const texts = Array.isArray(value) ? value : [value];
    if (
      name.includes('\u0000') ||
      texts.some((text) => typeof text === 'string' && text.includes('\u0000'))
    ) {
      return name;
    }
  }
  return undefined;
}

/**
 * The request checks no route can do better than the shell: a NUL byte in a path or query
 * parameter (PostgreSQL refuses U+0000 in text, error 22021) and JSON nested past
 * {@link MAX_JSON_DEPTH}, each a 400 naming the parameter or the body.
 */
export async function checkRequestLimits(request: FastifyRequest): Promise<void> {
  for (const [where, values] of [
    ['path', request.params],
    ['query', request.query],
  ] as const) {
    const name = firstNul(values);
    if (name !== undefined) {
      throw new CadenceError('invalid-input', {
        field: name.split('\u0000').join('\\0'),
        detail: `the ${where} parameter ${JSON.stringify(name)} holds a NUL byte (U+0000), which cannot be stored or matched`,
      });
    }
  }
  const body = request.body;
  // Any body that looks like JSON: some routes parse JSON whatever the content type says.
  const looksJson = (bytes: Uint8Array) =>
    /json/i.test(request.headers['content-type'] ?? '') ||
    /^\s*[[{]/.test(Buffer.from(bytes.subarray(0, 64)).toString('latin1'));
  if (body instanceof Uint8Array && looksJson(body)) {
    if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw new CadenceError('invalid-input', {
        field: 'body',
        detail: `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`,
      });
    }
  }
}
