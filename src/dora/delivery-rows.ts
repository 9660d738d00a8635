import type { Queryable, Store } from '../store/index.js';
import {
  changedDays,
  markStaleDays,
  refreshDailyRollups,
  type RollupRow,
  type StaleDay,
} from './daily-rollups.js';
import {
  linkStreams,
  repositoryName,
  type BaselineRow,
  type Delivery,
  type PriorState,
} from './delivery.js';
// One stream key for the maps this module and stream-suffix.ts exchange (deliveredBefore's).
import { deliveredBefore, keyOf as streamKey, push, readSuffixes } from './stream-suffix.js';
import { abbreviationsOf, isAbbreviation } from './deployment-identity.js';
import {
  column,
  loadStreamFacts,
  markStaleStreams,
  type IncidentScope,
  type StaleMark,
} from './fact-rows.js';
import { projectFacts } from './projector.js';
import { configuredRepositories, rulesDigest, rulesFrom, type DoraSettings } from './settings.js';

interface Stream {
  environment: string;
  service: string;
}

/**
 * A claimed stale stream: since when its oldest unprojected event was received, and the earliest
 * deployment time its new facts can affect (null: from the beginning).
 */
interface StaleStream extends Stream {
  since: Date;
  affected_from: Date | null;
}

/**
 * What this process last did for a store: the rules digest it found stored (or stored) and the
 * default environment it resolved every incident with. While both hold, a pass re-resolves only
 * the incidents new facts can move, and an idle pass is one query.
 */
const confirmed = new WeakMap<Store, { digest: string; environment: string }>();

/**
 * Brings `dora_deliveries` up to date: projects new CDEvents into facts, then recomputes the
 * rules for every stream a new fact touched (from the earliest deployment it can change; every
 * stream from the beginning when the configured rules changed), then the daily rollups of the
 * days those rewrites touched. Streams are claimed with `for update skip locked`, so replicas
 * share the work and never rewrite one stream at the same time. Returns how many streams were
 * recomputed.
 */
