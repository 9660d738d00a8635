import type { Queryable } from '../store/index.js';
import type { IntervalJudgement, Verdict } from './judgement.js';
import type { PromPoint } from './prometheus-client.js';
import type { AnalysisSpec, MetricSpec } from './schema.js';

/** The spec an analysis runs with: settings, and its metrics with their queries resolved. */
export type ResolvedAnalysisSpec = Omit<AnalysisSpec, 'metrics'> & {
  metrics: (MetricSpec & { query: string })[];
};

export type AnalysisStatus =
  | 'running'
  | 'promoting'
  | 'rolling-back'
  | 'promoted'
  | 'rolled-back'
  | 'inconclusive'
  | 'holding'
  | 'cancelled';

/** Overall verdict: what the analysis decided (null while running). */
export type AnalysisVerdict = 'pass' | 'fail' | 'inconclusive';

export interface Analysis {
  id: string;
  service: string;
  namespace: string;
  environment: string;
  revision: string | null;
  baselineRevision: string | null;
  status: AnalysisStatus;
  verdict: AnalysisVerdict | null;
  reason: string | null;
  spec: ResolvedAnalysisSpec;
  startedAt: Date;
  nextInterval: number;
  passed: number;
  failed: number;
  inconclusive: number;
  actionResult: unknown;
  actionError: string | null;
  decidedAt: Date | null;
  finishedAt: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
}

/** The samples of one metric, per track, as Prometheus returned them. */
export type IntervalSamples = Record<string, { canary: PromPoint[]; stable: PromPoint[] }>;

/** Requests per second each track served over the interval (null: unknown). */
export interface IntervalTraffic {
  canary: number | null;
  stable: number | null;
}

export interface AnalysisInterval {
  index: number;
  windowStart: Date;
  windowEnd: Date;
  verdict: Verdict;
  score: number | null;
  judgement: IntervalJudgement;
  samples: IntervalSamples;
  missing: string[];
  traffic: IntervalTraffic;
  evaluatedAt: Date;
  evaluatedBy: string;
}

type Row = Record<string, unknown>;
const date = (value: unknown) => (value === null ? null : new Date(value as string | Date));
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

