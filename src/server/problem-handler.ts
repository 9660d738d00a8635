import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  CadenceError,
  problemStatus,
  type ProblemCode,
  type ProblemIssue,
} from '../problem/index.js';

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  issues?: ProblemIssue[];
}

const titles: Record<ProblemCode, string> = {
  'invalid-input': 'Invalid input',
  'unsupported-media-type': 'Unsupported media type',
  'payload-too-large': 'Payload too large',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'config-invalid': 'Configuration invalid',
  unavailable: 'Service unavailable',
  backlogged: 'Too many requests',
};

// Fastify's own request errors (body parsing, limits) mapped onto Cadence's codes.
const fastifyCodes: Record<string, { code: ProblemCode; field: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload-too-large', field: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported-media-type', field: 'content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid-input', field: 'content-length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid-input', field: 'body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid-input', field: 'body' },
  FST_ERR_VALIDATION: { code: 'invalid-input', field: 'query' },
  FST_ERR_BAD_URL: { code: 'invalid-input', field: 'path' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'invalid-input', field: 'content-type' },
};

/** PostgreSQL's "data exception" class (22xxx, e.g. 22021 a NUL byte in text): a bad value. */
function isDataException(error: unknown): boolean {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code) && typeof severity === 'string';
}

export function toProblem(error: CadenceError): ProblemBody {
  const status = problemStatus[error.code];
  const body: ProblemBody = {
    type: `urn:cadence:problem:${error.code}`,
    title: titles[error.code],
    status,
    detail: error.message,
  };
  if (error.field) body.field = error.field;
  if (error.issues.length > 0) body.issues = error.issues;
  return body;
}

/**
 * The one error handler: a CadenceError or a Fastify client error becomes
 * `application/problem+json` with the field at fault; anything else is a bug, logged, and a 500.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let problem: CadenceError | undefined;
  if (error instanceof CadenceError) {
    problem = error;
  } else if (error.code && fastifyCodes[error.code]) {
    const mapped = fastifyCodes[error.code]!;
    problem = new CadenceError(mapped.code, { field: mapped.field, detail: error.message });
  } else if (isDataException(error)) {
    problem = new CadenceError('invalid-input', {
      detail: `the database refused a value in the request: ${error.message}`,
    });
  } else if (
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    problem = new CadenceError('invalid-input', { detail: error.message });
  }
  if (!problem) {
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).type('application/problem+json').send({
      type: 'urn:cadence:problem:internal',
      title: 'Internal error',
      status: 500,
      detail: 'internal error; see the server log',
    });
  }
  const body = toProblem(problem);
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  if (problem.retryAfterSeconds !== undefined) {
    void reply.header('retry-after', String(problem.retryAfterSeconds));
  }
  return reply.code(body.status).type('application/problem+json').send(body);
}

export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  const body = toProblem(
    new CadenceError('not-found', {
      field: 'path',
      detail: `no route for ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
  return reply.code(404).type('application/problem+json').send(body);
}

/** The problem+json bytes of a whole HTTP response, for answers written straight to a socket. */
function rawProblem(status: number, field: string | undefined, detail: string): string {
  const body = JSON.stringify({
    type: `urn:cadence:problem:${status === 413 ? 'payload-too-large' : 'invalid-input'}`,
    title: STATUS_CODES[status] ?? 'Bad Request',
    status,
    detail,
    ...(field ? { field } : {}),
  });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

// Node's parser errors (llhttp codes) before any route runs, and what each means for the client.
const clientErrors: Record<string, { status: number; field?: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    field: 'headers',
    detail: 'the request headers are too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: 'the request took too long to arrive' },
  HPE_INVALID_METHOD: { status: 400, field: 'method', detail: 'the request method is not valid' },
  HPE_INVALID_URL: { status: 400, field: 'path', detail: 'the request target is not valid' },
};

/**
 * Node's `clientError`: a request too broken to reach Fastify (a bad request line, headers over
 * the limit, a body that stopped arriving). Answered as problem+json too, then the socket closes.
 */
export function handleClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const known = clientErrors[error.code ?? ''] ?? {
    status: 400,
    detail: 'the request is not valid HTTP/1.1',
  };
  socket.end(rawProblem(known.status, known.field, known.detail));
}

/** Fastify's errors before routing (a URL it cannot decode): the same problem+json. */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  return handleError(error, request, reply);
}
