import type { Queryable, Store } from '../store/index.js';
import { durationBinSql, type DurationBin } from './duration-bins.js';
import { column } from './fact-rows.js';

/** One environment's UTC day, as 'YYYY-MM-DD'. */
export interface StaleDay {
  environment: string;
  day: string;
  /** When the oldest event behind the change was received (what freshness reports). */
  since?: Date;
}

/** What a day's rollup is computed from: a delivery, or a commit it delivered. */
export type RollupRow = {
  deliverySeq: number;
  deployedAt: Date;
} & (
  | {
      kind: string;
      outcome: string;
      failed: boolean;
      rework: boolean;
      restoredAt: Date | undefined;
    }
  | { sha: string; leadTimeSeconds: number }
);

function rollupKey(row: RollupRow): string {
  return 'sha' in row
    ? `commit ${row.deliverySeq} ${row.sha} ${row.leadTimeSeconds}`
    : `delivery ${row.deliverySeq} ${row.deployedAt.getTime()} ${row.kind} ${row.outcome} ` +
        `${row.failed} ${row.rework} ${row.restoredAt?.getTime() ?? '-'}`;
}

/**
 * The UTC days whose rollup inputs differ between a stream's rows before and after a rewrite
 * (in day order): only those need their rollup recomputed.
 */
export function changedDays(before: RollupRow[], after: RollupRow[]): string[] {
  const byDay = (rows: RollupRow[]) => {
    const days = new Map<string, string[]>();
    for (const row of rows) {
      const day = utcDay(row.deployedAt);
      const keys = days.get(day) ?? [];
      keys.push(rollupKey(row));
      days.set(day, keys);
    }
    return new Map([...days].map(([day, keys]) => [day, keys.sort().join('\n')]));
  };
  const old = byDay(before);
  const now = byDay(after);
  return [...new Set([...old.keys(), ...now.keys()])]
    .filter((day) => old.get(day) !== now.get(day))
    .sort();
}

/** The UTC day of an instant, as 'YYYY-MM-DD'. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Marks days whose rollup must be recomputed. Called in the transaction that rewrote the rows,
 * in key order (so two such transactions lock the marks in the same order and never deadlock).
 * The upsert keeps the mark locked until this transaction commits: a refresh skips it until
 * then, so it never recomputes a day from rows it cannot see yet.
 */
export async function markStaleDays(tx: Queryable, days: StaleDay[]): Promise<void> {
  if (days.length === 0) return;
  // marked_at keeps the earliest `since` (freshness reads it); any update locks the row.
  await tx.query(
    `insert into dora_stale_days (environment, day, marked_at)
     select environment, day, min(since)
     from unnest($1::text[], $2::date[], $3::timestamptz[]) as d(environment, day, since)
     group by environment, day
     order by environment, day
     on conflict (environment, day)
     do update set marked_at = least(dora_stale_days.marked_at, excluded.marked_at)`,
    [
      column(days, (d) => d.environment),
      column(days, (d) => d.day),
      column(days, (d) => (d.since ?? new Date()).toISOString()),
    ],
  );
}

/**
 * The claimed days, each joined laterally to its own rows: the planner then reads every day as
 * one range of the (environment, deployed_at) index. A plain join was planned as a hash join on
 * environment with the time range as a filter, reading every row of the environment per batch.
 */
const CLAIMED = `unnest($1::text[], $2::date[]) as c(environment, day)`;
const ON_CLAIMED_DAY = `r.environment = c.environment
  and r.deployed_at >= c.day::timestamp at time zone 'UTC'
  and r.deployed_at < (c.day + 1)::timestamp at time zone 'UTC'`;

