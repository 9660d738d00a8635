import type { Queryable } from '../store/index.js';
import { emptyInputs, type Bucket, type Distribution, type MetricInputs } from './metrics.js';

/** Which rows to aggregate: an environment (all when absent), some services, a window. */
export interface MetricScope {
  environment?: string | undefined;
  services?: string[] | undefined;
  from: Date;
  to: Date;
}

/** How to group: one total, per time bucket, or per stream (service × environment). */
export type Grouping = { by: 'total' } | { by: 'bucket'; bucket: Bucket } | { by: 'stream' };

/** A group's key: '' for the total, the bucket's start (ISO), or `environment\u0000service`. */
export type GroupKey = string;

interface Distributed {
  count: string | number;
  quantiles: number[] | null;
}

function toDistribution(row: Distributed | undefined): Distribution {
  const count = Number(row?.count ?? 0);
  const [median = null, p90 = null] = count > 0 ? (row?.quantiles ?? []) : [];
  return { count, median, p90 };
}

// The grouping columns, from a fixed list (never from input). $5 is the bucket name.
function groupColumns(grouping: Grouping, time: string): string {
  switch (grouping.by) {
    case 'total':
      return `''::text as g1, ''::text as g2`;
    case 'stream':
      return `environment as g1, service as g2`;
    case 'bucket':
      return `(extract(epoch from date_trunc($5::text, ${time}, 'UTC'))::int8)::text as g1,
              ''::text as g2`;
  }
}

function keyOf(grouping: Grouping, row: { g1: string; g2: string }): GroupKey {
  switch (grouping.by) {
    case 'total':
      return '';
    case 'stream':
      return `${row.g1}\u0000${row.g2}`;
    case 'bucket':
      return new Date(Number(row.g1) * 1000).toISOString();
  }
}

const QUANTILES = 'percentile_cont(array[0.5, 0.9]) within group';

/**
 * The metric inputs per group, from three aggregates over the rules' results (deliveries,
 * delivered commits) and the incidents. Exact: quantiles are PostgreSQL's percentile_cont,
 * the same linear interpolation as `quantile()`.
 */
export async function queryMetricInputs(
  db: Queryable,
  scope: MetricScope,
  grouping: Grouping,
): Promise<Map<GroupKey, MetricInputs>> {
  const params: unknown[] = [
    scope.environment ?? null,
    scope.services ?? null,
    scope.from.toISOString(),
    scope.to.toISOString(),
  ];
  if (grouping.by === 'bucket') params.push(grouping.bucket);
  const where = (time: string) =>
    `($1::text is null or environment = $1) and ($2::text[] is null or service = any($2))
     and ${time} >= $3::timestamptz and ${time} < $4::timestamptz`;

  const attempts = await db.query<{
    g1: string;
    g2: string;
    deployments: string;
    attempts: string;
    failed: string;
    rework: string;
    deploy_days: string;
    recovered: string;
    recovery: number[] | null;
  }>(
    `select ${groupColumns(grouping, 'deployed_at')},
            count(*) filter (where outcome = 'success') as deployments,
            count(*) as attempts,
            count(*) filter (where failed) as failed,
            count(*) filter (where outcome = 'success' and rework) as rework,
            count(distinct (deployed_at at time zone 'UTC')::date)
              filter (where outcome = 'success') as deploy_days,
            count(*) filter (where failed and restored_at is not null) as recovered,
            ${QUANTILES} (order by extract(epoch from restored_at - deployed_at)::float8)
              filter (where failed and restored_at is not null) as recovery
     from dora_deliveries
     where kind = 'deploy' and ${where('deployed_at')}
     group by g1, g2`,
    params,
  );
  const leadTimes = await db.query<{ g1: string; g2: string } & Distributed>(
    `select ${groupColumns(grouping, 'deployed_at')},
            count(*) as count, ${QUANTILES} (order by lead_time_seconds) as quantiles
     from dora_delivered_commits
     where ${where('deployed_at')}
     group by g1, g2`,
    params,
  );
  const restores = await db.query<{ g1: string; g2: string } & Distributed>(
    `select ${groupColumns(grouping, 'detected_at')},
            count(*) as count,
            ${QUANTILES} (order by extract(epoch from resolved_at - detected_at)::float8)
              as quantiles
     from incidents
     where resolved_at is not null and ${where('detected_at')}
       ${grouping.by === 'stream' || scope.services ? 'and service is not null' : ''}
     group by g1, g2`,
    params,
  );

  const inputs = new Map<GroupKey, MetricInputs>();
  const entry = (key: GroupKey) => {
    const existing = inputs.get(key);
    if (existing) return existing;
    const created = { ...emptyInputs };
    inputs.set(key, created);
    return created;
  };
  for (const row of attempts.rows) {
    Object.assign(entry(keyOf(grouping, row)), {
      deployments: Number(row.deployments),
      attempts: Number(row.attempts),
      failed: Number(row.failed),
      rework: Number(row.rework),
      deployDays: Number(row.deploy_days),
      recovery: toDistribution({ count: row.recovered, quantiles: row.recovery }),
    });
  }
  for (const row of leadTimes.rows) entry(keyOf(grouping, row)).leadTime = toDistribution(row);
  for (const row of restores.rows) entry(keyOf(grouping, row)).restore = toDistribution(row);
  return inputs;
}
