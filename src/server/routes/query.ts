import type { z } from 'zod';
import { CadenceError } from '../../problem/index.js';

/** Parses query parameters at the edge; a bad one is a 400 naming it. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const field = path.join('.') || 'query';
  throw new CadenceError('invalid-input', {
    field,
    detail: `query parameter ${field}: ${issue.message}`,
  });
}
