import type { Queryable, Store } from '../store/index.js';
import type { DeploymentCondition, RolloutObservation, RolloutPhase } from './rollout-phase.js';

/** One recorded rollout (a revision's history), as the API shows it. */
export interface Rollout {
  id: number;
  namespace: string;
  deployment: string;
  uid: string;
  revision: string;
  generation: number;
  images: string[];
  phase: RolloutPhase;
  progress: number;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  reason: string | null;
  message: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  updatedAt: string;
  /** When it first passed its progress deadline; kept when it completed late. */
  deadlineExceededAt: string | null;
  /** When its Deployment was deleted (its history is kept). */
  deletedAt: string | null;
}

/**
 * One watched Deployment as the cluster has it now (the live view): its current revision's
 * rollout record, with phase, progress and replica counts replaced by the current status, which
 * a scale or a late completion changes after the record is final. `eventId` is the rollouts
 * stream's id for this state.
 */
export interface LiveRollout extends Rollout {
  conditions: DeploymentCondition[];
  eventId: number;
}

interface RolloutRow {
  id: string | number;
  namespace: string;
  deployment: string;
  uid: string;
  revision: string;
  generation: string | number;
  images: string[] | string;
  phase: RolloutPhase;
  progress: number;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  reason: string | null;
  message: string | null;
  started_at: Date;
  ended_at: Date | null;
  updated_at: Date;
  emitted_at: Date | null;
  deadline_exceeded_at: Date | null;
  deleted_at: Date | null;
  reported_by_deployer: boolean;
}

interface LiveRow extends Omit<RolloutRow, 'id' | 'started_at' | 'emitted_at'> {
  rollout_id: string | number | null;
  started_at: Date | null;
  conditions: DeploymentCondition[] | string;
  change_seq: string | number;
}

const COLUMNS = `id, namespace, deployment, uid, revision, generation, images, phase, progress,
  desired, updated, ready, available, reason, message, started_at, ended_at, updated_at, emitted_at,
  deadline_exceeded_at, deleted_at, reported_by_deployer`;

const LIVE_COLUMNS = `l.uid, l.namespace, l.deployment, l.revision, l.generation, l.images, l.phase,
  l.progress, l.desired, l.updated, l.ready, l.available, l.conditions, l.updated_at, l.deleted_at,
  l.change_seq, r.id as rollout_id, r.reason, r.message, r.started_at, r.ended_at,
  r.deadline_exceeded_at`;

const iso = (value: Date | null): string | null => (value ? new Date(value).toISOString() : null);
const json = <T>(value: T | string): T =>
  typeof value === 'string' ? (JSON.parse(value) as T) : value;

/**
 * What a rollout record and a live row show alike, from the columns both queries select; the
 * live row starts at its record's start, or at its update when it has no record yet.
 */
function rolloutFields(
  row: Omit<LiveRow, 'rollout_id' | 'started_at' | 'conditions' | 'change_seq'>,
  id: string | number | null,
  startedAt: Date,
): Rollout {
  const endedAt = row.ended_at ? new Date(row.ended_at) : null;
  return {
    id: Number(id ?? 0),
    namespace: row.namespace,
    deployment: row.deployment,
    uid: row.uid,
    revision: row.revision,
    generation: Number(row.generation),
    images: json(row.images),
    phase: row.phase,
    progress: Number(row.progress),
    desired: row.desired,
    updated: row.updated,
    ready: row.ready,
    available: row.available,
    reason: row.reason,
    message: row.message,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt?.toISOString() ?? null,
    durationMs: endedAt ? endedAt.getTime() - startedAt.getTime() : null,
    updatedAt: new Date(row.updated_at).toISOString(),
    deadlineExceededAt: iso(row.deadline_exceeded_at),
    deletedAt: iso(row.deleted_at),
  };
}

const toRollout = (row: RolloutRow): Rollout =>
  rolloutFields(row, row.id, new Date(row.started_at));

const toLive = (row: LiveRow): LiveRollout => ({
  ...rolloutFields(row, row.rollout_id, new Date(row.started_at ?? row.updated_at)),
  conditions: json(row.conditions),
  eventId: Number(row.change_seq),
});

