import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  findEvent,
  listCdevents,
  listEvents,
  type HttpMessage,
  type Intake,
  type IntakeCaller,
} from '../../events/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import { parseQuery } from './query.js';

/** The token that sent the request, if any, as the intake checks producers against it. */
function callerOf(request: FastifyRequest): IntakeCaller | undefined {
  const principal = request.principal;
  if (!principal) return undefined;
  return {
    name: principal.name,
    sources: principal.actions.includes('ingest') ? principal.sources : [],
  };
}

function toMessage(request: FastifyRequest): HttpMessage {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  return { headers: request.headers, body };
}

export const eventListQuery = z.strictObject({
  type: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** `newest`: the last `limit` matching events, oldest first (where `cadence events tail` starts). */
  from: z.enum(['oldest', 'newest']).default('oldest'),
});

export const cdeventListQuery = z.strictObject({
  subjectType: z.string().min(1).optional(),
  predicate: z.string().min(1).optional(),
  eventSeq: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const INGEST = { config: { auth: { action: 'ingest' } } } as const;
const READ = { config: { auth: { action: 'read' } } } as const;

export function registerEventRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    intake: Intake;
    /** Told how many events each request stored (feeds /metrics). */
    onAccepted?: (endpoint: string, count: number) => void;
  },
): void {
  // CloudEvents HTTP binding: 202 once the events are durably stored.
  app.post('/events', INGEST, async (request, reply) => {
    const result = await deps.intake.acceptCloudEvents(toMessage(request), callerOf(request));
    deps.onAccepted?.('/events', result.accepted);
    return reply.code(202).send(result);
  });

  app.post('/cdevents', INGEST, async (request, reply) => {
    const result = await deps.intake.acceptCdevents(toMessage(request), callerOf(request));
    deps.onAccepted?.('/cdevents', result.accepted);
    return reply.code(202).send(result);
  });

  app.get('/api/v1/events', READ, async (request) => {
    const query = parseQuery(eventListQuery, request.query);
    const events = await listEvents(deps.store, {
      type: query.type,
      source: query.source,
      afterSeq: query.after,
      limit: query.limit,
      from: query.from,
    });
    return { events };
  });

  app.get('/api/v1/events/:seq', READ, async (request) => {
    const { seq } = parseQuery(z.object({ seq: z.coerce.number().int().min(1) }), request.params);
    const event = await findEvent(deps.store, { seq });
    if (!event)
      throw new CadenceError('not-found', { field: 'seq', detail: `no event with seq ${seq}` });
    const cdevents = await listCdevents(deps.store, { eventSeq: seq, limit: 100 });
    return { event, cdevents };
  });

  app.get('/api/v1/cdevents', READ, async (request) => {
    const query = parseQuery(cdeventListQuery, request.query);
    return { cdevents: await listCdevents(deps.store, query) };
  });
}
