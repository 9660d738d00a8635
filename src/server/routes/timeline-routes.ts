import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  defaultDoraSettings,
  listDeployments,
  listIncidents,
  listStreams,
  type DoraSettings,
} from '../../dora/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import { metricsQuery, toMetricsQuery } from './metrics-routes.js';
import { parseQuery } from './query.js';

// The metrics' filters and window, and how many rows (newest first) to return.
export const timelineQuery = metricsQuery.omit({ bucket: true }).extend({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const READ = { config: { auth: { action: 'read' } } } as const;

/**
 * The deployments timeline and the incidents list the dashboard reads (and the service catalogue
 * for its filters): thin shells over `listDeployments`, `listIncidents` and `listStreams`, with the same filters as `/api/v1/metrics`.
 */
export function registerTimelineRoutes(
  app: FastifyInstance,
  deps: { store: Store; dora?: DoraSettings | undefined },
): void {
  const settings = deps.dora ?? defaultDoraSettings;
  const parse = (query: unknown) => {
    const { limit, ...filters } = parseQuery(timelineQuery, query);
    const window = toMetricsQuery(filters);
    if (!(window.from.getTime() < window.to.getTime())) {
      throw new CadenceError('invalid-input', { field: 'from', detail: 'from must be before to' });
    }
    return { ...window, limit };
  };

  // The services and environments that have deployments, and the configured teams: the
  // choices of the dashboard's filters.
  app.get('/api/v1/streams', READ, async () => {
    const streams = await listStreams(deps.store);
    return {
      services: streams.map((stream) => ({
        ...stream,
        team: settings.services[stream.service]?.team ?? null,
      })),
      teams: [
        ...new Set(Object.values(settings.services).flatMap((entry) => entry.team ?? [])),
      ].sort(),
    };
  });

  app.get('/api/v1/deployments', READ, async (request) => ({
    deployments: await listDeployments(deps.store, parse(request.query), settings),
  }));

  app.get('/api/v1/incidents', READ, async (request) => ({
    incidents: await listIncidents(deps.store, parse(request.query), settings),
  }));
}
