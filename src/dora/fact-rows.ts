import type { Queryable } from '../store/index.js';
import {
  digestFromPurl,
  type ArtifactFact,
  type ChangeFact,
  type DeploymentFact,
  type Fact,
  type IncidentFact,
} from './facts.js';

/** One column of rows, for `unnest($1::type[], …)` inserts. */
export const column = <T, V>(items: T[], get: (item: T) => V) => items.map(get);

/** The incidents whose environment new facts can change: of these services, or these keys. */
export interface IncidentScope {
  services: string[];
  keys: string[];
}

/**
 * Re-resolves the environment of the incidents in scope that no producer labelled (see
 * delivery-rows.ts); returns the streams an incident moved between.
 */
export type ResolveIncidents = (tx: Queryable, scope: IncidentScope) => Promise<StaleMark[]>;

/**
 * Stores projected facts; each statement is idempotent (a replayed CDEvent changes nothing).
 * `since`: when the oldest event behind the facts was received (what freshness reports).
 * `resolveIncidents`, when given, re-resolves the environments of the incidents these facts can
 * move, in the same transaction. Locks are taken in one order (incidents by key, repository
 * marks by name, then every stream mark in one statement by stream), the order a pass takes
 * them in too, so two projectors never wait on each other crosswise.
 */
export async function insertFacts(
  tx: Queryable,
  facts: Fact[],
  since: Date = new Date(),
  resolveIncidents?: ResolveIncidents,
): Promise<void> {
  const deployments = facts.flatMap((f) => (f.kind === 'deployment' ? [f.fact] : []));
  const changes = facts.flatMap((f) => (f.kind === 'change' ? [f.fact] : []));
  const incidents = facts.flatMap((f) => (f.kind === 'incident' ? [f.fact] : []));
  const artifacts = facts.flatMap((f) => (f.kind === 'artifact' ? [f.fact] : []));
  const scope: IncidentScope = {
    services: [
      ...new Set([
        ...deployments.map((d) => d.service),
        ...incidents.flatMap((i) => (i.service ? [i.service] : [])),
      ]),
    ],
    keys: [...new Set(incidents.map((i) => i.key))],
  };
  if (incidents.length > 0 || (resolveIncidents && scope.services.length > 0)) {
    await tx.query(
      `select incident_key from incidents
       where incident_key = any($1::text[])
          or ($3 and service = any($2::text[]) and environment_from <> 'label')
       order by incident_key for update`,
      [scope.keys, scope.services, resolveIncidents !== undefined],
    );
  }
  if (deployments.length > 0) await insertDeployments(tx, deployments);
  if (changes.length > 0) await insertChanges(tx, changes);
  if (artifacts.length > 0) await insertArtifacts(tx, artifacts);
  // Incident updates for one key must apply in order (detected, then resolved, or reversed);
  // keys in order (the order they were locked in above).
  const byKey = incidents
    .map((incident, index) => ({ incident, index }))
    .sort(
      (a, b) =>
        (a.incident.key < b.incident.key ? -1 : a.incident.key > b.incident.key ? 1 : 0) ||
        a.index - b.index,
    );
  const marks: StaleMark[] = [];
  for (const { incident } of byKey) marks.push(...(await upsertIncident(tx, incident)));
  if (resolveIncidents && (scope.services.length > 0 || scope.keys.length > 0)) {
    marks.push(...(await resolveIncidents(tx, scope)));
  }
  marks.push(...(await staleByDeployments(tx, deployments)));
  marks.push(...(await staleByBuild(tx, artifacts, changes)));
  // Repositories before stream marks, in name order, as a pass takes them (it deletes the
  // repository marks, then marks their streams): the other order deadlocked two projectors.
  if (changes.length > 0) {
    // With the earliest merge among them: only deliveries of revisions merged from then on can
    // change (stale.ts's expandStaleRepositories). A null one is from the beginning.
    await tx.query(
      `insert into dora_stale_repositories (repository, since, merged_from)
       select r, $3::timestamptz, min(merged_at)
       from unnest($1::text[], $2::timestamptz[]) as c(r, merged_at) group by r order by r
       on conflict (repository) do update set
         merged_from = case
           when dora_stale_repositories.merged_from is null or excluded.merged_from is null
             then null
           else least(dora_stale_repositories.merged_from, excluded.merged_from) end`,
      [
        column(changes, (c) => c.repository),
        column(changes, (c) => c.mergedAt.toISOString()),
        since.toISOString(),
      ],
    );
  }
  await markStaleStreams(tx, marks, since);
}

