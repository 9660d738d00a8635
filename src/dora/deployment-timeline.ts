import type { Store } from '../store/index.js';
import { servicesOf, type MetricsQuery } from './report.js';
import { defaultDoraSettings, type DoraSettings } from './settings.js';

/** Which deployments or incidents to list: the metrics' filters and a window, newest first. */
export type TimelineQuery = Omit<MetricsQuery, 'bucket'> & {
  /** At most this many rows (newest first). */
  limit: number;
};

export interface TimelineIncident {
  key: string;
  service: string | null;
  environment: string;
  detectedAt: string | null;
  resolvedAt: string | null;
}

/** One deployment attempt or rollback, with what the DORA rules derived for it. */
export interface TimelineDeployment {
  /** The sequence number of the CDEvent it came from. */
  seq: number;
  cdeventId: string;
  service: string;
  environment: string;
  kind: 'deploy' | 'rollback';
  outcome: 'success' | 'failure';
  deployedAt: string;
  revision: string | null;
  repository: string | null;
  artifact: string | null;
  failed: boolean;
  /** 'outcome', 'rolled back', 'incident <key>' (see docs/metrics.md). */
  failureReasons: string[];
  restoredAt: string | null;
  rework: boolean;
  /** The incident this deployment says it remedies. */
  remedies: string | null;
  /** The changes (change keys) whose commits this deployment delivered first in its stream. */
  changes: string[];
  /** The commits it delivered first, oldest first, with their lead times. */
  commits: { sha: string; committedAt: string; leadTimeSeconds: number }[];
  /** Incidents attributed to it. */
  incidents: TimelineIncident[];
  /** Other reports of the same rollout (another source, a redelivery): their CDEvents. */
  evidence: { seq: number; cdeventId: string }[];
  /** What the rules inferred (a repository found by the service's name). */
  notes: string[];
}

/** An incident with the deployment it was attributed to (if any). */
export interface TimelineIncidentRow extends TimelineIncident {
  /** resolved − detected, when both are known. */
  durationSeconds: number | null;
  /** Where the environment came from: 'label', 'service' (its only one), or 'default'. */
  environmentFrom: 'label' | 'service' | 'default';
  causeRevision: string | null;
  causeDeployment: string | null;
  attributedTo: { seq: number; service: string; deployedAt: string; revision: string | null }[];
}

const iso = (value: Date | string | null) =>
  value === null ? null : new Date(value).toISOString();
const isoFromMs = (ms: number | string) => new Date(Number(ms)).toISOString();

function scopeParams(query: TimelineQuery, settings: DoraSettings) {
  return [
    query.environment ?? settings.environment,
    servicesOf(query, settings) ?? null,
    query.from.toISOString(),
    query.to.toISOString(),
    query.limit,
  ];
}

/**
 * The deployments timeline: every deployment attempt and rollback of the scope in the window,
 * newest first, with the changes and commits it delivered and the incidents attributed to it.
 * Reads the rules' results as the background projector last left them, like the metrics.
 *
 * @example
 * await listDeployments(store, { environment: 'production', from, to, limit: 100 })
 */
