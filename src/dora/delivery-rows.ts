import type { Queryable, Store } from '../store/index.js';
import {
  changedDays,
  markStaleDays,
  refreshDailyRollups,
  type RollupRow,
  type StaleDay,
} from './daily-rollups.js';
import { linkDeliveries, repositoryName, type Delivery } from './delivery.js';
import { column, loadStreamFacts } from './fact-rows.js';
import { projectFacts } from './projector.js';
import { configuredRepositories, rulesDigest, rulesFrom, type DoraSettings } from './settings.js';

interface Stream {
  environment: string;
  service: string;
}

/** A claimed stale stream: since when its oldest unprojected event was received. */
interface StaleStream extends Stream {
  since: Date;
}

/**
 * Brings `dora_deliveries` up to date: projects new CDEvents into facts, then recomputes the
 * rules for every stream a new fact touched (or every stream, when the configured rules
 * changed), then the daily rollups of the days those rewrites touched. Streams are claimed
 * with `for update skip locked`, so replicas share the work and never rewrite one stream at
 * the same time. Returns how many streams were recomputed.
 */
export async function refreshDeliveries(
  store: Store,
  settings: DoraSettings,
  streamsPerTransaction = 20,
): Promise<number> {
  // PGlite has one connection: shorter transactions let the intake's writes in between.
  await projectFacts(store, store.engine === 'pglite' ? 500 : 5000);
  await store.transaction(async (tx) => {
    await markAllStaleWhenRulesChanged(tx, settings);
    await expandStaleRepositories(tx, settings);
    await resolveIncidentEnvironments(tx, settings);
  });
  let total = 0;
  for (;;) {
    const done = await store.transaction(async (tx) => {
      const { rows } = await tx.query<StaleStream>(
        `select environment, service, since from dora_stale_streams
         order by environment, service limit $1 for update skip locked`,
        [streamsPerTransaction],
      );
      const touched: StaleDay[] = [];
      for (const stream of rows) {
        const days = await rewriteStream(tx, stream, settings);
        touched.push(...days.map((day) => ({ ...day, since: new Date(stream.since) })));
      }
      await markStaleDays(tx, touched);
      await tx.query(
        `delete from dora_stale_streams
         where (environment, service) in (select * from unnest($1::text[], $2::text[]))`,
        [column(rows, (s) => s.environment), column(rows, (s) => s.service)],
      );
      return rows.length;
    });
    total += done;
    if (done < streamsPerTransaction) break;
  }
  await refreshDailyRollups(store);
  return total;
}

async function markAllStaleWhenRulesChanged(tx: Queryable, settings: DoraSettings) {
  const digest = rulesDigest(settings);
  const { rows } = await tx.query<{ rules_digest: string }>(
    `select rules_digest from dora_rules_state where id = 1 for update`,
  );
  if (rows[0]?.rules_digest === digest) return;
  await tx.query(
    `insert into dora_stale_streams (environment, service)
     select distinct environment, service from deployments on conflict do nothing`,
  );
  await tx.query(
    `insert into dora_rules_state (id, rules_digest) values (1, $1)
     on conflict (id) do update set rules_digest = excluded.rules_digest`,
    [digest],
  );
}

/** A new change in a repository makes every stream deploying from it stale. */
async function expandStaleRepositories(tx: Queryable, settings: DoraSettings) {
  const { rows: moved } = await tx.query<{ repository: string; since: Date }>(
    `delete from dora_stale_repositories returning repository, since`,
  );
  // Checked here rather than in SQL: with nothing moved, the planner would still scan every
  // deployment to evaluate the condition (most reads have nothing moved).
  if (moved.length === 0) return;
  const repositories = moved.map((row) => row.repository);
  const configured = configuredRepositories(settings).filter((c) =>
    repositories.includes(c.repository),
  );
  // Streams without a repository of their own read the change repository named like them.
  const since = new Date(Math.min(...moved.map((row) => new Date(row.since).getTime())));
  await tx.query(
    `insert into dora_stale_streams (environment, service, since)
     select distinct d.environment, d.service, $4::timestamptz from deployments d
     where d.repository = any($1::text[]) or d.service = any($2::text[])
        or d.service = any($3::text[])
        or d.digest in (select a.digest from artifacts a where a.repository = any($1::text[]))
     on conflict do nothing`,
    [
      repositories,
      column(configured, (c) => c.service),
      repositories.map(repositoryName),
      since.toISOString(),
    ],
  );
}