/** A stream to recompute, from when (undefined: from the beginning). */
export interface StaleMark {
  environment: string;
  service: string;
  /** The earliest deployment time the new facts can affect; undefined: the whole stream. */
  from?: Date | null | undefined;
  /** When the oldest event behind it was received, if not the call's `since`. */
  since?: Date | undefined;
}

/**
 * Marks streams stale: the one way every fact, rules change and repository move does it.
 * An upsert, not `do nothing`: a stream another replica is rewriting right now (from a snapshot
 * without these facts) keeps its mark locked until it commits and deletes it; waiting for that
 * and then inserting a fresh mark is what keeps these facts from being lost. Key order keeps
 * two markers from locking marks crosswise. `since` and `affected_from` merge as the earliest
 * (an absent `affected_from`, from the beginning, is the earliest of all).
 */
export async function markStaleStreams(
  tx: Queryable,
  marks: StaleMark[],
  since: Date | string,
): Promise<void> {
  if (marks.length === 0) return;
  await tx.query(
    `insert into dora_stale_streams (environment, service, since, affected_from)
     select environment, service, min(since),
            case when bool_or(affected_from is null) then null else min(affected_from) end
     from unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
          as s(environment, service, since, affected_from)
     group by environment, service
     order by environment, service
     on conflict (environment, service) do update set
       since = least(dora_stale_streams.since, excluded.since),
       affected_from = case
         when dora_stale_streams.affected_from is null or excluded.affected_from is null then null
         else least(dora_stale_streams.affected_from, excluded.affected_from) end`,
    [
      column(marks, (m) => m.environment),
      column(marks, (m) => m.service),
      column(marks, (m) => (m.since ?? new Date(since)).toISOString()),
      column(marks, (m) => m.from?.toISOString() ?? null),
    ],
  );
}

interface MarkRow {
  environment: string;
  service: string;
  affected_from: Date | null;
}

const toMarks = (rows: MarkRow[]): StaleMark[] =>
  rows.map((r) => ({
    environment: r.environment,
    service: r.service,
    from: r.affected_from === null ? null : new Date(r.affected_from),
  }));

/**
 * A build that says which commit made a digest changes every stream that deployed that digest
 * (from its first deployment of it); a change a build names (by key) changes the streams that
 * deployed that build (from the beginning: a change moves a repository's history).
 */
async function staleByBuild(
  tx: Queryable,
  artifacts: ArtifactFact[],
  changes: ChangeFact[],
): Promise<StaleMark[]> {
  if (artifacts.length === 0 && changes.length === 0) return [];
  const { rows } = await tx.query<MarkRow>(
    `select environment, service, min(deployed_at) as affected_from from deployments
     where digest = any($1::text[])
     group by environment, service
     union all
     select distinct d.environment, d.service, null::timestamptz as affected_from from deployments d
     where d.digest in (select a.digest from artifacts a where a.change_key = any($2::text[]))`,
    [column(artifacts, (a) => a.digest), column(changes, (c) => c.key)],
  );
  return toMarks(rows);
}

async function insertArtifacts(tx: Queryable, rows: ArtifactFact[]): Promise<void> {
  await tx.query(
    `insert into artifacts (cdevent_seq, digest, purl, built_at, revision, repository, change_key)
     select * from unnest($1::int8[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                          $6::text[], $7::text[])
     on conflict (cdevent_seq) do nothing`,
    [
      column(rows, (r) => r.seq),
      column(rows, (r) => r.digest),
      column(rows, (r) => r.purl),
      column(rows, (r) => r.builtAt.toISOString()),
      column(rows, (r) => r.revision ?? null),
      column(rows, (r) => r.repository ?? null),
      column(rows, (r) => r.changeKey ?? null),
    ],
  );
}