/**
 * Writes to the live view take one lock, so `rollout_change_seq` values become visible in the
 * order they were taken: a stream that has sent id 7 can never later find a 6 committed behind
 * it (two replicas, or a pool, write concurrently on PostgreSQL).
 */
const CHANGE_LOCK = 1_702_172_017;
const lockChanges = (tx: Queryable) => tx.query('select pg_advisory_xact_lock($1)', [CHANGE_LOCK]);

/**
 * Records a revision's rollout: inserted on first sight, then updated until it completes.
 * A completed rollout is final (a scale or a re-list changes nothing in it). A rollout past its
 * progress deadline is `failed` with the time kept; if it then progresses or completes (late
 * completion), it becomes `complete` with `deadline_exceeded_at` still set. Undefined when
 * nothing changed.
 *
 * A rollout first seen already finished (the Deployments that were there when the watcher
 * first started) is recorded but marked as sent: it happened before Cadence watched, at a time
 * it does not know, and counting it now would invent a deployment.
 */
async function recordRevision(
  db: Queryable,
  observation: RolloutObservation,
  at: Date,
): Promise<Rollout | undefined> {
  const ended = observation.phase === 'progressing' ? null : at.toISOString();
  const { rows } = await db.query<RolloutRow>(
    `insert into rollouts (namespace, deployment, uid, revision, generation, images, phase,
                           progress, desired, updated, ready, available, reason, message,
                           started_at, ended_at, updated_at, emitted_at, deadline_exceeded_at,
                           reported_by_deployer)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14,
             $15::timestamptz, $16::timestamptz, $15::timestamptz, $16::timestamptz,
             case when $7 = 'failed' then $15::timestamptz end, $17)
     on conflict (uid, revision) do update set
       generation = excluded.generation, images = excluded.images, phase = excluded.phase,
       progress = excluded.progress, desired = excluded.desired, updated = excluded.updated,
       ready = excluded.ready, available = excluded.available,
       reason = coalesce(excluded.reason, rollouts.reason),
       message = coalesce(excluded.message, rollouts.message),
       ended_at = excluded.ended_at, updated_at = excluded.updated_at,
       deadline_exceeded_at = coalesce(rollouts.deadline_exceeded_at, excluded.deadline_exceeded_at),
       reported_by_deployer = excluded.reported_by_deployer
     where rollouts.phase <> 'complete'
       and (rollouts.phase, rollouts.progress, rollouts.updated, rollouts.ready, rollouts.available,
            rollouts.desired, rollouts.generation)
           is distinct from (excluded.phase, excluded.progress, excluded.updated, excluded.ready,
                             excluded.available, excluded.desired, excluded.generation)
     returning ${COLUMNS}`,
    [
      observation.namespace,
      observation.deployment,
      observation.uid,
      observation.revision,
      observation.generation,
      JSON.stringify(observation.images),
      observation.phase,
      observation.progress,
      observation.desired,
      observation.updated,
      observation.ready,
      observation.available,
      observation.reason ?? null,
      observation.message ?? null,
      at.toISOString(),
      ended,
      observation.reportedByDeployer,
    ],
  );
  return rows[0] ? toRollout(rows[0]) : undefined;
}

