import type { Queryable } from '../store/index.js';
import {
  countRolledUpAttempts,
  queryRolledUpGroups,
  splitWindow,
  type RolledUpGroup,
  type WindowSplit,
} from './daily-rollups.js';
import { quantileOfBins, type DurationBin } from './duration-bins.js';
import type { Bucket } from '../statistics/index.js';
import { emptyInputs, type Distribution, type MetricInputs } from './metrics.js';

/** Which rows to aggregate: an environment (all when absent), some services, a window. */
export interface MetricScope {
  environment?: string | undefined;
  services?: string[] | undefined;
  from: Date;
  to: Date;
  /**
   * Above this many deploy attempts in the window (every service), the counts come from the
   * daily rollups and the quantiles from their duration bins (within 1 %); at or below it,
   * everything is exact. Default DEFAULT_EXACT_LIMIT.
   */
  exactLimit?: number | undefined;
}

export const DEFAULT_EXACT_LIMIT = 50_000;

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
 * The metric inputs per group. Over every service and a window holding more than
 * `scope.exactLimit` deploy attempts they are read from the daily rollups (exact counts,
 * quantiles within 1 %); otherwise from three exact aggregates over the rules' results.
 */
export async function queryMetricInputs(
  db: Queryable,
  scope: MetricScope,
  grouping: Grouping,
): Promise<Map<GroupKey, MetricInputs>> {
  if (grouping.by !== 'stream' && !scope.services) {
    const split = splitWindow(scope);
    if (split.fullTo.getTime() > split.fullFrom.getTime()) {
      const size = await countRolledUpAttempts(db, scope.environment ?? null, split);
      if (size > (scope.exactLimit ?? DEFAULT_EXACT_LIMIT)) {
        return rolledUpInputs(db, scope, grouping, split);
      }
    }
  }
  return exactInputs(db, scope, grouping);
}

function scopeParams(scope: MetricScope, grouping: Grouping): unknown[] {
  const params: unknown[] = [
    scope.environment ?? null,
    scope.services ?? null,
    scope.from.toISOString(),
    scope.to.toISOString(),
  ];
  if (grouping.by === 'bucket') params.push(grouping.bucket);
  return params;
}

const scopeWhere = (time: string) =>
  `($1::text is null or environment = $1) and ($2::text[] is null or service = any($2))
   and ${time} >= $3::timestamptz and ${time} < $4::timestamptz`;

/** Time to restore: incidents detected in the window and resolved (always exact: few rows). */
async function queryRestores(
  db: Queryable,
  scope: MetricScope,
  grouping: Grouping,
): Promise<({ g1: string; g2: string } & Distributed)[]> {
  const { rows } = await db.query<{ g1: string; g2: string } & Distributed>(
    `select ${groupColumns(grouping, 'detected_at')},
            count(*) as count,
            ${QUANTILES} (order by extract(epoch from resolved_at - detected_at)::float8)
              as quantiles
     from incidents
     where resolved_at is not null and ${scopeWhere('detected_at')}
       ${grouping.by === 'stream' || scope.services ? 'and service is not null' : ''}
     group by g1, g2`,
    scopeParams(scope, grouping),
  );
  return rows;
}

function binnedDistribution(bins: DurationBin[], count: number): Distribution {
  if (count === 0) return { count, median: null, p90: null };
  return {
    count,
    median: quantileOfBins(bins, 0.5),
    p90: quantileOfBins(bins, 0.9),
    approximate: true,
  };
}

async function rolledUpInputs(
  db: Queryable,
  scope: MetricScope,
  grouping: Grouping,
  split: WindowSplit,
): Promise<Map<GroupKey, MetricInputs>> {
  // $8 is the bucket name (the rollup query's own parameters come first).
  const groupOf =
    grouping.by === 'bucket'
      ? {
          day: `(extract(epoch from date_trunc($8::text, day::timestamp))::int8)::text`,
          time: (time: string) =>
            `(extract(epoch from date_trunc($8::text, ${time}, 'UTC'))::int8)::text`,
        }
      : { day: `''::text`, time: () => `''::text` };
  const groups = await queryRolledUpGroups(
    db,
    scope.environment ?? null,
    split,
    groupOf,
    grouping.by === 'bucket' ? [grouping.bucket] : [],
  );
  const inputs = new Map<GroupKey, MetricInputs>();
  const inputsOf = (group: RolledUpGroup): MetricInputs => ({
    deployments: group.deployments,
    attempts: group.attempts,
    failed: group.failed,
    rework: group.rework,
    deployDays: group.deployDays,
    leadTime: binnedDistribution(
      group.leadTimeBins,
      group.leadTimeBins.reduce((sum, b) => sum + b.count, 0),
    ),
    recovery: binnedDistribution(group.recoveryBins, group.recovered),
    restore: emptyInputs.restore,
  });
  for (const [g, group] of groups) inputs.set(keyOf(grouping, { g1: g, g2: '' }), inputsOf(group));
  for (const row of await queryRestores(db, scope, grouping)) {
    const key = keyOf(grouping, row);
    inputs.set(key, { ...(inputs.get(key) ?? emptyInputs), restore: toDistribution(row) });
  }
  return inputs;
}

/** Exact: quantiles are PostgreSQL's percentile_cont, the same interpolation as `quantile()`. */
async function exactInputs(
  db: Queryable,
  scope: MetricScope,
  grouping: Grouping,
): Promise<Map<GroupKey, MetricInputs>> {
  const params = scopeParams(scope, grouping);
  const where = scopeWhere;
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
  const restores = await queryRestores(db, scope, grouping);

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
  for (const row of restores) entry(keyOf(grouping, row)).restore = toDistribution(row);
  return inputs;
}
