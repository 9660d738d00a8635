import { z } from 'zod';
import { parseJson } from '../../events/index.js';
import { CadenceError } from '../../problem/index.js';

/**
 * `value` parsed with `schema` at the edge; a bad one is a 400 whose field is the first issue's
 * path (the unknown key, for a strict object's), or `fallback` when the issue names none. The
 * detail is `LABEL FIELD: message`.
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  fallback: string,
  label = '',
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const field = path.join('.') || fallback;
  throw new CadenceError('invalid-input', { field, detail: `${label}${field}: ${issue.message}` });
}

/** Query (or path) parameters parsed with `schema`; a bad one is a 400 naming it. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  return parseInput(schema, query, 'query', 'query parameter ');
}

/** A JSON request body parsed with `schema`; bad JSON or a bad field is a 400 naming it. */
export function parseJsonBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const value = parseJson(Buffer.isBuffer(body) ? body : Buffer.alloc(0), 'body');
  return parseInput(schema, value, 'body');
}

/** A time in a query or body: RFC 3339 or a date, as a `Date` (`?from=2026-03-01`, `asOf`). */
export const isoTime = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an RFC 3339 time or a date')
  .transform((value) => new Date(value));