/** The live row of a Deployment, rewritten when anything shown changed (or `force`). */
async function recordLive(
  db: Queryable,
  observation: RolloutObservation,
  at: Date,
  force: boolean,
): Promise<boolean> {
  const { rows } = await db.query<{ uid: string }>(
    `insert into live_deployments (uid, namespace, deployment, revision, generation, images, phase,
                                   progress, desired, updated, ready, available, conditions,
                                   updated_at, deleted_at, change_seq)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13::jsonb,
             $14::timestamptz, null, nextval('rollout_change_seq'))
     on conflict (uid) do update set
       namespace = excluded.namespace, deployment = excluded.deployment,
       revision = excluded.revision, generation = excluded.generation, images = excluded.images,
       phase = excluded.phase, progress = excluded.progress, desired = excluded.desired,
       updated = excluded.updated, ready = excluded.ready, available = excluded.available,
       conditions = excluded.conditions, updated_at = excluded.updated_at, deleted_at = null,
       change_seq = excluded.change_seq
     where $15
        or (live_deployments.revision, live_deployments.generation, live_deployments.images,
            live_deployments.phase, live_deployments.progress, live_deployments.desired,
            live_deployments.updated, live_deployments.ready, live_deployments.available,
            live_deployments.conditions, live_deployments.deleted_at is null)
           is distinct from (excluded.revision, excluded.generation, excluded.images,
                             excluded.phase, excluded.progress, excluded.desired,
                             excluded.updated, excluded.ready, excluded.available,
                             excluded.conditions, true)
     returning uid`,
    [
      observation.uid,
      observation.namespace,
      observation.deployment,
      observation.revision,
      observation.generation,
      JSON.stringify(observation.images),
      observation.phase,
      observation.progress,
      observation.desired,
      observation.updated,
      observation.ready,
      observation.available,
      JSON.stringify(observation.conditions),
      at.toISOString(),
      force,
    ],
  );
  return rows.length > 0;
}

export interface RecordedObservation {
  /** The revision's rollout, when this observation changed it. */
  rollout?: Rollout | undefined;
  /** Whether the live view changed (a stream event is due). */
  liveChanged: boolean;
}

/**
 * Records one observation of a Deployment: its revision's rollout record and its live state,
 * in one transaction. Several replicas may record the same observation: the upserts change
 * each row once.
 */
export async function recordObservation(
  store: Store,
  observation: RolloutObservation,
  at: Date,
): Promise<RecordedObservation> {
  return store.transaction(async (tx) => {
    await lockChanges(tx);
    const rollout = await recordRevision(tx, observation, at);
    const liveChanged = await recordLive(tx, observation, at, rollout !== undefined);
    return { rollout, liveChanged };
  });
}

/**
 * A Deployment deleted from the cluster: gone from the live view (its row kept, marked, so a
 * resuming stream hears of it) and its rollouts marked; their history stays. False when it was
 * already marked.
 */
export async function recordDeletion(store: Store, uid: string, at: Date): Promise<boolean> {
  return store.transaction(async (tx) => {
    await lockChanges(tx);
    const { rows } = await tx.query<{ uid: string }>(
      `update live_deployments set deleted_at = $2::timestamptz, updated_at = $2::timestamptz,
              change_seq = nextval('rollout_change_seq')
       where uid = $1 and deleted_at is null returning uid`,
      [uid, at.toISOString()],
    );
    await tx.query(
      `update rollouts set deleted_at = $2::timestamptz where uid = $1 and deleted_at is null`,
      [uid, at.toISOString()],
    );
    return rows.length > 0;
  });
}

/** Uids of live (not deleted) Deployments, in the given namespaces (all when empty). */
export async function liveUids(db: Queryable, namespaces: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ uid: string }>(
    `select uid from live_deployments
     where deleted_at is null and (cardinality($1::text[]) = 0 or namespace = any($1::text[]))`,
    [[...namespaces]],
  );
  return rows.map((row) => row.uid);
}

/** Notes that a rollout's final CDEvent is in the intake, so no sweep sends it again. */
export async function markRolloutEmitted(db: Queryable, id: number): Promise<void> {
  await db.query('update rollouts set emitted_at = now() where id = $1', [id]);
}

/** Notes that the failure CDEvent of a deadline miss is in the intake. */
export async function markFailureEmitted(db: Queryable, id: number): Promise<void> {
  await db.query('update rollouts set failure_emitted_at = now() where id = $1', [id]);
}

export interface DueRolloutEvent {
  rollout: Rollout;
  outcome: 'success' | 'failure';
  /** Applied by Cadence's deployer: marked as sent, never sent (the deployer reports it). */
  reportedByDeployer: boolean;
}