/**
 * Incidents whose producer named no environment take their service's only environment (the
 * one it deploys to), else the producer's default (Alertmanager's `defaultEnvironment`), else
 * `dora.environment`; re-resolved as deployments arrive, and the streams an incident moves
 * between are recomputed.
 */
async function resolveIncidentEnvironments(tx: Queryable, settings: DoraSettings) {
  const { rows } = await tx.query<{ service: string | null; old: string; environment: string }>(
    `with candidates as (
       select i.incident_key, i.service, i.environment as old, i.environment_from as old_from,
              i.default_environment,
              (select min(d.environment) from deployments d where d.service = i.service
               having count(distinct d.environment) = 1) as only_environment
       from incidents i where i.environment_from <> 'label'
     ),
     resolved as (
       select incident_key, service, old, old_from,
              coalesce(only_environment, default_environment, $1) as environment,
              case when only_environment is null then 'default' else 'service' end as source
       from candidates
     ),
     moved as (
       update incidents i
       set environment = r.environment, environment_from = r.source
       from resolved r
       where i.incident_key = r.incident_key and (r.environment <> r.old or r.source <> r.old_from)
       returning r.service, r.old, r.environment
     )
     select * from moved`,
    [settings.environment],
  );
  const streams = rows.flatMap((r) =>
    r.service
      ? [
          { environment: r.old, service: r.service },
          { environment: r.environment, service: r.service },
        ]
      : [],
  );
  if (streams.length === 0) return;
  await tx.query(
    `insert into dora_stale_streams (environment, service)
     select distinct * from unnest($1::text[], $2::text[]) on conflict do nothing`,
    [column(streams, (s) => s.environment), column(streams, (s) => s.service)],
  );
}

/** Rewrites one stream's rows; returns the days whose rollups that changed (old and new rows). */
async function rewriteStream(
  tx: Queryable,
  stream: Stream,
  settings: DoraSettings,
): Promise<StaleDay[]> {
  // The deployments' own repositories, and those of the builds of the digests they run.
  const { rows } = await tx.query<{ repository: string }>(
    `select distinct repository from deployments
     where environment = $1 and service = $2 and repository is not null
     union
     select distinct coalesce(a.repository, c.repository) from artifacts a
     left join changes c on c.change_key = a.change_key
     where a.digest in (select digest from deployments
                        where environment = $1 and service = $2 and digest is not null)
       and coalesce(a.repository, c.repository) is not null`,
    [stream.environment, stream.service],
  );
  const configured = settings.services[stream.service]?.repository;
  const repositories = [...new Set([...rows.map((r) => r.repository), configured ?? []].flat())];
  if (repositories.length === 0) {
    // The fallback the rules use: a change repository named like the service (`acme/web`).
    const { rows: named } = await tx.query<{ repository: string }>(
      `select distinct repository from changes
       where repository = $1 or right(repository, length($1) + 1) = '/' || $1`,
      [stream.service],
    );
    repositories.push(...named.map((r) => r.repository));
  }
  const facts = await loadStreamFacts(tx, { ...stream, repositories });
  const deliveries = linkDeliveries(
    facts.deployments,
    facts.changes,
    facts.incidents,
    rulesFrom(settings),
    facts.artifacts,
  ).filter((d) => d.environment === stream.environment && d.service === stream.service);
  // Only the days whose rollup inputs changed are marked: a new deployment usually changes its
  // own day (and the day of a deployment it restored), not every day the stream deployed.
  const { rows: oldCommits } = await tx.query<{
    deployment_seq: string;
    sha: string;
    lead_time_seconds: number;
    deployed_at: Date;
  }>(
    `delete from dora_delivered_commits where environment = $1 and service = $2
     returning deployment_seq, sha, lead_time_seconds, deployed_at`,
    [stream.environment, stream.service],
  );
  const { rows: oldDeliveries } = await tx.query<{
    deployment_seq: string;
    kind: string;
    outcome: string;
    deployed_at: Date;
    failed: boolean;
    rework: boolean;
    restored_at: Date | null;
  }>(
    `delete from dora_deliveries where environment = $1 and service = $2
     returning deployment_seq, kind, outcome, deployed_at, failed, rework, restored_at`,
    [stream.environment, stream.service],
  );
  if (deliveries.length > 0) await insertDeliveries(tx, deliveries);
  const before: RollupRow[] = [
    ...oldDeliveries.map((r) => ({
      deliverySeq: Number(r.deployment_seq),
      deployedAt: new Date(r.deployed_at),
      kind: r.kind,
      outcome: r.outcome,
      failed: r.failed,
      rework: r.rework,
      restoredAt: r.restored_at ? new Date(r.restored_at) : undefined,
    })),
    ...oldCommits.map((r) => ({
      deliverySeq: Number(r.deployment_seq),
      deployedAt: new Date(r.deployed_at),
      sha: r.sha,
      leadTimeSeconds: Number(r.lead_time_seconds),
    })),
  ];
  const after: RollupRow[] = deliveries.flatMap((d) => [
    {
      deliverySeq: d.seq,
      deployedAt: d.deployedAt,
      kind: d.kind,
      outcome: d.outcome,
      failed: d.failed,
      rework: d.rework,
      restoredAt: d.restoredAt,
    },
    ...d.commits.map((c) => ({
      deliverySeq: d.seq,
      deployedAt: d.deployedAt,
      sha: c.sha,
      leadTimeSeconds: c.leadTimeSeconds,
    })),
  ]);
  return changedDays(before, after).map((day) => ({ environment: stream.environment, day }));
}

