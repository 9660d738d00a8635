import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BUCKETS } from '../../statistics/index.js';
import {
  defaultDoraSettings,
  deployFrequency,
  metricsReport,
  type DoraSettings,
  type MetricsQuery,
} from '../../dora/index.js';
import type { Store } from '../../store/index.js';
import {
  METRIC_NAMES,
  deployFrequencySchema,
  metricSeriesSchema,
  metricsReportSchema,
} from '../api-schemas.js';
import { badQuery, problem } from '../openapi.js';
import { isoTime, parseQuery } from './parse-input.js';

const DAY = 86_400_000;

export const metricsQuery = z.strictObject({
  service: z.string().min(1).optional(),
  environment: z.string().min(1).optional(),
  team: z.string().min(1).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  bucket: z.enum(BUCKETS).optional(),
});

/** One environment and/or service, for the surfaces that cover every stream by default. */
export const streamFilter = z.strictObject({
  service: z.string().min(1).optional(),
  environment: z.string().min(1).optional(),
});

/** The window defaults to the 90 days up to now. */
export function toMetricsQuery(query: z.infer<typeof metricsQuery>): MetricsQuery {
  const to = query.to ?? new Date();
  const from = query.from ?? new Date(to.getTime() - 90 * DAY);
  return { ...query, from, to };
}

/** Per-metric series: the metric's own numbers from each bucket. */
const SERIES = {
  'deployment-frequency': (p: MetricPoint) => ({
    deployments: p.deployments,
    deploymentsPerDay: p.deploymentsPerDay,
    deployDaysPerWeek: p.deployDaysPerWeek,
  }),
  'lead-time': (p: MetricPoint) => p.leadTime,
  'change-failure-rate': (p: MetricPoint) => p.changeFailureRate,
  'recovery-time': (p: MetricPoint) => ({
    failedDeploymentRecoveryTime: p.failedDeploymentRecoveryTime,
    timeToRestore: p.timeToRestore,
  }),
  'rework-rate': (p: MetricPoint) => p.reworkRate,
} as const satisfies Record<(typeof METRIC_NAMES)[number], unknown>;
type MetricPoint = NonNullable<Awaited<ReturnType<typeof metricsReport>>['series']>['points'][0];

const READ = { action: 'read' } as const;
const metricParams = z.object({
  metric: z.enum(METRIC_NAMES),
});
const bucketParams = z.object({ bucket: z.enum(BUCKETS) });
const noTeam = problem('no service belongs to the team');

export function registerMetricsRoutes(
  app: FastifyInstance,
  deps: { store: Store; dora?: DoraSettings | undefined },
): void {
  const settings = deps.dora ?? defaultDoraSettings;

  app.get(
    '/api/v1/metrics',
    {
      config: {
        auth: READ,
        api: {
          tag: 'metrics',
          summary: 'The five DORA metrics over a window (default: the last 90 days), with tiers',
          query: metricsQuery,
          responses: {
            200: { description: 'the report', schema: metricsReportSchema },
            400: badQuery,
            404: noTeam,
          },
        },
      },
    },
    async (request) => {
      const query = toMetricsQuery(parseQuery(metricsQuery, request.query));
      return metricsReport(deps.store, query, settings);
    },
  );

  app.get(
    '/api/v1/metrics/:metric',
    {
      config: {
        auth: READ,
        api: {
          tag: 'metrics',
          summary: "One metric's series per bucket (default week)",
          params: metricParams,
          query: metricsQuery,
          responses: {
            200: { description: 'the series', schema: metricSeriesSchema },
            400: badQuery,
            404: noTeam,
          },
        },
      },
    },
    async (request) => {
      const { metric } = parseQuery(metricParams, request.params);
      const parsed = parseQuery(metricsQuery, request.query);
      const report = await metricsReport(
        deps.store,
        toMetricsQuery({ ...parsed, bucket: parsed.bucket ?? 'week' }),
        settings,
      );
      return {
        metric,
        scope: report.scope,
        bucket: report.series!.bucket,
        points: report.series!.points.map((point) => ({
          bucket: point.bucket,
          ...SERIES[metric](point),
        })),
      };
    },
  );

  // The Four Keys-era shape some dashboards still read: every environment, as the seed tutorial.
  app.get(
    '/deploy-frequency/:bucket',
    {
      config: {
        auth: READ,
        api: {
          tag: 'metrics',
          summary:
            'Successful deployments per service and bucket (seed-compatible; every environment unless one is asked for)',
          params: bucketParams,
          query: streamFilter,
          responses: {
            200: { description: 'counts', schema: deployFrequencySchema },
            400: badQuery,
          },
        },
      },
    },
    async (request) => {
      const { bucket } = parseQuery(bucketParams, request.params);
      const filter = parseQuery(streamFilter, request.query);
      return deployFrequency(deps.store, bucket, filter);
    },
  );
}
