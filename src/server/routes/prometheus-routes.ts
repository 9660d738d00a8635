import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { defaultDoraSettings, metricsPerStream, type DoraSettings } from '../../dora/index.js';
import { routerBacklog } from '../../events/index.js';
import { registerRolloutMetrics } from '../../rollouts/index.js';
import type { Store } from '../../store/index.js';
import type { UpdateWatcher } from '../../updates/index.js';
import { streamFilter } from './metrics-routes.js';
import { parseQuery } from './query.js';

const DAY = 86_400_000;
/** The window the DORA gauges cover, ending at scrape time. */
const WINDOW_DAYS = 30;

/**
 * `GET /metrics` in the Prometheus text format: the DORA metrics per service and environment over
 * the last 30 days, computed at scrape time, and Cadence's own health (intake, router backlog,
 * process). Returns the counter the event routes feed.
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
  collectDefaultMetrics({ register: registry, prefix: 'cadence_' });
  const settings = deps.dora ?? defaultDoraSettings;
  const labelNames = ['service', 'environment'] as const;
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  const deployments = gauge(
    'cadence_dora_deployments',
    `Successful deployments, last ${WINDOW_DAYS} days`,
  );
  const perDay = gauge(
    'cadence_dora_deployments_per_day',
    `Deployment frequency, last ${WINDOW_DAYS} days`,
  );
  const leadMedian = gauge(
    'cadence_dora_lead_time_median_seconds',
    'Lead time for changes, median',
  );
  const leadP90 = gauge('cadence_dora_lead_time_p90_seconds', 'Lead time for changes, p90');
  const failureRate = gauge(
    'cadence_dora_change_failure_rate',
    'Failed deployment attempts / attempts',
  );
  const recovery = gauge(
    'cadence_dora_failed_deployment_recovery_median_seconds',
    'Failed deployment recovery time, median',
  );
  const restore = gauge(
    'cadence_dora_time_to_restore_median_seconds',
    'Incident detected to resolved, median',
  );
  const rework = gauge(
    'cadence_dora_rework_rate',
    'Deployments remedying an incident / deployments',
  );

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
    const streams = await metricsPerStream(
      deps.store,
      { from: new Date(to.getTime() - WINDOW_DAYS * DAY), to, ...filter },
      settings,
    );
    for (const g of [
      deployments,
      perDay,
      leadMedian,
      leadP90,
      failureRate,
      recovery,
      restore,
      rework,
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
  app.get('/metrics', { config: { auth: { action: 'read' } } }, async (request, reply) => {
    await refresh(parseQuery(streamFilter, request.query));
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return { eventsAccepted };
}
