import type { Queryable } from '../store/index.js';

/** Where an update is: waiting for an approval, approved, its canary started, or finished. */
export type UpdateState =
  'pending' | 'approved' | 'started' | 'promoted' | 'rolled-back' | 'superseded' | 'failed';

export interface Update {
  id: number;
  service: string;
  tag: string;
  fromVersion: string | null;
  firstSeenAt: Date;
  state: UpdateState;
  approvalRequired: boolean;
  approvedBy: string | null;
  approvedAt: Date | null;
  startedAt: Date | null;
  operationId: number | null;
  analysisId: string | null;
  error: string | null;
  finishedAt: Date | null;
  leadTimeSeconds: number | null;
  /** Canary starts tried (each an audited deployer operation). */
  attempts: number;
  /** After a failed start: when the next may be tried. */
  retryAt: Date | null;
}

type Row = Record<string, unknown>;
const date = (value: unknown) =>
  value === null || value === undefined ? null : new Date(value as string | Date);

function toUpdate(row: Row): Update {
  return {
    id: Number(row.id),
    service: row.service as string,
    tag: row.tag as string,
    fromVersion: (row.from_version as string | null) ?? null,
    firstSeenAt: date(row.first_seen_at)!,
    state: row.state as UpdateState,
    approvalRequired: row.approval_required as boolean,
    approvedBy: (row.approved_by as string | null) ?? null,
    approvedAt: date(row.approved_at),
    startedAt: date(row.started_at),
    operationId: row.operation_id === null ? null : Number(row.operation_id),
    analysisId: (row.analysis_id as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    finishedAt: date(row.finished_at),
    leadTimeSeconds: row.lead_time_seconds === null ? null : Number(row.lead_time_seconds),
    attempts: Number(row.attempts ?? 0),
    retryAt: date(row.retry_at),
  };
}

/**
 * Records a tag the first time any replica sees it; a tag already recorded (by this replica or
 * another) is returned as it is. `inserted` says whether this call recorded it.
 */
export async function recordUpdate(
  db: Queryable,
  input: {
    service: string;
    tag: string;
    fromVersion: string;
    approvalRequired: boolean;
    seenAt: Date;
  },
): Promise<{ update: Update; inserted: boolean }> {
  const inserted = await db.query(
    `insert into updates (service, tag, from_version, first_seen_at, state, approval_required)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (service, tag) do nothing
     returning *`,
    [
      input.service,
      input.tag,
      input.fromVersion,
      input.seenAt.toISOString(),
      input.approvalRequired ? 'pending' : 'approved',
      input.approvalRequired,
    ],
  );
  if (inserted.rows[0]) return { update: toUpdate(inserted.rows[0]), inserted: true };
  const existing = await db.query('select * from updates where service = $1 and tag = $2', [
    input.service,
    input.tag,
  ]);
  return { update: toUpdate(existing.rows[0]!), inserted: false };
}

export async function getUpdate(db: Queryable, id: number): Promise<Update | undefined> {
  const result = await db.query('select * from updates where id = $1', [id]);
  return result.rows[0] ? toUpdate(result.rows[0]) : undefined;
}

/** Updates, newest first; `open` only those not finished. */
export async function listUpdates(
  db: Queryable,
  filter: { service?: string; open?: boolean } = {},
): Promise<Update[]> {
  const result = await db.query(
    `select * from updates
     where ($1::text is null or service = $1) and (not $2::boolean or finished_at is null)
     order by first_seen_at desc, id desc`,
    [filter.service ?? null, filter.open ?? false],
  );
  return result.rows.map(toUpdate);
}

/** pending → approved; anything else is left as it is (and returned so). */
export async function approveUpdate(
  db: Queryable,
  id: number,
  actor: string,
  at: Date,
): Promise<Update | undefined> {
  await db.query(
    `update updates set state = 'approved', approved_by = $2, approved_at = $3
     where id = $1 and state = 'pending'`,
    [id, actor, at.toISOString()],
  );
  return getUpdate(db, id);
}

/**
 * approved → started, only for the one caller that wins the conditional update: that caller,
 * and no other replica, starts the canary.
 */
export async function claimUpdate(db: Queryable, id: number, at: Date): Promise<boolean> {
  const result = await db.query(
    `update updates set state = 'started', started_at = $2, error = null
     where id = $1 and state = 'approved'`,
    [id, at.toISOString()],
  );
  return result.affectedRows === 1;
}

/** The canary started: its deploy operation and the analysis that judges it. */
export async function markStarted(
  db: Queryable,
  id: number,
  operationId: number,
  analysisId: string,
): Promise<void> {
  await db.query('update updates set operation_id = $2, analysis_id = $3 where id = $1', [
    id,
    operationId,
    analysisId,
  ]);
}

/**
 * The canary could not be started: back to approved, tried again from `retryAt`, with why; or,
 * with `retryAt` null (the attempts are used up), `failed` for good.
 */
export async function releaseUpdate(
  db: Queryable,
  id: number,
  error: string,
  retryAt: Date | null,
  at: Date,
): Promise<void> {
  await db.query(
    `update updates set state = case when $3::timestamptz is null then 'failed' else 'approved' end,
       started_at = null, error = $2, attempts = attempts + 1, retry_at = $3,
       finished_at = case when $3::timestamptz is null then $4::timestamptz end
     where id = $1 and state = 'started'`,
    [id, error, retryAt?.toISOString() ?? null, at.toISOString()],
  );
}

/** started → promoted (with its lead time) or rolled-back; a finished update stays finished. */
export async function finishUpdate(
  db: Queryable,
  id: number,
  state: 'promoted' | 'rolled-back',
  at: Date,
): Promise<void> {
  await db.query(
    `update updates set state = $2, finished_at = $3,
       lead_time_seconds = case when $2 = 'promoted'
         then extract(epoch from ($3::timestamptz - first_seen_at)) end
     where id = $1 and state = 'started'`,
    [id, state, at.toISOString()],
  );
}

/** Open updates of a service that a newer tag replaces (not the one started, if any). */
export async function supersedeUpdates(
  db: Queryable,
  service: string,
  keepTag: string,
  at: Date,
): Promise<number> {
  const result = await db.query(
    `update updates set state = 'superseded', finished_at = $3
     where service = $1 and tag <> $2 and state in ('pending', 'approved')`,
    [service, keepTag, at.toISOString()],
  );
  return result.affectedRows;
}