/** The statements that recompute the claimed days' rollups ($1 environments, $2 days). */
export const ROLLUP_STATEMENTS = {
  daily: `insert into dora_daily (environment, day, deployments, attempts, failed, rework, recovered)
    select c.environment, c.day, r.deployments, r.attempts, r.failed, r.rework, r.recovered
    from ${CLAIMED} cross join lateral (
      select count(*) filter (where outcome = 'success') as deployments,
             count(*) as attempts,
             count(*) filter (where failed) as failed,
             count(*) filter (where outcome = 'success' and rework) as rework,
             count(*) filter (where failed and restored_at is not null) as recovered
      from dora_deliveries r
      where ${ON_CLAIMED_DAY} and kind = 'deploy'
    ) r
    where r.attempts > 0`,
  bins: `insert into dora_daily_bins (environment, day, measure, bin, count)
    select c.environment, c.day, 'lead_time', b.bin, b.count
    from ${CLAIMED} cross join lateral (
      select ${durationBinSql('lead_time_seconds')} as bin, count(*) as count
      from dora_delivered_commits r where ${ON_CLAIMED_DAY}
      group by 1
    ) b
    union all
    select c.environment, c.day, 'recovery', b.bin, b.count
    from ${CLAIMED} cross join lateral (
      select ${durationBinSql('extract(epoch from restored_at - deployed_at)::float8')} as bin,
             count(*) as count
      from dora_deliveries r
      where ${ON_CLAIMED_DAY} and kind = 'deploy' and failed and restored_at is not null
      group by 1
    ) b`,
};

/**
 * Recomputes every stale day's rollup from dora_deliveries and dora_delivered_commits, a batch
 * of days per transaction; replicas share the work through `for update skip locked`.
 * Returns how many days were recomputed.
 */
export async function refreshDailyRollups(store: Store, daysPerTransaction = 64): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await store.transaction(async (tx) => {
      const { rows } = await tx.query<{ environment: string; day: string }>(
        `select environment, day::text as day from dora_stale_days
         order by environment, day limit $1 for update skip locked`,
        [daysPerTransaction],
      );
      if (rows.length === 0) return 0;
      const params = [column(rows, (d) => d.environment), column(rows, (d) => d.day)];
      for (const table of ['dora_daily', 'dora_daily_bins']) {
        await tx.query(
          `delete from ${table} t using unnest($1::text[], $2::date[]) as c(environment, day)
           where t.environment = c.environment and t.day = c.day`,
          params,
        );
      }
      await tx.query(ROLLUP_STATEMENTS.daily, params);
      await tx.query(ROLLUP_STATEMENTS.bins, params);
      await tx.query(
        `delete from dora_stale_days s using unnest($1::text[], $2::date[]) as c(environment, day)
         where s.environment = c.environment and s.day = c.day`,
        params,
      );
      return rows.length;
    });
    total += done;
    if (done < daysPerTransaction) return total;
  }
}

/** Counts and bins of one group (the window, or one bucket of it). */
export interface RolledUpGroup {
  deployments: number;
  attempts: number;
  failed: number;
  rework: number;
  recovered: number;
  deployDays: number;
  leadTimeBins: DurationBin[];
  recoveryBins: DurationBin[];
}

/**
 * A window split into whole UTC days (read from the rollups) and the partial days at its edges
 * (read from the rows themselves). `fullFrom` ≤ `fullTo` always; equal when there is no whole day.
 */
export interface WindowSplit {
  from: Date;
  to: Date;
  fullFrom: Date;
  fullTo: Date;
}

const DAY_MS = 86_400_000;

export function splitWindow(window: { from: Date; to: Date }): WindowSplit {
  const fullFrom = new Date(Math.ceil(window.from.getTime() / DAY_MS) * DAY_MS);
  const fullTo = new Date(
    Math.max(Math.floor(window.to.getTime() / DAY_MS) * DAY_MS, fullFrom.getTime()),
  );
  return { from: window.from, to: window.to, fullFrom, fullTo };
}

/** Deploy attempts on the whole days of a window, from the rollups (how big a window is). */
export async function countRolledUpAttempts(
  db: Queryable,
  environment: string | null,
  split: WindowSplit,
): Promise<number> {
  const { rows } = await db.query<{ attempts: string | null }>(
    `select sum(attempts) as attempts from dora_daily
     where ($1::text is null or environment = $1) and day >= $2::date and day < $3::date`,
    [environment, utcDay(split.fullFrom), utcDay(split.fullTo)],
  );
  return Number(rows[0]?.attempts ?? 0);
}