export function toAnalysis(row: Row): Analysis {
  return {
    id: row.id as string,
    service: row.service as string,
    namespace: row.namespace as string,
    environment: row.environment as string,
    revision: (row.revision as string | null) ?? null,
    baselineRevision: (row.baseline_revision as string | null) ?? null,
    status: row.status as AnalysisStatus,
    verdict: (row.verdict as AnalysisVerdict | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    spec: json<ResolvedAnalysisSpec>(row.spec),
    startedAt: date(row.started_at)!,
    nextInterval: Number(row.next_interval),
    passed: Number(row.passed),
    failed: Number(row.failed),
    inconclusive: Number(row.inconclusive),
    actionResult: row.action_result === null ? null : json(row.action_result),
    actionError: (row.action_error as string | null) ?? null,
    decidedAt: date(row.decided_at),
    finishedAt: date(row.finished_at),
    leaseOwner: (row.lease_owner as string | null) ?? null,
    leaseExpiresAt: date(row.lease_expires_at),
  };
}

function toInterval(row: Row): AnalysisInterval {
  return {
    index: Number(row.interval_index),
    windowStart: date(row.window_start)!,
    windowEnd: date(row.window_end)!,
    verdict: row.verdict as Verdict,
    score: row.score === null ? null : Number(row.score),
    judgement: json<IntervalJudgement>(row.judgement),
    samples: json<IntervalSamples>(row.samples),
    missing: json<string[]>(row.missing),
    traffic: json<IntervalTraffic>(row.traffic),
    evaluatedAt: date(row.evaluated_at)!,
    evaluatedBy: row.evaluated_by as string,
  };
}

export interface NewAnalysis {
  id: string;
  service: string;
  namespace: string;
  environment: string;
  revision?: string | undefined;
  baselineRevision?: string | undefined;
  spec: ResolvedAnalysisSpec;
  startedAt: Date;
}

/** Inserts an analysis; an existing id is left as it is (a caller retrying a start). */
export async function insertAnalysis(db: Queryable, analysis: NewAnalysis): Promise<Analysis> {
  await db.query(
    `insert into analyses (id, service, namespace, environment, revision, baseline_revision,
       status, spec, started_at)
     values ($1, $2, $3, $4, $5, $6, 'running', $7, $8)
     on conflict (id) do nothing`,
    [
      analysis.id,
      analysis.service,
      analysis.namespace,
      analysis.environment,
      analysis.revision ?? null,
      analysis.baselineRevision ?? null,
      JSON.stringify(analysis.spec),
      analysis.startedAt,
    ],
  );
  return (await findAnalysis(db, analysis.id))!;
}

export async function findAnalysis(db: Queryable, id: string): Promise<Analysis | undefined> {
  const { rows } = await db.query<Row>('select * from analyses where id = $1', [id]);
  return rows[0] ? toAnalysis(rows[0]) : undefined;
}

export async function listAnalyses(
  db: Queryable,
  filter: {
    service?: string | undefined;
    status?: AnalysisStatus | undefined;
    limit?: number;
  } = {},
): Promise<Analysis[]> {
  const { rows } = await db.query<Row>(
    `select * from analyses
      where ($1::text is null or service = $1) and ($2::text is null or status = $2)
      order by created_at desc, id desc limit $3`,
    [filter.service ?? null, filter.status ?? null, filter.limit ?? 100],
  );
  return rows.map(toAnalysis);
}

export async function listIntervals(db: Queryable, id: string): Promise<AnalysisInterval[]> {
  const { rows } = await db.query<Row>(
    'select * from analysis_intervals where analysis_id = $1 order by interval_index',
    [id],
  );
  return rows.map(toInterval);
}

/**
 * Claims the active analyses this replica may run: unleased, leased to it, or with an expired
 * lease. Rows another replica is claiming right now are skipped (SKIP LOCKED), and the lease
 * keeps them away from everyone else until it expires.
 */
export async function claimAnalyses(
  db: Queryable,
  owner: string,
  now: Date,
  leaseExpiresAt: Date,
  limit: number,
): Promise<Analysis[]> {
  const { rows } = await db.query<Row>(
    `with claimable as (
       select id from analyses
        where finished_at is null
          and (lease_owner is null or lease_owner = $1 or lease_expires_at < $2)
        order by created_at
        limit $4
        for update skip locked
     )
     update analyses a set lease_owner = $1, lease_expires_at = $3
       from claimable where a.id = claimable.id
     returning a.*`,
    [owner, now, leaseExpiresAt, limit],
  );
  return rows.map(toAnalysis);
}

/** Gives up this replica's leases (a clean shutdown), so another replica takes over at once. */
export async function releaseLeases(db: Queryable, owner: string): Promise<void> {
  await db.query(
    'update analyses set lease_owner = null, lease_expires_at = null where lease_owner = $1',
    [owner],
  );
}

/**
 * Records one interval and the analysis's new counters and status in one step, only if this
 * replica still holds the lease and nobody recorded the interval first. Returns false when it
 * lost the race (nothing is written).
 */
export async function recordInterval(
  db: Queryable,
  owner: string,
  interval: AnalysisInterval,
  next: Pick<Analysis, 'status' | 'verdict' | 'reason' | 'passed' | 'failed' | 'inconclusive'> & {
    id: string;
    decidedAt: Date | null;
    finishedAt: Date | null;
  },
): Promise<boolean> {
  const { rows } = await db.query<Row>(
    `with advanced as (
       update analyses set next_interval = $3 + 1, status = $4, verdict = $5, reason = $6,
              passed = $7, failed = $8, inconclusive = $9, decided_at = $10, finished_at = $11
        where id = $1 and lease_owner = $2 and next_interval = $3 and status = 'running'
       returning id
     )
     insert into analysis_intervals (analysis_id, interval_index, window_start, window_end,
       verdict, score, judgement, samples, missing, traffic, evaluated_at, evaluated_by)
     select id, $3, $12, $13, $14, $15, $16, $17, $18, $19, $20, $2 from advanced
     on conflict do nothing
     returning interval_index`,
    [
      next.id,
      owner,
      interval.index,
      next.status,
      next.verdict,
      next.reason,
      next.passed,
      next.failed,
      next.inconclusive,
      next.decidedAt,
      next.finishedAt,
      interval.windowStart,
      interval.windowEnd,
      interval.verdict,
      interval.score,
      JSON.stringify(interval.judgement),
      JSON.stringify(interval.samples),
      JSON.stringify(interval.missing),
      JSON.stringify(interval.traffic),
      interval.evaluatedAt,
    ],
  );
  return rows.length === 1;
}

/** Marks a decided analysis's action done (or failed, to retry), if this replica holds it. */
export async function recordAction(
  db: Queryable,
  owner: string,
  id: string,
  from: AnalysisStatus,
  outcome: {
    status: AnalysisStatus;
    result?: unknown;
    error?: string;
    /** A new reason (a cancellation's); the verdict's reason is kept when absent. */
    reason?: string;
    finishedAt: Date | null;
  },
): Promise<boolean> {
  const { affectedRows } = await db.query(
    `update analyses set status = $4, action_result = $5, action_error = $6, finished_at = $7,
            reason = coalesce($8, reason)
      where id = $1 and lease_owner = $2 and status = $3`,
    [
      id,
      owner,
      from,
      outcome.status,
      outcome.result === undefined ? null : JSON.stringify(outcome.result),
      outcome.error ?? null,
      outcome.finishedAt,
      outcome.reason ?? null,
    ],
  );
  return affectedRows === 1;
}

/**
 * Ends the service's analyses that are still judging (running) when their canary went another
 * way: promoted or removed by hand, or replaced (a held canary too). They end `cancelled` with the reason and emit
 * nothing, because the operation that ended the canary is the record of what happened. An
 * analysis already acting on a verdict (promoting, rolling back) is left to its runner: its
 * action finds the canary gone and ends it cancelled too (see analysis-runner.ts).
 */
export async function cancelAnalyses(
  db: Queryable,
  service: string,
  reason: string,
  now: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `update analyses set status = 'cancelled', reason = $2, finished_at = $3,
            lease_owner = null, lease_expires_at = null
      where service = $1 and finished_at is null and status in ('running', 'holding')
     returning id`,
    [service, reason, now],
  );
  return rows.map((row) => row.id);
}
