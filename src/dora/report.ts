import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import { readFreshness, type Freshness } from './freshness.js';
import { listStreams, streamNames } from './fact-rows.js';
import { queryMetricInputs } from './metric-queries.js';
import { bucketsOf, type Bucket } from '../statistics/index.js';
import {
  calendarDaysBetween,
  daysBetween,
  emptyInputs,
  metricsFromInputs,
  type BucketedMetrics,
  type DoraMetrics,
} from './metrics.js';
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
  /**
   * When the scope has no deployment attempt: the environments that do have some in the same
   * window (and services), so an empty answer says where the deployments are.
   */
  elsewhere?: { environment: string; deployments: number }[];
  /** How fresh the numbers are: projection runs in the background, never inside a read. */
  freshness: Freshness;
}

/** Deployments per environment in a window, for the services named (all when absent). */
async function deploymentsPerEnvironment(
  store: Store,
  window: { from: Date; to: Date },
  services: string[] | undefined,
): Promise<{ environment: string; deployments: number }[]> {
  const { rows } = await store.query<{ environment: string; deployments: string }>(
    `select environment, count(*) filter (where outcome = 'success') as deployments
     from dora_deliveries
     where kind = 'deploy' and deployed_at >= $1::timestamptz and deployed_at < $2::timestamptz
       and ($3::text[] is null or service = any($3))
     group by environment order by count(*) desc, environment`,
    [window.from.toISOString(), window.to.toISOString(), services ?? null],
  );
  return rows.map((r) => ({ environment: r.environment, deployments: Number(r.deployments) }));
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
 * The five metrics over a window, their DORA tiers, and optionally a series per bucket, read
 * with SQL aggregates from the rules' results as the background projector last left them.
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
  // Read first: work finished between this and the aggregates only makes the report fresher.
  const freshness = await readFreshness(store);
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
    calendarDaysBetween(query.from, query.to),
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
          calendarDaysBetween(bucket.from, bucket.to),
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
    ...(overall.changeFailureRate.denominator === 0
      ? {
          elsewhere: (await deploymentsPerEnvironment(store, query, services)).filter(
            (e) => e.environment !== scope.environment,
          ),
        }
      : {}),
    freshness,
  };
}

/** Which deployments the seed-compatible endpoint counts: every environment and service by default. */
export interface DeployFrequencyFilter {
  environment?: string | undefined;
  service?: string | undefined;
}

/**
 * The seed-compatible deployment frequency: successful deployments per service and bucket,
 * only buckets with deployments, newest last. Like the seed tutorial, every environment counts
 * unless one is asked for; deployments are the rules' (one per rollout, baselines not counted).
 */
export async function deployFrequency(
  store: Store,
  bucket: Bucket,
  filter: DeployFrequencyFilter = {},
): Promise<{ DeployName: string; Deployments: number; Time: string }[]> {
  const { rows } = await store.query<{ service: string; time: Date; deployments: number }>(
    `select service, date_trunc($1, deployed_at, 'UTC') as time, count(*)::int8 as deployments
     from dora_deliveries
     where kind = 'deploy' and outcome = 'success'
       and ($2::text is null or environment = $2) and ($3::text is null or service = $3)
     group by service, time order by time, service`,
    [bucket, filter.environment ?? null, filter.service ?? null],
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

/**
 * The metrics of every service in every environment over one window (for /metrics), or of the
 * streams of one environment and/or service.
 */
export async function metricsPerStream(
  store: Store,
  window: { from: Date; to: Date } & DeployFrequencyFilter,
): Promise<StreamMetrics[]> {
  const inputs = await queryMetricInputs(
    store,
    {
      from: window.from,
      to: window.to,
      environment: window.environment,
      services: window.service ? [window.service] : undefined,
    },
    { by: 'stream' },
  );
  const days = daysBetween(window.from, window.to);
  const calendarDays = calendarDaysBetween(window.from, window.to);
  return (await streamNames(store))
    .filter((s) => (window.environment ?? s.environment) === s.environment)
    .filter((s) => (window.service ?? s.service) === s.service)
    .map(({ service, environment }) => ({
      service,
      environment,
      metrics: metricsFromInputs(
        inputs.get(`${environment}\u0000${service}`) ?? emptyInputs,
        days,
        calendarDays,
      ),
    }));
}

export { listStreams };
