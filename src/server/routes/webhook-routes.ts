import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { HttpMessage, Intake } from '../../events/index.js';
import { CadenceError } from '../../problem/index.js';
import { webhookSourceNames, type WebhookReceiver } from '../../sources/index.js';
import { problem } from '../openapi.js';
import { intakeResponses } from './event-routes.js';

/**
 * `POST /webhooks/{source}`: a producer's own webhook format (GitHub, GitLab, Alertmanager,
 * Argo CD). The source's receiver checks authenticity and shape, then the intake stores the
 * resulting CloudEvents exactly as it stores `POST /events` (202 once durable).
 */
export function registerWebhookRoutes(
  app: FastifyInstance,
  deps: {
    intake: Intake;
    receivers: ReadonlyMap<string, WebhookReceiver>;
    /** Sources whose receiver checks a configured secret: no token is asked for them. */
    secured: ReadonlySet<string>;
    onAccepted?: (endpoint: string, count: number) => void;
  },
): void {
  const selfAuthenticated = (request: FastifyRequest) =>
    deps.secured.has((request.params as { source?: string }).source ?? '');
  app.post<{ Params: { source: string } }>(
    '/webhooks/:source',
    // With a secret the receiver authenticates the delivery; without one an ingest token allowed
    // that source is asked when server.auth.ingest is on.
    {
      config: {
        auth: { action: 'ingest', sourceParam: 'source', selfAuthenticated },
        api: {
          tag: 'events',
          summary: "A producer's own webhook payload, checked (signature, token) and stored",
          // The source registry's names, not a list kept here.
          params: z.object({ source: z.enum(webhookSourceNames()) }),
          body: { description: "the producer's payload", contentTypes: ['application/json'] },
          responses: {
            ...intakeResponses,
            401: problem('signature or token missing or wrong; nothing is stored'),
            404: problem('no such source'),
          },
        },
      },
    },
    async (request, reply) => {
      const receiver = deps.receivers.get(request.params.source);
      if (!receiver) {
        throw new CadenceError('not-found', {
          field: 'source',
          detail: `no webhook source ${JSON.stringify(request.params.source)}; known: ${[...deps.receivers.keys()].join(', ')}`,
        });
      }
      const message: HttpMessage = {
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      };
      const events = receiver.receive(message, new Date());
      // The door: these events may feed this producer's transformer, and no other.
      const result = await deps.intake.acceptDecoded(events, 'webhook', {
        name: `webhook:${receiver.name}`,
        principal: request.principal?.name ?? receiver.name,
        vouched: [receiver.name],
      });
      deps.onAccepted?.(`/webhooks/${receiver.name}`, result.accepted);
      return reply.code(202).send(result);
    },
  );
}
