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
};

// Fastify's own request errors (body parsing, limits) mapped onto Cadence's codes.
const fastifyCodes: Record<string, { code: ProblemCode; field: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload-too-large', field: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported-media-type', field: 'content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid-input', field: 'content-length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid-input', field: 'body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid-input', field: 'body' },
  FST_ERR_VALIDATION: { code: 'invalid-input', field: 'query' },
};

function toProblem(error: CadenceError): ProblemBody {
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
