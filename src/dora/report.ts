import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import { refreshDeliveries } from './delivery-rows.js';
import { listStreams } from './fact-rows.js';
import { queryMetricInputs } from './metric-queries.js';
import {
  bucketsOf,
  daysBetween,
  emptyInputs,
  metricsFromInputs,
  type Bucket,
  type BucketedMetrics,
  type DoraMetrics,
} from './metrics.js';
import { projectFacts } from './projector.js';
import { defaultDoraSettings, type DoraSettings } from './settings.js';
import { classify, REPORT_YEARS, type ReportYear, type Tier, type TieredMetric } from './tiers.js';

export interface MetricsQuery {
  service?: string | undefined;
  environment?: string | undefined;
  team?: string | undefined;
  from: Date;
  to: Date;
  bucket?: Bucket | undefined;
}

export interface MetricsReport {
  scope: { service?: string; environment: string; team?: string; from: string; to: string };
  overall: DoraMetrics;
  tiers: Record<ReportYear, Record<TieredMetric, Tier | null>>;
  series?: { bucket: Bucket; points: BucketedMetrics[] };
}

/** The services a query means: the team's (an unknown team is a 404), or the one named. */
export function servicesOf(query: MetricsQuery, settings: DoraSettings): string[] | undefined {
  if (!query.team) return query.service ? [query.service] : undefined;
  const team = Object.entries(settings.services)
    .filter(([, entry]) => entry.team === query.team)
    .map(([name]) => name);
  if (team.length === 0) {
    throw new CadenceError('not-found', {
      field: 'team',
      detail: `no service in the configuration belongs to team ${JSON.stringify(query.team)}`,
    });
  }
  return query.service ? team.filter((name) => name === query.service) : team;
}

/**
 * The five metrics over a window, their DORA tiers, and optionally a series per bucket.
 * The rules' results are brought up to date first, then read with SQL aggregates.
 */
export async function metricsReport(
  store: Store,
  query: MetricsQuery,
  settings: DoraSettings = defaultDoraSettings,
): Promise<MetricsReport> {
  if (!(query.from.getTime() < query.to.getTime())) {
    throw new CadenceError('invalid-input', { field: 'from', detail: 'from must be before to' });
  }
  const services = servicesOf(query, settings);
  await refreshDeliveries(store, settings);
  const scope = {
    environment: query.environment ?? settings.environment,
    services,
    from: query.from,
    to: query.to,
    exactLimit: settings.exactLimit,
  };
  const total = await queryMetricInputs(store, scope, { by: 'total' });
  const overall = metricsFromInputs(
    total.get('') ?? emptyInputs,
    daysBetween(query.from, query.to),
  );
  const tiers = Object.fromEntries(
    REPORT_YEARS.map((year) => [year, classify(overall, year)]),
  ) as MetricsReport['tiers'];
  let series: MetricsReport['series'];
  if (query.bucket) {
    const byBucket = await queryMetricInputs(store, scope, { by: 'bucket', bucket: query.bucket });
    series = {
      bucket: query.bucket,
      points: bucketsOf(query, query.bucket).map((bucket) => ({
        bucket: bucket.start.toISOString(),
        ...metricsFromInputs(
          byBucket.get(bucket.start.toISOString()) ?? emptyInputs,
          daysBetween(bucket.from, bucket.to),
        ),
      })),
    };
  }
  return {
    scope: {
      ...(query.service ? { service: query.service } : {}),
      environment: scope.environment,
      ...(query.team ? { team: query.team } : {}),
      from: query.from.toISOString(),
      to: query.to.toISOString(),
    },
    overall,
    tiers,
    ...(series ? { series } : {}),
  };
}

/**
 * The seed-compatible deployment frequency: successful deployments per service and bucket,
 * only buckets with deployments, newest last.
 */
export async function deployFrequency(
  store: Store,
  bucket: Bucket,
  settings: DoraSettings = defaultDoraSettings,
): Promise<{ DeployName: string; Deployments: number; Time: string }[]> {
  await projectFacts(store);
  const { rows } = await store.query<{ service: string; time: Date; deployments: number }>(
    `select service, date_trunc($1, deployed_at, 'UTC') as time, count(*)::int8 as deployments
     from deployments
     where kind = 'deploy' and outcome = 'success' and environment = $2
     group by service, time order by time, service`,
    [bucket, settings.environment],
  );
  return rows.map((row) => ({
    DeployName: row.service,
    Deployments: Number(row.deployments),
    Time: new Date(row.time).toISOString(),
  }));
}

export interface StreamMetrics {
  service: string;
  environment: string;
  metrics: DoraMetrics;
}

/** The metrics of every service in every environment over one window (for /metrics). */
export async function metricsPerStream(
  store: Store,
  window: { from: Date; to: Date },
  settings: DoraSettings = defaultDoraSettings,
): Promise<StreamMetrics[]> {
  await refreshDeliveries(store, settings);
  const inputs = await queryMetricInputs(store, window, { by: 'stream' });
  const days = daysBetween(window.from, window.to);
  return (await listStreams(store)).map(({ service, environment }) => ({
    service,
    environment,
    metrics: metricsFromInputs(inputs.get(`${environment}\u0000${service}`) ?? emptyInputs, days),
  }));
}

export { listStreams };