async function insertDeliveries(tx: Queryable, deliveries: Delivery[]) {
  await tx.query(
    `insert into dora_deliveries (deployment_seq, service, environment, kind, outcome,
                                  deployed_at, failed, failure_reasons, restored_at, rework,
                                  revision, repository, evidence, notes)
     select seq, service, environment, kind, outcome, deployed_at, failed,
            coalesce((select array_agg(r) from jsonb_array_elements_text(reasons) r), '{}'),
            restored_at, rework, revision, repository,
            coalesce((select array_agg(e::int8) from jsonb_array_elements_text(evidence) e), '{}'),
            coalesce((select array_agg(n) from jsonb_array_elements_text(notes) n), '{}')
     from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                 $7::bool[], $8::jsonb[], $9::timestamptz[], $10::bool[], $11::text[],
                 $12::text[], $13::jsonb[], $14::jsonb[])
          as d(seq, service, environment, kind, outcome, deployed_at, failed, reasons,
               restored_at, rework, revision, repository, evidence, notes)`,
    [
      column(deliveries, (d) => d.seq),
      column(deliveries, (d) => d.service),
      column(deliveries, (d) => d.environment),
      column(deliveries, (d) => d.kind),
      column(deliveries, (d) => d.outcome),
      column(deliveries, (d) => d.deployedAt.toISOString()),
      column(deliveries, (d) => d.failed),
      column(deliveries, (d) => JSON.stringify(d.failureReasons)),
      column(deliveries, (d) => d.restoredAt?.toISOString() ?? null),
      column(deliveries, (d) => d.rework),
      column(deliveries, (d) => d.revision ?? null),
      column(deliveries, (d) => d.repository ?? null),
      column(deliveries, (d) => JSON.stringify(d.evidence.map((e) => e.seq))),
      column(deliveries, (d) => JSON.stringify(d.notes)),
    ],
  );
  const commits = deliveries.flatMap((d) => d.commits.map((commit) => ({ delivery: d, commit })));
  if (commits.length === 0) return;
  await tx.query(
    `insert into dora_delivered_commits (deployment_seq, sha, committed_at, lead_time_seconds,
                                         service, environment, deployed_at)
     select * from unnest($1::int8[], $2::text[], $3::timestamptz[], $4::float8[], $5::text[],
                          $6::text[], $7::timestamptz[])`,
    [
      column(commits, (c) => c.delivery.seq),
      column(commits, (c) => c.commit.sha),
      column(commits, (c) => c.commit.committedAt.toISOString()),
      column(commits, (c) => c.commit.leadTimeSeconds),
      column(commits, (c) => c.delivery.service),
      column(commits, (c) => c.delivery.environment),
      column(commits, (c) => c.delivery.deployedAt.toISOString()),
    ],
  );
}
