/**
 * problem — the one error type Cadence's domain code throws for expected failures.
 *
 * Each error has a stable `code`; the HTTP shell maps codes to status codes and renders them as
 * RFC 9457 `application/problem+json`, the CLI prints them with a non-zero exit. Anything thrown
 * that is not a CadenceError is a bug (a logged 500).
 */
export type ProblemCode =
  | 'invalid-input'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'config-invalid'
  | 'unavailable'
  | 'backlogged';

export interface ProblemIssue {
  /** The field at fault, as a dotted path (`context.timestamp`) or a header (`ce-id`). */
  field: string;
  message: string;
}

export class CadenceError extends Error {
  readonly code: ProblemCode;
  /** The first field at fault, if any. */
  readonly field: string | undefined;
  readonly issues: ProblemIssue[];
  /** When to try again (a Retry-After header), for a refusal that passes. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ProblemCode,
    options: {
      detail: string;
      field?: string;
      issues?: ProblemIssue[];
      cause?: unknown;
      retryAfterSeconds?: number;
    },
  ) {
    super(options.detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CadenceError';
    this.code = code;
    this.issues =
      options.issues ?? (options.field ? [{ field: options.field, message: options.detail }] : []);
    this.field = options.field ?? this.issues[0]?.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** HTTP status for each problem code: the one mapping, used by the server's error handler. */
export const problemStatus: Record<ProblemCode, number> = {
  'invalid-input': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'config-invalid': 500,
  unavailable: 503,
  backlogged: 429,
};
