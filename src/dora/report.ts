import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import { linkDeliveries, type Delivery, type DeliveryRules } from './delivery.js';
import { listStreams, loadFacts } from './fact-rows.js';
import type { IncidentFact } from './facts.js';
import {
  computeMetrics,
  computeSeries,
  type Bucket,
  type BucketedMetrics,
  type DoraMetrics,
} from './metrics.js';
import { projectFacts } from './projector.js';
import { classify, REPORT_YEARS, type ReportYear, type Tier, type TieredMetric } from './tiers.js';

/** How DORA is configured: the default environment, attribution and the service catalogue. */
export interface DoraSettings {
  environment: string;
  attributionWindowHours: number;
  /** Service → team and repository, for team filters and for deployments without a repository. */
  services: Record<string, { team?: string | undefined; repository?: string | undefined }>;
}

export const defaultDoraSettings: DoraSettings = {
  environment: 'production',
  attributionWindowHours: 24,
  services: {},
};

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

function rulesFrom(settings: DoraSettings): DeliveryRules {
  return {
    attributionWindowMs: settings.attributionWindowHours * 3600 * 1000,
    repositoryOf: (service) => settings.services[service]?.repository,
  };
}

function servicesOf(query: MetricsQuery, settings: DoraSettings): string[] | undefined {
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

/** Deliveries and incidents for a query's scope, with the rules applied. */
export async function deliveriesFor(
  store: Store,
  query: MetricsQuery,
  settings: DoraSettings,
): Promise<{ deliveries: Delivery[]; incidents: IncidentFact[] }> {
  if (!(query.from.getTime() < query.to.getTime())) {
    throw new CadenceError('invalid-input', { field: 'from', detail: 'from must be before to' });
  }
  await projectFacts(store);
  const services = servicesOf(query, settings);
  const facts = await loadFacts(store, {
    environment: query.environment ?? settings.environment,
    ...(services ? { services } : {}),
    until: query.to,
  });
  const deliveries = linkDeliveries(
    facts.deployments,
    facts.changes,
    facts.incidents,
    rulesFrom(settings),
  );
  const scoped = services ? new Set(services) : undefined;
  return {
    deliveries,
    incidents: facts.incidents.filter(
      (incident) => !scoped || (incident.service !== undefined && scoped.has(incident.service)),
    ),
  };
}

/** The five metrics over a window, their DORA tiers, and optionally a series per bucket. */
export async function metricsReport(
  store: Store,
  query: MetricsQuery,
  settings: DoraSettings = defaultDoraSettings,
): Promise<MetricsReport> {
  const { deliveries, incidents } = await deliveriesFor(store, query, settings);
  const window = { from: query.from, to: query.to };
  const overall = computeMetrics(deliveries, incidents, window);
  const tiers = Object.fromEntries(
    REPORT_YEARS.map((year) => [year, classify(overall, year)]),
  ) as MetricsReport['tiers'];
  return {
    scope: {
      ...(query.service ? { service: query.service } : {}),
      environment: query.environment ?? settings.environment,
      ...(query.team ? { team: query.team } : {}),
      from: query.from.toISOString(),
      to: query.to.toISOString(),
    },
    overall,
    tiers,
    ...(query.bucket
      ? {
          series: {
            bucket: query.bucket,
            points: computeSeries(deliveries, incidents, window, query.bucket),
          },
        }
      : {}),
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
  await projectFacts(store);
  const facts = await loadFacts(store, { until: window.to });
  const deliveries = linkDeliveries(
    facts.deployments,
    facts.changes,
    facts.incidents,
    rulesFrom(settings),
  );
  const streams = new Map<
    string,
    { service: string; environment: string; deliveries: Delivery[] }
  >();
  for (const delivery of deliveries) {
    const key = `${delivery.environment}\u0000${delivery.service}`;
    const stream = streams.get(key) ?? {
      service: delivery.service,
      environment: delivery.environment,
      deliveries: [],
    };
    stream.deliveries.push(delivery);
    streams.set(key, stream);
  }
  return [...streams.values()].map((stream) => ({
    service: stream.service,
    environment: stream.environment,
    metrics: computeMetrics(
      stream.deliveries,
      facts.incidents.filter(
        (i) => i.service === stream.service && i.environment === stream.environment,
      ),
      window,
    ),
  }));
}

export { listStreams };
