import { cadenceVersion } from '../../version/index.js';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';
import { cadenceVersionSchema, healthSchema, readinessSchema } from '../api-schemas.js';
import { problem } from '../openapi.js';

const PUBLIC = { action: 'public' } as const;

export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  // Liveness: the process answers.
  app.get(
    '/healthz',
    {
      config: {
        auth: PUBLIC,
        api: {
          tag: 'health',
          summary: 'Liveness',
          responses: { 200: { description: 'alive', schema: healthSchema } },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );
  // Public like /healthz: which Cadence answers, for operators and the thesis's clients.
  app.get(
    '/version',
    {
      config: {
        auth: PUBLIC,
        api: {
          tag: 'health',
          summary: "Cadence's own version",
          responses: { 200: { description: 'the version', schema: cadenceVersionSchema } },
        },
      },
    },
    async () => ({ version: cadenceVersion() }),
  );
  // Readiness: the database answers too.
  app.get(
    '/readyz',
    {
      config: {
        auth: PUBLIC,
        api: {
          tag: 'health',
          summary: 'Readiness: the database answers',
          responses: {
            200: { description: 'ready', schema: readinessSchema },
            503: problem('the database does not answer'),
          },
        },
      },
    },
    async (_request, reply) => {
      try {
        await store.ping();
        return { status: 'ready', engine: store.engine };
      } catch (error) {
        return reply
          .code(503)
          .type('application/problem+json')
          .send({
            type: 'urn:cadence:problem:unavailable',
            title: 'Service unavailable',
            status: 503,
            detail: `database unreachable: ${(error as Error).message}`,
            field: 'database',
          });
      }
    },
  );
}