/**
 * The CDEvents due: every completed rollout not yet sent, and every failed one whose failure is
 * settled — past its deadline for `lateCompletionGraceMs` without completing, replaced by a
 * newer revision, or deleted (docs/rollouts.md, "Late completion"). A rollout whose failure was
 * sent and that completes later is sent again as a success: a failed deployment, then its fix.
 */
export async function dueRolloutEvents(
  db: Queryable,
  now: Date,
  lateCompletionGraceMs: number,
): Promise<DueRolloutEvent[]> {
  const { rows } = await db.query<RolloutRow>(
    `select ${COLUMNS} from rollouts r
     where r.emitted_at is null
       and (r.phase = 'complete'
            or (r.phase = 'failed' and r.failure_emitted_at is null
                and (r.deadline_exceeded_at <= $1::timestamptz
                     or r.deleted_at is not null
                     or exists (select 1 from rollouts n where n.uid = r.uid and n.id > r.id))))
     order by id limit 100`,
    [new Date(now.getTime() - lateCompletionGraceMs).toISOString()],
  );
  return rows.map((row) => ({
    rollout: toRollout(row),
    outcome: row.phase === 'complete' ? 'success' : 'failure',
    reportedByDeployer: row.reported_by_deployer,
  }));
}

export interface RolloutFilter {
  namespace?: string | undefined;
  deployment?: string | undefined;
  phase?: RolloutPhase | undefined;
  limit?: number | undefined;
}

/** The live view: every watched Deployment still in the cluster, newest rollout first. */
export async function latestRollouts(
  db: Queryable,
  filter: RolloutFilter = {},
): Promise<LiveRollout[]> {
  const { rows } = await db.query<LiveRow>(
    `select ${LIVE_COLUMNS}
     from live_deployments l left join rollouts r on r.uid = l.uid and r.revision = l.revision
     where l.deleted_at is null
       and ($1::text is null or l.namespace = $1) and ($2::text is null or l.deployment = $2)
       and ($3::text is null or l.phase = $3)
     order by r.started_at desc nulls last, l.change_seq desc
     limit $4`,
    [
      filter.namespace ?? null,
      filter.deployment ?? null,
      filter.phase ?? null,
      filter.limit ?? 100,
    ],
  );
  return rows.map(toLive);
}

/** Live-view changes after a stream event id, oldest first; deleted Deployments included. */
export async function liveChangesSince(
  db: Queryable,
  eventId: number,
  limit = 500,
): Promise<LiveRollout[]> {
  const { rows } = await db.query<LiveRow>(
    `select ${LIVE_COLUMNS}
     from live_deployments l left join rollouts r on r.uid = l.uid and r.revision = l.revision
     where l.change_seq > $1 order by l.change_seq limit $2`,
    [eventId, limit],
  );
  return rows.map(toLive);
}

/** The newest stream event id (0 when nothing was recorded). */
export async function lastChangeId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ last: string | number | null }>(
    'select max(change_seq) as last from live_deployments',
  );
  return Number(rows[0]?.last ?? 0);
}

/** Every recorded rollout of one Deployment, newest first (deleted Deployments' too). */
export async function rolloutHistory(
  db: Queryable,
  namespace: string,
  deployment: string,
  limit = 100,
): Promise<Rollout[]> {
  const { rows } = await db.query<RolloutRow>(
    `select ${COLUMNS} from rollouts where namespace = $1 and deployment = $2
     order by started_at desc, id desc limit $3`,
    [namespace, deployment, limit],
  );
  return rows.map(toRollout);
}

/** Durations of the completed rollouts of live Deployments, for the histogram. */
export async function completedDurations(
  db: Queryable,
): Promise<{ namespace: string; deployment: string; seconds: number }[]> {
  const { rows } = await db.query<{ namespace: string; deployment: string; seconds: number }>(
    `select r.namespace, r.deployment,
            extract(epoch from (r.ended_at - r.started_at))::double precision as seconds
     from rollouts r join live_deployments l on l.uid = r.uid and l.deleted_at is null
     where r.phase = 'complete' and r.ended_at is not null`,
  );
  return rows.map((row) => ({ ...row, seconds: Number(row.seconds) }));
}
