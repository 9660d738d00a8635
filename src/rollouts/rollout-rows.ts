import type { Queryable } from '../store/index.js';
import type { RolloutObservation, RolloutPhase } from './rollout-phase.js';

/** One recorded rollout, as the API shows it. */
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
}

const COLUMNS = `id, namespace, deployment, uid, revision, generation, images, phase, progress,
  desired, updated, ready, available, reason, message, started_at, ended_at, updated_at, emitted_at`;

function toRollout(row: RolloutRow): Rollout {
  const endedAt = row.ended_at ? new Date(row.ended_at) : null;
  const startedAt = new Date(row.started_at);
  return {
    id: Number(row.id),
    namespace: row.namespace,
    deployment: row.deployment,
    uid: row.uid,
    revision: row.revision,
    generation: Number(row.generation),
    images: typeof row.images === 'string' ? (JSON.parse(row.images) as string[]) : row.images,
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
  };
}

export interface RecordedRollout {
  rollout: Rollout;
  /** Whether its CDEvent is still to be sent (terminal, and not sent yet). */
  needsEvent: boolean;
}

/**
 * Records what the watcher observed of a rollout: inserted on first sight, updated while it
 * progresses; a terminal rollout (complete, failed) is final, so a replica seeing an older state
 * late, or a re-list, changes nothing. Undefined when nothing changed.
 *
 * A rollout first seen already finished (the Deployments that were there when the watcher
 * first started) is recorded but sends no CDEvent: it happened before Cadence watched, at a time
 * it does not know, and counting it now would invent a deployment.
 */
export async function recordRollout(
  db: Queryable,
  observation: RolloutObservation,
  at: Date,
): Promise<RecordedRollout | undefined> {
  const ended = observation.phase === 'progressing' ? null : at.toISOString();
  const { rows } = await db.query<RolloutRow>(
    `insert into rollouts (namespace, deployment, uid, revision, generation, images, phase,
                           progress, desired, updated, ready, available, reason, message,
                           started_at, ended_at, updated_at, emitted_at)
     values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14,
             $15::timestamptz, $16::timestamptz, $15::timestamptz, $16::timestamptz)
     on conflict (uid, revision) do update set
       generation = excluded.generation, images = excluded.images, phase = excluded.phase,
       progress = excluded.progress, desired = excluded.desired, updated = excluded.updated,
       ready = excluded.ready, available = excluded.available, reason = excluded.reason,
       message = excluded.message, ended_at = excluded.ended_at, updated_at = excluded.updated_at
     where rollouts.phase = 'progressing'
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
    ],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { rollout: toRollout(row), needsEvent: row.phase !== 'progressing' && !row.emitted_at };
}

/** Notes that a rollout's CDEvent is in the intake, so no sweep sends it again. */
export async function markRolloutEmitted(db: Queryable, id: number): Promise<void> {
  await db.query('update rollouts set emitted_at = now() where id = $1', [id]);
}

/** Terminal rollouts whose CDEvent is not yet in the intake (its send failed, or the process stopped). */
export async function unsentRollouts(db: Queryable): Promise<Rollout[]> {
  const { rows } = await db.query<RolloutRow>(
    `select ${COLUMNS} from rollouts where phase <> 'progressing' and emitted_at is null
     order by id limit 100`,
  );
  return rows.map(toRollout);
}

export interface RolloutFilter {
  namespace?: string | undefined;
  deployment?: string | undefined;
  phase?: RolloutPhase | undefined;
  limit?: number | undefined;
}

/** The latest rollout of each Deployment (live progress), newest first. */
export async function latestRollouts(
  db: Queryable,
  filter: RolloutFilter = {},
): Promise<Rollout[]> {
  const { rows } = await db.query<RolloutRow>(
    `select * from (
       select distinct on (namespace, deployment) ${COLUMNS}
       from rollouts
       where ($1::text is null or namespace = $1) and ($2::text is null or deployment = $2)
       order by namespace, deployment, started_at desc, id desc
     ) latest
     where ($3::text is null or phase = $3)
     order by started_at desc, id desc
     limit $4`,
    [
      filter.namespace ?? null,
      filter.deployment ?? null,
      filter.phase ?? null,
      filter.limit ?? 100,
    ],
  );
  return rows.map(toRollout);
}

/** Every recorded rollout of one Deployment, newest first. */
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

/** Rollouts updated after a time, oldest first: what a live stream sends next. */
export async function rolloutsUpdatedSince(db: Queryable, since: Date): Promise<Rollout[]> {
  const { rows } = await db.query<RolloutRow>(
    `select ${COLUMNS} from rollouts where updated_at > $1::timestamptz
     order by updated_at, id limit 500`,
    [since.toISOString()],
  );
  return rows.map(toRollout);
}
