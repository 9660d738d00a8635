import { cadenceVersion } from '../../version/index.js';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.js';

const PUBLIC = { config: { auth: { action: 'public' } } } as const;

export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  // Liveness: the process answers.
  app.get('/healthz', PUBLIC, async () => ({ status: 'ok' }));
  // Public like /healthz: which Cadence answers, for operators and the thesis's clients.
  app.get('/version', PUBLIC, async () => ({ version: cadenceVersion() }));
  // Readiness: the database answers too.
  app.get('/readyz', PUBLIC, async (_request, reply) => {
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
  });
}
