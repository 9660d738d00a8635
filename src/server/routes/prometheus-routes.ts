import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { metricsPerStream, type DoraSettings } from '../../dora/index.js';
import { routerBacklog } from '../../events/index.js';
import { registerRolloutMetrics } from '../../rollouts/index.js';
import type { Store } from '../../store/index.js';
import type { UpdateWatcher } from '../../updates/index.js';
import { badQuery } from '../openapi.js';
import { streamFilter } from './metrics-routes.js';
import { parseQuery } from './parse-input.js';

const DAY = 86_400_000;
/** The window the DORA gauges cover, ending at scrape time. */
const WINDOW_DAYS = 30;

/** The release after which the pre-0.2 metric names (kept as aliases below) are gone. */
const OLD_NAMES_UNTIL = '0.2';

/**
 * `GET /metrics` in the Prometheus text format: the DORA metrics per service and environment over
 * the last 30 days, computed at scrape time, and Cadence's own health (intake, router backlog,
 * HTTP requests per route, process). Names follow the Prometheus naming guide (base units,
 * `_ratio`, quantiles as a `quantile` label; docs/metrics.md lists them with the old names they
 * replace). Returns the counter the event routes feed.
 */
export function registerPrometheusRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    dora?: DoraSettings | undefined;
    updates?: { watcher: Pick<UpdateWatcher, 'freshness'> } | undefined;
  },
): { eventsAccepted: Counter<'endpoint'> } {
  const registry = new Registry();
  // Standard names (process_*, nodejs_*), which stock Node.js dashboards read; the cadence_-prefixed
  // copies are the old names, kept one release.
  collectDefaultMetrics({ register: registry });
  collectDefaultMetrics({ register: registry, prefix: 'cadence_' });
  const labelNames = ['service', 'environment'] as const;
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const deprecated = (name: string, replacement: string) =>
    gauge(name, `Deprecated: use ${replacement} (removed after ${OLD_NAMES_UNTIL})`);
  const quantileGauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: [...labelNames, 'quantile'], registers: [registry] });

  const frequency = gauge(
    'cadence_dora_deployment_frequency_per_second',
    `Deployment frequency: successful deployments per second, last ${WINDOW_DAYS} days`,
  );
  const leadTime = quantileGauge(
    'cadence_dora_lead_time_seconds',
    'Lead time for changes (commit to deployed), by quantile',
  );
  const failureRatio = gauge(
    'cadence_dora_change_failure_ratio',
    'Failed deployment attempts / attempts',
  );
  const recoveryTime = quantileGauge(
    'cadence_dora_failed_deployment_recovery_time_seconds',
    'Failed deployment recovery time, by quantile',
  );
  const restoreTime = quantileGauge(
    'cadence_dora_time_to_restore_seconds',
    'Incident detected to resolved, by quantile',
  );
  const reworkRatio = gauge(
    'cadence_dora_rework_ratio',
    'Deployments remedying an incident / deployments',
  );

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests served, by route pattern (unmatched paths: route="")',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // The route's pattern (`/api/v1/services/:name`), never the raw URL: one series per route.
  app.addHook('onResponse', async (request, reply) => {
    httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? '',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  const deployments = gauge(
    'cadence_dora_deployments',
    `Successful deployments, last ${WINDOW_DAYS} days`,
  );
  const perDay = deprecated(
    'cadence_dora_deployments_per_day',
    'cadence_dora_deployment_frequency_per_second',
  );
  const leadMedian = deprecated(
    'cadence_dora_lead_time_median_seconds',
    'cadence_dora_lead_time_seconds{quantile="0.5"}',
  );
  const leadP90 = deprecated(
    'cadence_dora_lead_time_p90_seconds',
    'cadence_dora_lead_time_seconds{quantile="0.9"}',
  );
  const failureRate = deprecated(
    'cadence_dora_change_failure_rate',
    'cadence_dora_change_failure_ratio',
  );
  const recovery = deprecated(
    'cadence_dora_failed_deployment_recovery_median_seconds',
    'cadence_dora_failed_deployment_recovery_time_seconds{quantile="0.5"}',
  );
  const restore = deprecated(
    'cadence_dora_time_to_restore_median_seconds',
    'cadence_dora_time_to_restore_seconds{quantile="0.5"}',
  );
  const rework = deprecated('cadence_dora_rework_rate', 'cadence_dora_rework_ratio');

  const eventsAccepted = new Counter({
    name: 'cadence_intake_events_total',
    help: 'Events accepted and stored by the intake',
    labelNames: ['endpoint'] as const,
    registers: [registry],
  });
  const backlog = new Gauge({
    name: 'cadence_router_backlog_events',
    help: 'Events stored but not yet routed',
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'cadence_router_lag_seconds',
    help: 'Age of the oldest event not yet routed',
    registers: [registry],
  });

  // Rollout series (src/rollouts/rollout-metrics.ts): replicas, phase, progress, durations.
  const refreshRollouts = registerRolloutMetrics(registry, deps.store);

  const versionsBehind = new Gauge({
    name: 'cadence_service_versions_behind',
    help: "Image versions newer than the service's stable one, as of the update watcher's last check",
    labelNames: ['service'] as const,
    registers: [registry],
  });

  async function refresh(filter: { service?: string; environment?: string }): Promise<void> {
    const to = new Date();
    const streams = await metricsPerStream(deps.store, {
      from: new Date(to.getTime() - WINDOW_DAYS * DAY),
      to,
      ...filter,
    });
    for (const g of [
      deployments,
      perDay,
      leadMedian,
      leadP90,
      failureRate,
      recovery,
      restore,
      rework,
      frequency,
      leadTime,
      failureRatio,
      recoveryTime,
      restoreTime,
      reworkRatio,
    ]) {
      g.reset();
    }
    for (const { service, environment, metrics } of streams) {
      const labels = { service, environment };
      const set = (g: Gauge<'service' | 'environment'>, value: number | null) => {
        if (value !== null) g.set(labels, value);
      };
      set(deployments, metrics.deployments);
      set(perDay, metrics.deploymentsPerDay);
      set(leadMedian, metrics.leadTime.median);
      set(leadP90, metrics.leadTime.p90);
      set(failureRate, metrics.changeFailureRate.rate);
      set(recovery, metrics.failedDeploymentRecoveryTime.median);
      set(restore, metrics.timeToRestore.median);
      set(rework, metrics.reworkRate.rate);
      // The same values under the conventional names (seconds as the base unit of time).
      set(frequency, metrics.deploymentsPerDay / 86_400);
      const quantile = (
        g: Gauge<'service' | 'environment' | 'quantile'>,
        q: string,
        value: number | null,
      ) => {
        if (value !== null) g.set({ ...labels, quantile: q }, value);
      };
      quantile(leadTime, '0.5', metrics.leadTime.median);
      quantile(leadTime, '0.9', metrics.leadTime.p90);
      set(failureRatio, metrics.changeFailureRate.rate);
      quantile(recoveryTime, '0.5', metrics.failedDeploymentRecoveryTime.median);
      quantile(restoreTime, '0.5', metrics.timeToRestore.median);
      set(reworkRatio, metrics.reworkRate.rate);
    }
    await refreshRollouts();
    versionsBehind.reset();
    for (const entry of deps.updates?.watcher.freshness() ?? []) {
      versionsBehind.set({ service: entry.service }, entry.versionsBehind);
    }
    const state = await routerBacklog(deps.store);
    backlog.set(state.unrouted);
    lag.set(state.oldestSeconds);
  }

  // `?environment=&service=` narrow the DORA gauges (a scrape config's `params`).
  app.get(
    '/metrics',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'metrics',
          summary: 'Prometheus exposition: DORA gauges, intake and router health',
          query: streamFilter,
          responses: {
            200: { description: 'Prometheus text format', contentType: 'text/plain' },
            400: badQuery,
          },
        },
      },
    },
    async (request, reply) => {
      await refresh(parseQuery(streamFilter, request.query));
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
  return { eventsAccepted };
}