export async function refreshDeliveries(
  store: Store,
  settings: DoraSettings,
  streamsPerTransaction = 20,
): Promise<number> {
  const digest = rulesDigest(settings);
  const known = confirmed.get(store);
  // One query when there is nothing to do (an idle projector on every replica runs this often).
  const { rows: state } = await store.query<{ digest: string | null; pending: boolean }>(
    `select (select rules_digest from dora_rules_state where id = 1) as digest,
            exists (select 1 from cdevents where projected_at is null)
            or exists (select 1 from dora_stale_streams)
            or exists (select 1 from dora_stale_repositories)
            or exists (select 1 from dora_stale_days) as pending`,
  );
  const current =
    known?.digest === digest &&
    known.environment === settings.environment &&
    state[0]?.digest === digest;
  if (current && !state[0]?.pending) return 0;

  // PGlite has one connection: shorter transactions let the intake's writes in between.
  await projectFacts(store, store.engine === 'pglite' ? 500 : 5000, (tx, scope) =>
    resolveIncidentEnvironments(tx, settings, scope),
  );
  await store.transaction(async (tx) => {
    const marks: StaleMark[] = [];
    if (!current) {
      // Incidents first, as projectFacts does: incidents by key, then marks in one statement.
      marks.push(...(await resolveIncidentEnvironments(tx, settings)));
      marks.push(...(await staleWhenRulesChanged(tx, digest)));
    }
    marks.push(...(await expandStaleRepositories(tx, settings)));
    await markStaleStreams(tx, marks, new Date());
  });
  if (!current) confirmed.set(store, { digest, environment: settings.environment });
  let total = 0;
  for (;;) {
    const done = await store.transaction(async (tx) => {
      const { rows } = await tx.query<StaleStream>(
        `select environment, service, since, affected_from from dora_stale_streams
         order by environment, service limit $1 for update skip locked`,
        [streamsPerTransaction],
      );
      await markStaleDays(tx, await rewriteStreams(tx, rows, settings));
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

/** Every stream, from the beginning, when the rules differ from those the rows were made with. */
async function staleWhenRulesChanged(tx: Queryable, digest: string): Promise<StaleMark[]> {
  const { rows } = await tx.query<{ rules_digest: string }>(
    `select rules_digest from dora_rules_state where id = 1 for update`,
  );
  if (rows[0]?.rules_digest === digest) return [];
  await tx.query(
    `insert into dora_rules_state (id, rules_digest) values (1, $1)
     on conflict (id) do update set rules_digest = excluded.rules_digest`,
    [digest],
  );
  const { rows: streams } = await tx.query<Stream>(
    `select distinct environment, service from deployments`,
  );
  return streams.map((s) => ({ ...s, from: null }));
}

/**
 * New changes in a repository move its history from their merge on: the deliveries that can
 * change are those of a revision merged from then on (their commits run from the previous
 * revision up to theirs, and a revision stands at its last change), and everything after them.
 * So each stream is marked from its first deployment of such a revision, its own or the one
 * its image's build names, abbreviations included; one without a repository of its own, which
 * reads the change repository named like it, from the beginning (a second repository so named
 * ends that fallback for every row).
 */
async function expandStaleRepositories(
  tx: Queryable,
  settings: DoraSettings,
): Promise<StaleMark[]> {
  const { rows: moved } = await tx.query<{
    repository: string;
    since: Date;
    merged_from: Date | null;
  }>(
    // In name order, the order projectors insert them in.
    `delete from dora_stale_repositories
     where repository in (select repository from dora_stale_repositories
                          order by repository for update)
     returning repository, since, merged_from`,
  );
  // Checked here rather than in SQL: with nothing moved, the planner would still scan every
  // deployment to evaluate the condition (most passes have nothing moved).
  if (moved.length === 0) return [];
  const repositories = moved.map((row) => row.repository);
  const configured = configuredRepositories(settings).filter((c) =>
    repositories.includes(c.repository),
  );
  const since = new Date(Math.min(...moved.map((row) => new Date(row.since).getTime())));
  const datable = moved.filter((row) => row.merged_from !== null);
  const params = [
    column(datable, (row) => row.repository),
    column(datable, (row) => new Date(row.merged_from!).toISOString()),
  ];
  // The revisions merged from each repository's earliest new change on.
  const { rows: merged } = await tx.query<{ repository: string; revision: string }>(
    `select distinct c.repository, c.revision
     from unnest($1::text[], $2::timestamptz[]) as m(repository, merged_from)
     join changes c on c.repository = m.repository and c.merged_at >= m.merged_from
     where c.revision is not null`,
    params,
  );
  // A change revision that abbreviates a sha (7 to 39 hex digits) stands for the longer ones it
  // begins: its repository is marked from the beginning (rare: forges give full shas). Other
  // revisions (`v1.2.3`, `r42`) only ever match whole.
  const abbreviated = merged.filter((row) => isAbbreviation(row.revision));
  const whole = [
    ...moved.filter((row) => row.merged_from === null).map((row) => row.repository),
    ...abbreviated.map((row) => row.repository),
  ];
  // From the beginning: those repositories' streams, and the streams without a repository of
  // their own that read one named like them (found through the small reporters table).
  const { rows: wholly } = await tx.query<Stream>(
    `select d.environment, d.service from deployments d
     where $1::text[] <> '{}' and (d.repository = any($1::text[]) or d.service = any($2::text[])
        or d.digest in (select a.digest from artifacts a where a.repository = any($1::text[])))
     union
     select r.environment, r.service from dora_stream_reporters r
     where r.service = any($3::text[]) and not (r.service = any($4::text[]))
       and not exists (select 1 from deployments o
                       where o.environment = r.environment and o.service = r.service
                         and o.repository is not null)`,
    [
      whole,
      column(
        configured.filter((c) => whole.includes(c.repository)),
        (c) => c.service,
      ),
      repositories.map(repositoryName),
      column(configuredRepositories(settings), (c) => c.service),
    ],
  );
  // Each revision and its abbreviations (as sameRevision takes them), looked up among what
  // deployments and their builds name (listed here, so the planner sees how few they are).
  const names = [
    ...new Set(merged.flatMap(({ revision }) => [revision, ...abbreviationsOf(revision)])),
  ];
  const { rows: partly } =
    names.length === 0
      ? { rows: [] }
      : await tx.query<{ environment: string; service: string; affected_from: Date }>(
          `select environment, service, min(deployed_at) as affected_from from (
             select environment, service, deployed_at from deployments
             where revision = any($1::text[])
             union all
             select d.environment, d.service, d.deployed_at from deployments d
             where d.digest in (
               select digest from artifacts where revision = any($1::text[])
               union
               select a.digest from changes k join artifacts a on a.change_key = k.change_key
               where a.revision is null and k.revision = any($1::text[]))
           ) named group by environment, service`,
          [names],
        );
  return [
    ...wholly.map((s) => ({ ...s, from: null, since })),
    ...partly.map((s) => ({ ...s, from: new Date(s.affected_from), since })),
  ];
}

/**
 * Incidents whose producer named no environment take their service's only environment (the
 * one it deploys to), else the producer's default (Alertmanager's `defaultEnvironment`), else
 * `dora.environment`; re-resolved as deployments and incidents arrive (only those of `scope`:
 * the services and keys a batch of facts touched), and the streams an incident moves between
 * are recomputed from the beginning (the stream it left no longer says what it attributed).
 * Locks the incidents by key before updating them, the order every projector takes.
 */
async function resolveIncidentEnvironments(
  tx: Queryable,
  settings: DoraSettings,
  scope?: IncidentScope,
): Promise<StaleMark[]> {
  const within = scope
    ? `and (i.incident_key = any($2::text[]) or i.service = any($3::text[]))`
    : `and $2::text[] is null and $3::text[] is null`;
  const params = [settings.environment, scope?.keys ?? null, scope?.services ?? null];
  await tx.query(
    `select i.incident_key from incidents i
     where $1::text is not null and i.environment_from <> 'label' ${within}
     order by i.incident_key for update`,
    params,
  );
  const { rows } = await tx.query<{ service: string | null; old: string; environment: string }>(
    `with candidates as (
       select i.incident_key, i.service, i.environment as old, i.environment_from as old_from,
              i.default_environment,
              (select min(d.environment) from deployments d where d.service = i.service
               having count(distinct d.environment) = 1) as only_environment
       from incidents i where i.environment_from <> 'label' ${within}
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
    params,
  );
  // Only the environment changes deliveries (not where it came from).
  return rows.flatMap((r) =>
    r.service && r.environment !== r.old
      ? [
          { environment: r.old, service: r.service, from: null },
          { environment: r.environment, service: r.service, from: null },
        ]
      : [],
  );
}

/**
 * Rewrites each stream's rows from the cut its new facts allow (streamCut; the whole stream when
 * marked from the beginning), keeping the rows before it; returns the days whose rollups that
 * changed (old and new rows), with the stream's `since`. From a cut, only the facts from shortly
 * before it are read, with what the rules carry from before taken from the stored rows
 * (stream-suffix.ts), so a new deployment costs the same in a stream of ten deployments as in
 * one of ten thousand; and each step is one statement for all the streams.
 */
async function rewriteStreams(
  tx: Queryable,
  streams: readonly StaleStream[],
  settings: DoraSettings,
): Promise<StaleDay[]> {
  const rules = rulesFrom(settings);
  const scopeOf = (stream: Stream) => ({
    environment: stream.environment,
    service: stream.service,
    configuredRepository: settings.services[stream.service]?.repository,
  });
  const marked = streams.filter((s) => s.affected_from !== null);
  const reads = await readSuffixes(
    tx,
    marked.map((s) => ({ scope: scopeOf(s), marked: new Date(s.affected_from!) })),
    rules,
  );
  const suffixOf = new Map(marked.map((s, i) => [streamKey(s), reads[i]]));
  const rewrites = [];
  for (const stream of streams) {
    const suffix = suffixOf.get(streamKey(stream));
    const facts = suffix ? suffix.facts : await loadStreamFacts(tx, scopeOf(stream));
    const link = (prior?: PriorState) =>
      linkStreams(facts.deployments, facts.changes, facts.incidents, rules, facts.artifacts, prior);
    rewrites.push({ stream, suffix, link, linked: link(suffix?.prior) });
  }
  // A commit counts once per stream: those credited from the point a stream was read from that
  // it delivered before that point are not credited again.
  const delivered = await deliveredBefore(
    tx,
    rewrites.flatMap(({ stream, suffix, linked }) => {
      if (!suffix) return [];
      const own = (item: Stream) => streamKey(item) === streamKey(stream);
      const shas = [
        ...linked.deliveries.filter(own).flatMap((d) => d.commits.map((c) => c.sha)),
        ...linked.baselines.filter(own).flatMap((b) => b.shas),
      ];
      return [{ scope: scopeOf(stream), from: suffix.from, shas }];
    }),
  );
  const deliveries: Delivery[] = [];
  const baselines: BaselineRow[] = [];
  for (const rewrite of rewrites) {
    const { stream, suffix } = rewrite;
    const before = delivered.get(streamKey(stream));
    const linked =
      suffix && before ? rewrite.link({ ...suffix.prior, delivered: before }) : rewrite.linked;
    const cut = suffix?.cut;
    // Rows before the cut stay: the same rows a full rewrite would write.
    const kept = (item: Stream & { deployedAt: Date }) =>
      streamKey(item) === streamKey(stream) && (cut === undefined || item.deployedAt >= cut);
    deliveries.push(...linked.deliveries.filter(kept));
    baselines.push(...linked.baselines.filter(kept));
  }

  const cuts = [
    column([...streams], (s) => s.environment),
    column([...streams], (s) => s.service),
    column([...streams], (s) => suffixOf.get(streamKey(s))?.cut.toISOString() ?? null),
  ];
  const suffixes = `with s as (select * from unnest($1::text[], $2::text[], $3::timestamptz[])
                                 as s(environment, service, cut))`;
  // One index range per stream (an `or` on the cut would scan each stream's rows).
  const within = `x.environment = s.environment and x.service = s.service
                  and x.deployed_at >= coalesce(s.cut, '-infinity'::timestamptz)`;
  // Only the days whose rollup inputs changed are marked: a new deployment usually changes its
  // own day (and the day of a deployment it restored), not every day the stream deployed.
  const { rows: oldCommits } = await tx.query<{
    environment: string;
    service: string;
    deployment_seq: string;
    sha: string;
    lead_time_seconds: number;
    deployed_at: Date;
  }>(
    `${suffixes}, baselines as (delete from dora_baselines x using s where ${within})
     delete from dora_delivered_commits x using s where ${within}
     returning x.environment, x.service, x.deployment_seq, x.sha, x.lead_time_seconds,
               x.deployed_at`,
    cuts,
  );
  const { rows: oldDeliveries } = await tx.query<{
    environment: string;
    service: string;
    deployment_seq: string;
    kind: string;
    outcome: string;
    deployed_at: Date;
    failed: boolean;
    rework: boolean;
    restored_at: Date | null;
  }>(
    `${suffixes} delete from dora_deliveries x using s where ${within}
     returning x.environment, x.service, x.deployment_seq, x.kind, x.outcome, x.deployed_at,
               x.failed, x.rework, x.restored_at`,
    cuts,
  );
  if (deliveries.length > 0) await insertDeliveries(tx, deliveries);
  if (baselines.length > 0) await insertBaselines(tx, baselines);

  const before = new Map<string, RollupRow[]>();
  const after = new Map<string, RollupRow[]>();
  const add = (map: Map<string, RollupRow[]>, stream: Stream, row: RollupRow) =>
    push(map, streamKey(stream), row);
  for (const r of oldDeliveries) {
    add(before, r, {
      deliverySeq: Number(r.deployment_seq),
      deployedAt: new Date(r.deployed_at),
      kind: r.kind,
      outcome: r.outcome,
      failed: r.failed,
      rework: r.rework,
      restoredAt: r.restored_at ? new Date(r.restored_at) : undefined,
    });
  }
  for (const r of oldCommits) {
    add(before, r, {
      deliverySeq: Number(r.deployment_seq),
      deployedAt: new Date(r.deployed_at),
      sha: r.sha,
      leadTimeSeconds: Number(r.lead_time_seconds),
    });
  }
  for (const d of deliveries) {
    add(after, d, {
      deliverySeq: d.seq,
      deployedAt: d.deployedAt,
      kind: d.kind,
      outcome: d.outcome,
      failed: d.failed,
      rework: d.rework,
      restoredAt: d.restoredAt,
    });
    for (const c of d.commits) {
      add(after, d, {
        deliverySeq: d.seq,
        deployedAt: d.deployedAt,
        sha: c.sha,
        leadTimeSeconds: c.leadTimeSeconds,
      });
    }
  }
  return streams.flatMap((stream) =>
    changedDays(before.get(streamKey(stream)) ?? [], after.get(streamKey(stream)) ?? []).map(
      (day) => ({ environment: stream.environment, day, since: new Date(stream.since) }),
    ),
  );
}

async function insertBaselines(tx: Queryable, baselines: BaselineRow[]) {
  await tx.query(
    `insert into dora_baselines (deployment_seq, service, environment, deployed_at, revision, shas)
     select seq, service, environment, deployed_at, revision,
            coalesce((select array_agg(s) from jsonb_array_elements_text(shas) s), '{}')
     from unnest($1::int8[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::jsonb[])
          as b(seq, service, environment, deployed_at, revision, shas)`,
    [
      column(baselines, (b) => b.seq),
      column(baselines, (b) => b.service),
      column(baselines, (b) => b.environment),
      column(baselines, (b) => b.deployedAt.toISOString()),
      column(baselines, (b) => b.revision),
      column(baselines, (b) => JSON.stringify(b.shas)),
    ],
  );
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