/**
 * What new deployments change: each one's stream from its time, and the streams of incidents
 * naming one (their attribution by time gives way to the named deployment). Incidents say what
 * they change as they are stored (upsertIncident); changes mark their repositories.
 */
async function staleByDeployments(
  tx: Queryable,
  deployments: DeploymentFact[],
): Promise<StaleMark[]> {
  if (deployments.length === 0) return [];
  const marks: StaleMark[] = deployments.map((d) => ({
    environment: d.environment,
    service: d.service,
    from: d.deployedAt,
  }));
  const { rows } = await tx.query<MarkRow>(
    `select environment, service, detected_at as affected_from from incidents
     where cause_deployment = any($1::text[]) and service is not null`,
    [column(deployments, (d) => d.cdeventId)],
  );
  return [...marks, ...toMarks(rows)];
}

async function insertDeployments(tx: Queryable, rows: DeploymentFact[]): Promise<void> {
  // Each stream's reporters, with their latest report (stream-suffix.ts reads it); in key order,
  // so two projectors never lock these rows crosswise.
  await tx.query(
    `insert into dora_stream_reporters (environment, service, reporter, last_at)
     select environment, service, reporter, max(deployed_at)
     from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
          as d(environment, service, reporter, deployed_at)
     group by environment, service, reporter
     order by environment, service, reporter
     on conflict (environment, service, reporter) do update
       set last_at = greatest(dora_stream_reporters.last_at, excluded.last_at)`,
    [
      column(rows, (r) => r.environment),
      column(rows, (r) => r.service),
      column(rows, (r) => r.reporter ?? null),
      column(rows, (r) => r.deployedAt.toISOString()),
    ],
  );
  await tx.query(
    `insert into deployments (cdevent_seq, cdevent_id, service, environment, kind, outcome,
                              deployed_at, revision, repository, artifact, remedies, baseline,
                              reporter, digest)
     select * from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[],
                          $12::bool[], $13::text[], $14::text[])
     on conflict (cdevent_seq) do nothing`,
    [
      column(rows, (r) => r.seq),
      column(rows, (r) => r.cdeventId),
      column(rows, (r) => r.service),
      column(rows, (r) => r.environment),
      column(rows, (r) => r.kind),
      column(rows, (r) => r.outcome),
      column(rows, (r) => r.deployedAt.toISOString()),
      column(rows, (r) => r.revision ?? null),
      column(rows, (r) => r.repository ?? null),
      column(rows, (r) => r.artifact ?? null),
      column(rows, (r) => r.remedies ?? null),
      column(rows, (r) => r.baseline === true),
      column(rows, (r) => r.reporter ?? null),
      column(rows, (r) => digestFromPurl(r.artifact) ?? null),
    ],
  );
}

async function insertChanges(tx: Queryable, rows: ChangeFact[]): Promise<void> {
  await tx.query(
    `insert into changes (cdevent_seq, change_key, repository, revision, merged_at)
     select * from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
     on conflict (cdevent_seq) do nothing`,
    [
      column(rows, (r) => r.seq),
      column(rows, (r) => r.key),
      column(rows, (r) => r.repository),
      column(rows, (r) => r.revision ?? null),
      column(rows, (r) => r.mergedAt.toISOString()),
    ],
  );
  const commits = rows.flatMap((change) =>
    change.commits.map((commit) => ({ change: change.seq, ...commit })),
  );
  if (commits.length === 0) return;
  await tx.query(
    `insert into change_commits (change_seq, sha, committed_at)
     select * from unnest($1::int8[], $2::text[], $3::timestamptz[])
     on conflict do nothing`,
    [
      column(commits, (c) => c.change),
      column(commits, (c) => c.sha),
      column(commits, (c) => c.committedAt.toISOString()),
    ],
  );
}

/**
 * Stores one incident report, merged by key; returns the streams it changes: its stream from its
 * detection (when known), its cause deployment's stream from that deployment, and the stream it
 * left when a labelled report moved it (from the beginning: it is no longer there to say what
 * it was attributed to).
 */