/**
 * The metric inputs per group from the rollups plus the window's partial edge days.
 * `groupOfDay` / `groupOfTime` are SQL expressions giving the group key (text) for a rollup's
 * `day` and for a row's timestamp column; the caller builds both from a fixed list.
 */
export async function queryRolledUpGroups(
  db: Queryable,
  environment: string | null,
  split: WindowSplit,
  groupOf: { day: string; time: (column: string) => string },
  extraParams: unknown[],
): Promise<Map<string, RolledUpGroup>> {
  const params = [
    environment,
    utcDay(split.fullFrom),
    utcDay(split.fullTo),
    split.from.toISOString(),
    split.fullFrom.toISOString(),
    split.fullTo.toISOString(),
    split.to.toISOString(),
    ...extraParams,
  ];
  const env = `($1::text is null or environment = $1)`;
  const edges = (time: string) =>
    `((${time} >= $4::timestamptz and ${time} < $5::timestamptz)
      or (${time} >= $6::timestamptz and ${time} < $7::timestamptz))`;
  const counts = await db.query<{
    g: string;
    deployments: string;
    attempts: string;
    failed: string;
    rework: string;
    recovered: string;
    deploy_days: string;
  }>(
    `select g, sum(deployments) as deployments, sum(attempts) as attempts, sum(failed) as failed,
            sum(rework) as rework, sum(recovered) as recovered, sum(deploy_days) as deploy_days
     from (
       select ${groupOf.day} as g, deployments, attempts, failed, rework, recovered,
              (deployments > 0)::int4 as deploy_days
       from dora_daily where ${env} and day >= $2::date and day < $3::date
       union all
       select ${groupOf.time('deployed_at')} as g,
              count(*) filter (where outcome = 'success'), count(*),
              count(*) filter (where failed),
              count(*) filter (where outcome = 'success' and rework),
              count(*) filter (where failed and restored_at is not null),
              count(distinct (deployed_at at time zone 'UTC')::date)
                filter (where outcome = 'success')
       from dora_deliveries
       where kind = 'deploy' and ${env} and ${edges('deployed_at')}
       group by 1
     ) parts
     group by g`,
    params,
  );
  const bins = await db.query<{ g: string; measure: string; bin: number; count: string }>(
    `select g, measure, bin, sum(count) as count
     from (
       select ${groupOf.day} as g, measure, bin, count
       from dora_daily_bins where ${env} and day >= $2::date and day < $3::date
       union all
       select ${groupOf.time('deployed_at')}, 'lead_time', ${durationBinSql('lead_time_seconds')},
              count(*)
       from dora_delivered_commits where ${env} and ${edges('deployed_at')}
       group by 1, 2, 3
       union all
       select ${groupOf.time('deployed_at')}, 'recovery',
              ${durationBinSql('extract(epoch from restored_at - deployed_at)::float8')}, count(*)
       from dora_deliveries
       where kind = 'deploy' and failed and restored_at is not null
         and ${env} and ${edges('deployed_at')}
       group by 1, 2, 3
     ) parts
     group by g, measure, bin`,
    params,
  );

  const groups = new Map<string, RolledUpGroup>();
  const group = (key: string) => {
    let found = groups.get(key);
    if (!found) {
      found = {
        deployments: 0,
        attempts: 0,
        failed: 0,
        rework: 0,
        recovered: 0,
        deployDays: 0,
        leadTimeBins: [],
        recoveryBins: [],
      };
      groups.set(key, found);
    }
    return found;
  };
  for (const row of counts.rows) {
    Object.assign(group(row.g), {
      deployments: Number(row.deployments),
      attempts: Number(row.attempts),
      failed: Number(row.failed),
      rework: Number(row.rework),
      recovered: Number(row.recovered),
      deployDays: Number(row.deploy_days),
    });
  }
  for (const row of bins.rows) {
    const target = group(row.g);
    const list = row.measure === 'lead_time' ? target.leadTimeBins : target.recoveryBins;
    list.push({ bin: Number(row.bin), count: Number(row.count) });
  }
  return groups;
}
