import type { Store } from '../store/index.js';
import { deployIntervalRows, round6 } from './cadence-report.js';
import { getRepository, loadHistory } from './commit-rows.js';
import { pairCauses } from './pairing.js';
import { classifyHistory, parseRules } from './rules.js';

/** What was written for one repository. */
export interface MaterializedCounts {
  events: number;
  pairs: number;
  intervals: number;
}

/**
 * Recomputes a repository's `cadence_events`, `cadence_pairs` and `cadence_intervals` from its
 * stored rules, in one transaction (readers see the old rows or the new, never a mix). Run after
 * every import, so a new commit or new rules (`git import --rules`) reach Grafana, `cadence sql`
 * and the dashboard as they reach the report; the rows come from the same functions the report
 * uses. Without stored rules the tables hold nothing for the repository.
 *
 * @example
 * await materializeCadence(store, 'gitops') // { events: 12, pairs: 7, intervals: 3 }
 */
export async function materializeCadence(
  store: Store,
  repository: string,
): Promise<MaterializedCounts> {
  const stored = await getRepository(store, repository);
  const counts: MaterializedCounts = { events: 0, pairs: 0, intervals: 0 };
  const rules = stored?.rulesYaml ? parseRules(stored.rulesYaml) : null;
  const events = rules ? classifyHistory(rules, await loadHistory(store, repository)).events : [];
  // Pending ages are not stored (they change by the minute): `now` only decides nothing here.
  const { updates, pending } = rules
    ? pairCauses(events, rules.production, new Date())
    : { updates: [], pending: [] };
  const intervals = rules
    ? rules.environments.flatMap((environment) => deployIntervalRows(events, environment))
    : [];
  await store.transaction(async (tx) => {
    for (const table of ['cadence_events', 'cadence_pairs', 'cadence_intervals']) {
      await tx.query(`delete from ${table} where repository = $1`, [repository]);
    }
    if (events.length > 0) {
      await tx.query(
        `insert into cadence_events (repository, commit_id, at, role, purpose, package,
                                     environment, production)
         select $1, e.*, e.environment is not distinct from $8::text
         from unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                     $7::text[]) as e(commit_id, at, role, purpose, package, environment)`,
        [
          repository,
          events.map((e) => e.commit),
          events.map((e) => e.at.toISOString()),
          events.map((e) => e.role),
          events.map((e) => e.purpose),
          events.map((e) => e.package),
          events.map((e) => e.environment),
          rules?.production,
        ],
      );
    }
    const pairs = [
      ...updates.map((u) => ({ ...u, deploy: u.deploy as typeof u.deploy | null })),
      ...pending.map((p) => ({
        package: p.package,
        cause: p.cause,
        deploy: null,
        leadTimeDays: null,
      })),
    ];
    if (pairs.length > 0) {
      await tx.query(
        `insert into cadence_pairs (repository, package, cause_commit, cause_at, deploy_commit,
                                    deploy_at, lead_time_days)
         select $1, * from unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[],
                                  $6::timestamptz[], $7::float8[])`,
        [
          repository,
          pairs.map((p) => p.package),
          pairs.map((p) => p.cause.commit),
          pairs.map((p) => p.cause.at.toISOString()),
          pairs.map((p) => p.deploy?.commit ?? null),
          pairs.map((p) => p.deploy?.at.toISOString() ?? null),
          pairs.map((p) => (p.leadTimeDays === null ? null : round6(p.leadTimeDays))),
        ],
      );
    }
    if (intervals.length > 0) {
      await tx.query(
        `insert into cadence_intervals (repository, environment, production, commit_id, at,
                                        previous_commit_id, previous_at, minutes)
         select $1, i.environment, i.environment = $8::text, i.commit_id, i.at,
                i.previous_commit_id, i.previous_at, i.minutes
         from unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[],
                     $6::timestamptz[], $7::float8[])
           as i(environment, commit_id, at, previous_commit_id, previous_at, minutes)`,
        [
          repository,
          intervals.map((i) => i.environment),
          intervals.map((i) => i.commit),
          intervals.map((i) => i.at),
          intervals.map((i) => i.previousCommit),
          intervals.map((i) => i.previousAt),
          intervals.map((i) => i.minutes),
          rules?.production,
        ],
      );
    }
  });
  counts.events = events.length;
  counts.pairs = updates.length + pending.length;
  counts.intervals = intervals.length;
  return counts;
}