async function upsertIncident(tx: Queryable, incident: IncidentFact): Promise<StaleMark[]> {
  const { rows: old } = await tx.query<{ service: string | null; environment: string }>(
    `select service, environment from incidents where incident_key = $1 for update`,
    [incident.key],
  );
  const { rows } = await tx.query<{
    service: string | null;
    environment: string;
    detected_at: Date | null;
    cause_deployment: string | null;
  }>(
    `insert into incidents (incident_key, service, environment, detected_at, resolved_at,
                            cause_revision, cause_deployment, environment_from,
                            default_environment)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (incident_key) do update set
       service = coalesce(incidents.service, excluded.service),
       -- A labelled report of the incident settles its environment.
       environment = case when excluded.environment_from = 'label' then excluded.environment
                          else incidents.environment end,
       environment_from = case when excluded.environment_from = 'label' then 'label'
                               else incidents.environment_from end,
       detected_at = least(incidents.detected_at, excluded.detected_at),
       resolved_at = greatest(incidents.resolved_at, excluded.resolved_at),
       cause_revision = coalesce(incidents.cause_revision, excluded.cause_revision),
       cause_deployment = coalesce(incidents.cause_deployment, excluded.cause_deployment),
       default_environment = coalesce(incidents.default_environment,
                                      excluded.default_environment)
     returning service, environment, detected_at, cause_deployment`,
    [
      incident.key,
      incident.service ?? null,
      incident.environment,
      incident.detectedAt?.toISOString() ?? null,
      incident.resolvedAt?.toISOString() ?? null,
      incident.causeRevision ?? null,
      incident.causeDeployment ?? null,
      incident.environmentGiven === false ? 'default' : 'label',
      incident.defaultEnvironment ?? null,
    ],
  );
  const now = rows[0]!;
  const marks: StaleMark[] = [];
  if (now.service !== null) {
    marks.push({
      environment: now.environment,
      service: now.service,
      from: now.detected_at === null ? null : new Date(now.detected_at),
    });
  }
  const was = old[0];
  if (was?.service && (was.service !== now.service || was.environment !== now.environment)) {
    marks.push({ environment: was.environment, service: was.service, from: null });
  }
  if (now.cause_deployment !== null) {
    const { rows: named } = await tx.query<MarkRow>(
      `select environment, service, min(deployed_at) as affected_from from deployments
       where cdevent_id = $1 group by environment, service`,
      [now.cause_deployment],
    );
    marks.push(...toMarks(named));
  }
  return marks;
}

/** One stream (a service in an environment), and the repository configured for its service. */
export interface StreamScope {
  environment: string;
  service: string;
  configuredRepository?: string | undefined;
}

export interface LoadedFacts {
  deployments: DeploymentFact[];
  changes: ChangeFact[];
  incidents: IncidentFact[];
  /** Builds of the digests the stream's deployments run. */
  artifacts: ArtifactFact[];
  /**
   * The time of the deployment that brought the stream's newest change repository in (epoch 0
   * for a configured one, or when there is none and the service-named fallback applies): when a
   * pass's new facts brought it, every earlier row was computed with fewer repositories.
   */
  repositoriesSince: Date;
}

export interface DeploymentRow {
  baseline: boolean;
  digest: string | null;
  reporter: string | null;
  cdevent_seq: number;
  cdevent_id: string;
  service: string;
  environment: string;
  kind: 'deploy' | 'rollback';
  outcome: 'success' | 'failure';
  deployed_at: Date;
  revision: string | null;
  repository: string | null;
  artifact: string | null;
  remedies: string | null;
}

export interface IncidentRow {
  incident_key: string;
  service: string | null;
  environment: string;
  detected_at: Date | null;
  resolved_at: Date | null;
  cause_revision: string | null;
  cause_deployment: string | null;
}

export interface ArtifactRow {
  /** The repositories of the changes its change key names. */
  change_repositories: string[] | null;
  cdevent_seq: number;
  digest: string;
  purl: string;
  built_at: Date;
  revision: string | null;
  repository: string | null;
  change_key: string | null;
}