export async function listDeployments(
  store: Store,
  query: TimelineQuery,
  settings: DoraSettings = defaultDoraSettings,
): Promise<TimelineDeployment[]> {
  const { rows } = await store.query<{
    seq: string;
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
    failed: boolean;
    failure_reasons: string[];
    restored_at: Date | null;
    rework: boolean;
    evidence: { seq: number; cdevent_id: string }[] | null;
    notes: string[];
    commits: { sha: string; committed_ms: number; lead_time_seconds: number }[] | null;
    changes: string[] | null;
    incidents:
      | {
          key: string;
          service: string | null;
          environment: string;
          detected_ms: number | null;
          resolved_ms: number | null;
        }[]
      | null;
  }>(
    `select d.deployment_seq as seq, f.cdevent_id, d.service, d.environment, d.kind, d.outcome,
            d.deployed_at, d.revision, d.repository, f.artifact, f.remedies, d.failed,
            d.failure_reasons, d.restored_at, d.rework, d.notes,
            (select json_agg(json_build_object('seq', e.cdevent_seq, 'cdevent_id', e.cdevent_id)
                             order by e.cdevent_seq)
               from deployments e where e.cdevent_seq = any(d.evidence)) as evidence,
            (select json_agg(json_build_object(
                      'sha', c.sha,
                      'committed_ms', extract(epoch from c.committed_at) * 1000,
                      'lead_time_seconds', c.lead_time_seconds) order by c.committed_at, c.sha)
               from dora_delivered_commits c where c.deployment_seq = d.deployment_seq) as commits,
            (select array_agg(distinct ch.change_key)
               from dora_delivered_commits c
               join change_commits cc on cc.sha = c.sha
               join changes ch on ch.cdevent_seq = cc.change_seq
              where c.deployment_seq = d.deployment_seq
                and (d.repository is null or ch.repository = d.repository)) as changes,
            (select json_agg(json_build_object(
                      'key', i.incident_key, 'service', i.service, 'environment', i.environment,
                      'detected_ms', extract(epoch from i.detected_at) * 1000,
                      'resolved_ms', extract(epoch from i.resolved_at) * 1000)
                      order by i.detected_at, i.incident_key)
               from incidents i
              where 'incident ' || i.incident_key = any(d.failure_reasons)) as incidents
     from dora_deliveries d
     join deployments f on f.cdevent_seq = d.deployment_seq
     where d.environment = $1 and ($2::text[] is null or d.service = any($2))
       and d.deployed_at >= $3::timestamptz and d.deployed_at < $4::timestamptz
     order by d.deployed_at desc, d.deployment_seq desc
     limit $5`,
    scopeParams(query, settings),
  );
  return rows.map((row) => ({
    seq: Number(row.seq),
    cdeventId: row.cdevent_id,
    service: row.service,
    environment: row.environment,
    kind: row.kind,
    outcome: row.outcome,
    deployedAt: iso(row.deployed_at)!,
    revision: row.revision,
    repository: row.repository,
    artifact: row.artifact,
    failed: row.failed,
    failureReasons: row.failure_reasons,
    restoredAt: iso(row.restored_at),
    rework: row.rework,
    remedies: row.remedies,
    changes: (row.changes ?? []).sort(),
    commits: (row.commits ?? []).map((c) => ({
      sha: c.sha,
      committedAt: isoFromMs(c.committed_ms),
      leadTimeSeconds: c.lead_time_seconds,
    })),
    evidence: (row.evidence ?? []).map((e) => ({ seq: Number(e.seq), cdeventId: e.cdevent_id })),
    notes: row.notes,
    incidents: (row.incidents ?? []).map((i) => ({
      key: i.key,
      service: i.service,
      environment: i.environment,
      detectedAt: i.detected_ms === null ? null : isoFromMs(i.detected_ms),
      resolvedAt: i.resolved_ms === null ? null : isoFromMs(i.resolved_ms),
    })),
  }));
}

/**
 * The incidents of the scope: those detected in the window, and those still open that were
 * detected before it, newest first, each with the deployment(s) the rules attributed it to.
 *
 * @example
 * await listIncidents(store, { service: 'web', from, to, limit: 100 })
 */
export async function listIncidents(
  store: Store,
  query: TimelineQuery,
  settings: DoraSettings = defaultDoraSettings,
): Promise<TimelineIncidentRow[]> {
  const { rows } = await store.query<{
    incident_key: string;
    service: string | null;
    environment: string;
    detected_at: Date | null;
    resolved_at: Date | null;
    cause_revision: string | null;
    cause_deployment: string | null;
    environment_from: 'label' | 'service' | 'default';
    attributed:
      { seq: number; service: string; deployed_ms: number; revision: string | null }[] | null;
  }>(
    `select i.incident_key, i.service, i.environment, i.detected_at, i.resolved_at,
            i.cause_revision, i.cause_deployment, i.environment_from,
            (select json_agg(json_build_object(
                      'seq', d.deployment_seq, 'service', d.service,
                      'deployed_ms', extract(epoch from d.deployed_at) * 1000,
                      'revision', d.revision) order by d.deployed_at)
               from dora_deliveries d
              where 'incident ' || i.incident_key = any(d.failure_reasons)) as attributed
     from incidents i
     where i.environment = $1 and ($2::text[] is null or i.service = any($2))
       and ((coalesce(i.detected_at, i.resolved_at) >= $3::timestamptz
             and coalesce(i.detected_at, i.resolved_at) < $4::timestamptz)
            or (i.resolved_at is null and i.detected_at < $4::timestamptz))
     order by coalesce(i.detected_at, i.resolved_at) desc, i.incident_key
     limit $5`,
    scopeParams(query, settings),
  );
  return rows.map((row) => {
    const detected = row.detected_at && new Date(row.detected_at);
    const resolved = row.resolved_at && new Date(row.resolved_at);
    return {
      key: row.incident_key,
      service: row.service,
      environment: row.environment,
      detectedAt: iso(detected),
      resolvedAt: iso(resolved),
      durationSeconds:
        detected && resolved ? (resolved.getTime() - detected.getTime()) / 1000 : null,
      environmentFrom: row.environment_from,
      causeRevision: row.cause_revision,
      causeDeployment: row.cause_deployment,
      attributedTo: (row.attributed ?? []).map((a) => ({
        seq: Number(a.seq),
        service: a.service,
        deployedAt: isoFromMs(a.deployed_ms),
        revision: a.revision,
      })),
    };
  });
}
