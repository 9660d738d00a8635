import type { Queryable } from '../store/index.js';
import type { StepState } from './next-step.js';

type Row = Record<string, unknown>;

const toState = (row: Row): StepState => ({
  service: row.service as string,
  version: row.version as string,
  step: Number(row.step),
  stepStartedAt: new Date(row.step_started_at as string | Date),
  lastInterval: (row.last_interval as string | null) ?? null,
  done: row.done as boolean,
  pausedBy: (row.paused_by as string | null) ?? null,
  confirmedBy: (row.confirmed_by as string | null) ?? null,
});

export async function readSteps(db: Queryable, service: string): Promise<StepState | undefined> {
  const { rows } = await db.query<Row>('select * from traffic_steps where service = $1', [service]);
  return rows[0] && toState(rows[0]);
}

/**
 * The steps of this canary version: the row as it is, or a fresh one at step 0 when the row
 * belongs to an older canary (or is missing). Every replica may call it; one row wins.
 */
export async function stepsFor(
  db: Queryable,
  service: string,
  version: string,
  startedAt: Date,
): Promise<StepState> {
  await db.query(
    `insert into traffic_steps (service, version, step, step_started_at, done, updated_at)
     values ($1, $2, 0, $3, false, now())
     on conflict (service) do update set version = excluded.version, step = 0,
       step_started_at = excluded.step_started_at, last_interval = null, done = false,
       paused_by = null, confirmed_by = null, updated_at = now()
     where traffic_steps.version <> excluded.version`,
    [service, version, startedAt],
  );
  return (await readSteps(db, service))!;
}

/**
 * Stores a decision, only over the state it was made from (same version, step and last
 * interval): false when another replica moved first, whose decision then stands.
 */
export async function writeSteps(db: Queryable, from: StepState, to: StepState): Promise<boolean> {
  const { rows } = await db.query(
    `update traffic_steps set step = $4, step_started_at = $5, last_interval = $6, done = $7,
       updated_at = now()
     where service = $1 and version = $2 and step = $3
       and last_interval is not distinct from $8
     returning service`,
    [
      from.service,
      from.version,
      from.step,
      to.step,
      to.stepStartedAt,
      to.lastInterval,
      to.done,
      from.lastInterval,
    ],
  );
  return rows.length === 1;
}

/** Sets who paused (or confirmed) this canary's steps; false without such a canary. */
async function markSteps(
  db: Queryable,
  mark: 'paused_by' | 'confirmed_by',
  service: string,
  version: string,
  by: string | null,
): Promise<boolean> {
  const { rows } = await db.query(
    `update traffic_steps set ${mark} = $3, updated_at = now()
     where service = $1 and version = $2 returning service`,
    [service, version, by],
  );
  return rows.length === 1;
}

/** Pause (`by` a person) or resume (`null`) this canary's steps; false without such a canary. */
export const setPaused = (db: Queryable, service: string, version: string, by: string | null) =>
  markSteps(db, 'paused_by', service, version, by);

/** Confirm (`by` a person) this canary's next step; false without such a canary. */
export const setConfirmed = (db: Queryable, service: string, version: string, by: string) =>
  markSteps(db, 'confirmed_by', service, version, by);
