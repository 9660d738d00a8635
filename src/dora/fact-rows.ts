import type { Queryable } from '../store/index.js';
import type { ChangeFact, DeploymentFact, Fact, IncidentFact } from './facts.js';

const column = <T, V>(items: T[], get: (item: T) => V) => items.map(get);

/** Stores projected facts; each statement is idempotent (a replayed CDEvent changes nothing). */
export async function insertFacts(tx: Queryable, facts: Fact[]): Promise<void> {
  const deployments = facts.flatMap((f) => (f.kind === 'deployment' ? [f.fact] : []));
  const changes = facts.flatMap((f) => (f.kind === 'change' ? [f.fact] : []));
  const incidents = facts.flatMap((f) => (f.kind === 'incident' ? [f.fact] : []));
  if (deployments.length > 0) await insertDeployments(tx, deployments);
  if (changes.length > 0) await insertChanges(tx, changes);
  // Incident updates for one key must apply in order (detected, then resolved, or reversed).
  for (const incident of incidents) await upsertIncident(tx, incident);
}

async function insertDeployments(tx: Queryable, rows: DeploymentFact[]): Promise<void> {
  await tx.query(
    `insert into deployments (cdevent_seq, cdevent_id, service, environment, kind, outcome,
                              deployed_at, revision, repository, artifact, remedies)
     select * from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[])
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

async function upsertIncident(tx: Queryable, incident: IncidentFact): Promise<void> {
  await tx.query(
    `insert into incidents (incident_key, service, environment, detected_at, resolved_at,
                            cause_revision, cause_deployment)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (incident_key) do update set
       service = coalesce(incidents.service, excluded.service),
       detected_at = least(incidents.detected_at, excluded.detected_at),
       resolved_at = greatest(incidents.resolved_at, excluded.resolved_at),
       cause_revision = coalesce(incidents.cause_revision, excluded.cause_revision),
       cause_deployment = coalesce(incidents.cause_deployment, excluded.cause_deployment)`,
    [
      incident.key,
      incident.service ?? null,
      incident.environment,
      incident.detectedAt?.toISOString() ?? null,
      incident.resolvedAt?.toISOString() ?? null,
      incident.causeRevision ?? null,
      incident.causeDeployment ?? null,
    ],
  );
}

/** Which facts to load: an environment, optionally some services, up to a time. */
export interface FactScope {
  environment?: string;
  services?: string[];
  /** Facts after this time are not needed. */
  until: Date;
}

export interface LoadedFacts {
  deployments: DeploymentFact[];
  changes: ChangeFact[];
  incidents: IncidentFact[];
}

/**
 * Everything the delivery rules need for a scope. Deployments are loaded from the beginning of
 * each stream, because a deployment's changes and failures depend on the ones before it.
 */
export async function loadFacts(db: Queryable, scope: FactScope): Promise<LoadedFacts> {
  const services = scope.services ?? null;
  const environment = scope.environment ?? null;
  const until = scope.until.toISOString();
  const deploymentRows = await db.query<{
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
  }>(
    `select * from deployments
     where ($1::text is null or environment = $1)
       and ($2::text[] is null or service = any($2))
       and deployed_at < $3::timestamptz`,
    [environment, services, until],
  );
  const incidentRows = await db.query<{
    incident_key: string;
    service: string | null;
    environment: string;
    detected_at: Date | null;
    resolved_at: Date | null;
    cause_revision: string | null;
    cause_deployment: string | null;
  }>(
    `select * from incidents
     where ($1::text is null or environment = $1)
       and ($2::text[] is null or service = any($2) or cause_deployment is not null)`,
    [environment, services],
  );
  const changeRows = await db.query<{
    cdevent_seq: number;
    change_key: string;
    repository: string;
    revision: string | null;
    merged_at: Date;
    commits: { sha: string; committed_at: string }[] | null;
  }>(
    `select c.cdevent_seq, c.change_key, c.repository, c.revision, c.merged_at,
            (select json_agg(json_build_object('sha', cc.sha, 'committed_at', cc.committed_at)
                             order by cc.committed_at, cc.sha)
               from change_commits cc where cc.change_seq = c.cdevent_seq) as commits
     from changes c
     where c.merged_at < $1::timestamptz`,
    [until],
  );
  const optional = <K extends string, V>(key: K, value: V | null) =>
    (value === null ? {} : { [key]: value }) as Partial<Record<K, V>>;
  return {
    deployments: deploymentRows.rows.map((r) => ({
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
    })),
    incidents: incidentRows.rows.map((r) => ({
      key: r.incident_key,
      environment: r.environment,
      ...optional('service', r.service),
      ...optional('detectedAt', r.detected_at && new Date(r.detected_at)),
      ...optional('resolvedAt', r.resolved_at && new Date(r.resolved_at)),
      ...optional('causeRevision', r.cause_revision),
      ...optional('causeDeployment', r.cause_deployment),
    })),
    changes: changeRows.rows.map((r) => ({
      seq: Number(r.cdevent_seq),
      key: r.change_key,
      repository: r.repository,
      ...optional('revision', r.revision),
      mergedAt: new Date(r.merged_at),
      commits: (r.commits ?? []).map((c) => ({
        sha: c.sha,
        committedAt: new Date(c.committed_at),
      })),
    })),
  };
}

/** Services and environments that have deployments, for filters and the seed endpoint. */
export async function listStreams(
  db: Queryable,
): Promise<{ service: string; environment: string; deployments: number }[]> {
  const { rows } = await db.query<{ service: string; environment: string; deployments: number }>(
    `select service, environment, count(*)::int8 as deployments
     from deployments group by service, environment order by service, environment`,
  );
  return rows.map((r) => ({ ...r, deployments: Number(r.deployments) }));
}
