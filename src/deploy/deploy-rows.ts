import type { Queryable } from '../store/index.js';
import type { ObjectRef } from './manifest-rewrite.js';

/** One deployed revision of a service (stable or canary). */
export interface DeployedRevision {
  version: string;
  commit: string;
  tag?: string | undefined;
  /** The tag each untagged image got. */
  imageTags: Record<string, string>;
  /** The objects applied for it (for a canary: what a promote or rollback removes). */
  objects: ObjectRef[];
  /** When it was applied (RFC 3339). */
  at: string;
}

/** What runs for a service. */
export interface ServiceState {
  stable: DeployedRevision | null;
  canary: DeployedRevision | null;
  /** The stable versions that ran before, newest first, that a rollback can return to. */
  previous: DeployedRevision[];
}

export const EMPTY_STATE: ServiceState = { stable: null, canary: null, previous: [] };

export async function readServiceState(db: Queryable, service: string): Promise<ServiceState> {
  const { rows } = await db.query<ServiceState>(
    'select stable, canary, previous_versions as previous from deploy_services where service = $1',
    [service],
  );
  return rows[0] ?? EMPTY_STATE;
}

export async function writeServiceState(
  db: Queryable,
  service: string,
  state: ServiceState,
): Promise<void> {
  await db.query(
    `insert into deploy_services (service, stable, canary, previous_versions, updated_at)
     values ($1, $2, $3, $4, now())
     on conflict (service) do update set stable = excluded.stable, canary = excluded.canary,
       previous_versions = excluded.previous_versions, updated_at = now()`,
    [
      service,
      state.stable && JSON.stringify(state.stable),
      state.canary && JSON.stringify(state.canary),
      JSON.stringify(state.previous),
    ],
  );
}

/** One audited operation. */
export interface OperationRecord {
  service: string;
  action: string;
  actor: string;
  commit?: string | undefined;
  tag?: string | undefined;
  version?: string | undefined;
  outcome: 'success' | 'failure';
  detail: Record<string, unknown>;
  startedAt: Date;
  durationMs: number;
}

export async function recordOperation(db: Queryable, record: OperationRecord): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `insert into deploy_operations
       (service, action, actor, commit, tag, version, outcome, detail, started_at, duration_ms)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
    [
      record.service,
      record.action,
      record.actor,
      record.commit ?? null,
      record.tag ?? null,
      record.version ?? null,
      record.outcome,
      JSON.stringify(record.detail),
      record.startedAt.toISOString(),
      Math.round(record.durationMs),
    ],
  );
  return Number(rows[0]!.id);
}

export async function listOperations(
  db: Queryable,
  service: string,
  limit = 20,
): Promise<(OperationRecord & { id: number })[]> {
  const { rows } = await db.query<{
    id: string;
    service: string;
    action: string;
    actor: string;
    commit: string | null;
    tag: string | null;
    version: string | null;
    outcome: 'success' | 'failure';
    detail: Record<string, unknown>;
    started_at: Date | string;
    duration_ms: number;
  }>(
    `select id, service, action, actor, commit, tag, version, outcome, detail, started_at, duration_ms
     from deploy_operations where service = $1 order by id desc limit $2`,
    [service, limit],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    service: row.service,
    action: row.action,
    actor: row.actor,
    commit: row.commit ?? undefined,
    tag: row.tag ?? undefined,
    version: row.version ?? undefined,
    outcome: row.outcome,
    detail: row.detail,
    startedAt: new Date(row.started_at),
    durationMs: row.duration_ms,
  }));
}

/**
 * Takes the service's lease if free or expired; false when another holder has it. The row is
 * created on first use so two replicas racing for a new service meet on its primary key.
 */
export async function tryLockService(
  db: Queryable,
  service: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  await db.query(
    'insert into deploy_services (service) values ($1) on conflict (service) do nothing',
    [service],
  );
  const { rows } = await db.query(
    `update deploy_services set lock_owner = $2,
       lock_expires_at = now() + ($3::int * interval '1 millisecond')
     where service = $1 and (lock_owner is null or lock_expires_at < now())
     returning service`,
    [service, owner, leaseMs],
  );
  return rows.length > 0;
}

export async function unlockService(db: Queryable, service: string, owner: string): Promise<void> {
  await db.query(
    `update deploy_services set lock_owner = null, lock_expires_at = null
     where service = $1 and lock_owner = $2`,
    [service, owner],
  );
}