interface ChangeRow {
  cdevent_seq: number;
  change_key: string;
  repository: string;
  revision: string | null;
  merged_at: Date;
  commits: { sha: string; committed_at: string }[] | null;
}

const optional = <K extends string, V>(key: K, value: V | null) =>
  (value === null ? {} : { [key]: value }) as Partial<Record<K, V>>;

/**
 * Everything the delivery rules need for one stream: all its deployments (a deployment's
 * changes and failures depend on the ones before it), the changes of its repositories, its
 * incidents and those naming one of its deployments, and any other stream's deployment one of
 * its incidents names (so the explicit link wins over attribution by time). Its repositories are
 * its deployments' own, those of the builds of the digests they run (the build's, else its
 * change's) and the configured one; with none, the change repositories named like the service
 * (`acme/web` for `web`), the fallback the rules use. The stream's deployments are read once:
 * what the other statements need from them (digests, CloudEvent ids, repositories) comes from
 * the rows already read, not from reading the stream again.
 */
export async function loadStreamFacts(db: Queryable, scope: StreamScope): Promise<LoadedFacts> {
  const stream = [scope.environment, scope.service];
  const deploymentRows = await db.query<DeploymentRow>(
    `select * from deployments where environment = $1 and service = $2
     union all
     select * from deployments
     where cdevent_id in (select cause_deployment from incidents
                          where environment = $1 and service = $2)
       and not (environment = $1 and service = $2)`,
    stream,
  );
  const deployments = deploymentRows.rows.map(deploymentFromRow);
  const own = deployments.filter(
    (d) => d.environment === scope.environment && d.service === scope.service,
  );
  const incidentRows = await db.query<IncidentRow>(
    `select * from incidents where environment = $1 and service = $2
     union
     select * from incidents where cause_deployment = any($3::text[])`,
    [...stream, [...new Set(own.map((d) => d.cdeventId))]],
  );
  const artifactRows = await readBuilds(db, own);
  // Each repository with the time of the first deployment that brings it in.
  const firstSeen = new Map<string, number>();
  const seen = (repository: string, at: number) =>
    firstSeen.set(repository, Math.min(at, firstSeen.get(repository) ?? Infinity));
  const digestSince = new Map<string, number>();
  for (const d of own) {
    const at = d.deployedAt.getTime();
    if (d.repository !== undefined) seen(d.repository, at);
    const digest = digestFromPurl(d.artifact);
    if (digest) digestSince.set(digest, Math.min(at, digestSince.get(digest) ?? at));
  }
  for (const a of artifactRows) {
    for (const repository of a.repository !== null
      ? [a.repository]
      : (a.change_repositories ?? [])) {
      if (repository !== null) seen(repository, digestSince.get(a.digest) ?? 0);
    }
  }
  if (scope.configuredRepository) seen(scope.configuredRepository, 0);
  return {
    deployments,
    incidents: incidentRows.rows.map(incidentFromRow),
    artifacts: artifactRows.map(artifactFromRow),
    repositoriesSince: new Date(Math.max(0, ...firstSeen.values())),
    changes: await readChanges(
      db,
      [...firstSeen.keys()],
      firstSeen.size > 0 ? [] : [scope.service],
    ),
  };
}

/** The builds of the digests these deployments run, with their changes' repositories. */
export async function readBuilds(
  db: Queryable,
  deployments: readonly DeploymentFact[],
): Promise<ArtifactRow[]> {
  const digests = [...new Set(deployments.flatMap((d) => digestFromPurl(d.artifact) ?? []))];
  if (digests.length === 0) return [];
  const { rows } = await db.query<ArtifactRow>(
    `select a.*,
            (select array_agg(distinct c.repository) from changes c
             where c.change_key = a.change_key) as change_repositories
     from artifacts a where a.digest = any($1::text[])`,
    [digests],
  );
  return rows;
}

/**
 * The changes of these repositories, and of the change repositories named like these services
 * (`acme/web` for `web`: the fallback the rules use for a stream without a repository).
 */
