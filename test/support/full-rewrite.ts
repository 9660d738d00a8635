/**
 * What the tests comparing incremental projection with a full rewrite share: every derived row
 * in a stable order, and marking every stream and day stale from the beginning (so the next
 * projector pass recomputes them all, as a rules change would).
 */
import type { Store } from '../../src/store/index.js';

/** Every derived row, in a stable order. */
export async function derivedRows(store: Store) {
  const read = async (sql: string) =>
    JSON.parse(JSON.stringify((await store.query(sql)).rows)) as unknown[];
  return {
    deliveries: await read(`select * from dora_deliveries order by deployment_seq`),
    commits: await read(`select * from dora_delivered_commits order by deployment_seq, sha`),
    baselines: await read(`select * from dora_baselines order by deployment_seq`),
    daily: await read(`select * from dora_daily order by environment, day`),
    bins: await read(`select * from dora_daily_bins order by environment, day, measure, bin`),
  };
}

/** Marks every stream stale from the beginning, and every day that has a deployment. */
export async function markAllStale(store: Store): Promise<void> {
  await store.query(
    `insert into dora_stale_streams (environment, service, affected_from)
     select distinct environment, service, null::timestamptz from deployments
     on conflict (environment, service) do update set affected_from = null`,
  );
  await store.query(
    `insert into dora_stale_days (environment, day)
     select distinct environment, (deployed_at at time zone 'UTC')::date from deployments
     on conflict do nothing`,
  );
}
