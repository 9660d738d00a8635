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
import {
  deploymentListSchema,
  incidentListSchema,
  serviceCatalogueSchema,
} from '../api-schemas.js';
import { badQuery, problem, type ApiOperation } from '../openapi.js';
import { parseQuery } from './parse-input.js';

// The metrics' filters and window, and how many rows (newest first) to return.
export const timelineQuery = metricsQuery.omit({ bucket: true }).extend({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const READ = { action: 'read' } as const;

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
  app.get(
    '/api/v1/streams',
    {
      config: {
        auth: READ,
        api: {
          tag: 'metrics',
          summary: 'Services and environments with deployments, and the configured teams',
          responses: { 200: { description: 'the catalogue', schema: serviceCatalogueSchema } },
        },
      },
    },
    async () => {
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
    },
  );

  app.get(
    '/api/v1/deployments',
    {
      config: {
        auth: READ,
        api: timelineApi(
          'Deployments newest first, with the changes they delivered and their incidents',
          'deployments',
          deploymentListSchema,
        ),
      },
    },
    async (request) => ({
      deployments: await listDeployments(deps.store, parse(request.query), settings),
    }),
  );

  app.get(
    '/api/v1/incidents',
    {
      config: {
        auth: READ,
        api: timelineApi(
          'Incidents newest first, with time to restore and the deployment they are attributed to',
          'incidents',
          incidentListSchema,
        ),
      },
    },
    async (request) => ({
      incidents: await listIncidents(deps.store, parse(request.query), settings),
    }),
  );
}

/** A list read with the timeline's filters: deployments, incidents. */
function timelineApi(summary: string, what: string, schema: z.ZodType): ApiOperation {
  return {
    tag: 'metrics',
    summary,
    query: timelineQuery,
    responses: {
      200: { description: what, schema },
      400: badQuery,
      404: problem('no service belongs to the team'),
    },
  };
}
