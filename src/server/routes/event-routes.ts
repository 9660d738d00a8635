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
import {
  cdeventListSchema,
  eventDetailSchema,
  eventListSchema,
  intakeResultSchema,
} from '../api-schemas.js';
import { badQuery, problem } from '../openapi.js';
import { parseQuery } from './parse-input.js';

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

const eventParams = z.object({ seq: z.coerce.number().int().min(1) });

/** The answers of every intake: `/events`, `/cdevents` and `/webhooks/{source}`. */
export const intakeResponses = {
  202: { description: 'stored durably (or already stored)', schema: intakeResultSchema },
  400: problem('an event is invalid; nothing is stored (field names it)'),
  413: problem('over the body limit'),
  415: problem('not a media type this endpoint accepts'),
};
/** /events and /cdevents: producers there are told to back off when the router is behind. */
const producerIntake = {
  ...intakeResponses,
  429: problem(
    'the router is behind (more than router.maxBacklog events unrouted): nothing stored; retry after the Retry-After header (field: backlog)',
  ),
};

export function registerEventRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    intake: Intake;
    /** Told how many events each request stored (feeds /metrics). */
    onAccepted?: (endpoint: string, count: number) => void;
  },
): void {
  // The CloudEvents HTTP binding and CDEvents: 202 once the events are durably stored.
  const intakes = [
    {
      url: '/events',
      accept: 'acceptCloudEvents',
      summary: 'CloudEvents 1.0 HTTP binding: binary, structured or batched',
      body: {
        description: 'a CloudEvent; dev.cdevents.* types must carry a valid CDEvent',
        contentTypes: [
          'application/cloudevents+json',
          'application/cloudevents-batch+json',
          'application/json',
          '*/*',
        ],
      },
    },
    {
      url: '/cdevents',
      accept: 'acceptCdevents',
      summary: 'A CDEvent (0.3, 0.4, 0.5), bare or wrapped in a CloudEvent',
      body: {
        description: 'a CDEvent',
        contentTypes: ['application/json', 'application/cloudevents+json'],
      },
    },
  ] as const;
  for (const { url, accept, summary, body } of intakes) {
    app.post(
      url,
      {
        config: {
          auth: { action: 'ingest' },
          api: {
            tag: 'events',
            summary,
            body,
            responses: producerIntake,
          },
        },
      },
      async (request, reply) => {
        const result = await deps.intake[accept](toMessage(request), callerOf(request));
        deps.onAccepted?.(url, result.accepted);
        return reply.code(202).send(result);
      },
    );
  }

  app.get(
    '/api/v1/events',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'events',
          summary: 'Raw events in arrival order',
          query: eventListQuery,
          responses: { 200: { description: 'events', schema: eventListSchema }, 400: badQuery },
        },
      },
    },
    async (request) => {
      const query = parseQuery(eventListQuery, request.query);
      const events = await listEvents(deps.store, {
        type: query.type,
        source: query.source,
        afterSeq: query.after,
        limit: query.limit,
        from: query.from,
      });
      return { events };
    },
  );

  app.get(
    '/api/v1/events/:seq',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'events',
          summary: 'One event and the CDEvents routed from it',
          params: eventParams,
          responses: {
            200: { description: 'the event', schema: eventDetailSchema },
            400: badQuery,
            404: problem('no such event'),
          },
        },
      },
    },
    async (request) => {
      const { seq } = parseQuery(eventParams, request.params);
      const event = await findEvent(deps.store, { seq });
      if (!event)
        throw new CadenceError('not-found', { field: 'seq', detail: `no event with seq ${seq}` });
      const cdevents = await listCdevents(deps.store, { eventSeq: seq, limit: 100 });
      return { event, cdevents };
    },
  );

  app.get(
    '/api/v1/cdevents',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'events',
          summary: 'Stored CDEvents',
          query: cdeventListQuery,
          responses: { 200: { description: 'CDEvents', schema: cdeventListSchema }, 400: badQuery },
        },
      },
    },
    async (request) => {
      const query = parseQuery(cdeventListQuery, request.query);
      return { cdevents: await listCdevents(deps.store, query) };
    },
  );
}