export async function readChanges(
  db: Queryable,
  repositories: readonly string[],
  namedLike: readonly string[] = [],
): Promise<ChangeFact[]> {
  const columns = `c.cdevent_seq, c.change_key, c.repository, c.revision, c.merged_at,
    (select json_agg(json_build_object('sha', cc.sha, 'committed_at', cc.committed_at)
                     order by cc.committed_at, cc.sha)
     from change_commits cc where cc.change_seq = c.cdevent_seq) as commits`;
  const rows: ChangeRow[] = [];
  if (repositories.length > 0) {
    const found = await db.query<ChangeRow>(
      `select ${columns} from changes c where c.repository = any($1::text[])`,
      [repositories],
    );
    rows.push(...found.rows);
  }
  if (namedLike.length > 0) {
    const found = await db.query<ChangeRow>(
      `select ${columns} from changes c
       where not (c.repository = any($2::text[]))
         and exists (select 1 from unnest($1::text[]) as n(name)
                     where c.repository = n.name or right(c.repository, length(n.name) + 1) = '/' || n.name)`,
      [namedLike, repositories],
    );
    rows.push(...found.rows);
  }
  return rows.map((r) => ({
    seq: Number(r.cdevent_seq),
    key: r.change_key,
    repository: r.repository,
    ...optional('revision', r.revision),
    mergedAt: new Date(r.merged_at),
    commits: (r.commits ?? []).map((c) => ({
      sha: c.sha,
      committedAt: new Date(c.committed_at),
    })),
  }));
}

export const deploymentFromRow = (r: DeploymentRow): DeploymentFact => ({
  seq: Number(r.cdevent_seq),
  cdeventId: r.cdevent_id,
  service: r.service,
  environment: r.environment,
  kind: r.kind,
  outcome: r.outcome,
  deployedAt: new Date(r.deployed_at),
  ...optional('revision', r.revision),
  ...optional('repository', r.repository),
  ...optional('artifact', r.artifact),
  ...optional('remedies', r.remedies),
  ...(r.baseline ? { baseline: true } : {}),
  ...optional('reporter', r.reporter),
});

export const incidentFromRow = (r: IncidentRow): IncidentFact => ({
  key: r.incident_key,
  environment: r.environment,
  ...optional('service', r.service),
  ...optional('detectedAt', r.detected_at && new Date(r.detected_at)),
  ...optional('resolvedAt', r.resolved_at && new Date(r.resolved_at)),
  ...optional('causeRevision', r.cause_revision),
  ...optional('causeDeployment', r.cause_deployment),
});

export const artifactFromRow = (r: ArtifactRow): ArtifactFact => ({
  seq: Number(r.cdevent_seq),
  digest: r.digest,
  purl: r.purl,
  builtAt: new Date(r.built_at),
  ...optional('revision', r.revision),
  ...optional('repository', r.repository),
  ...optional('changeKey', r.change_key),
});

/**
 * The streams (service × environment) that have deployments, by service: read from the
 * reporters table (a row per stream and reporter), not by counting every stream's deliveries,
 * since a Prometheus scrape asks for them each time.
 */
export async function streamNames(
  db: Queryable,
): Promise<{ service: string; environment: string }[]> {
  const { rows } = await db.query<{ service: string; environment: string }>(
    `select distinct service, environment from dora_stream_reporters order by service, environment`,
  );
  return rows;
}

/** Services and environments that have deployments, for filters and the seed endpoint. */
export async function listStreams(
  db: Queryable,
): Promise<{ service: string; environment: string; deployments: number }[]> {
  // Every attempt and rollback, as the rules identified them (one per rollout, baselines not
  // counted); a stream with only baselines is listed with none.
  const { rows } = await db.query<{ service: string; environment: string; deployments: number }>(
    `select s.service, s.environment,
            (select count(*) from dora_deliveries d
              where d.environment = s.environment and d.service = s.service)::int8 as deployments
     from (select distinct service, environment from deployments) s
     order by s.service, s.environment`,
  );
  return rows.map((r) => ({ ...r, deployments: Number(r.deployments) }));
}
