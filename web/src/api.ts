/**
 * The Cadence API as the dashboard reads it. Like every read from a system Cadence queries,
 * the types declare only the fields the pages use; the server's shapes are in docs/metrics.md,
 * docs/git-cadence.md and docs/dashboard.md.
 */

export type Tier = 'elite' | 'high' | 'medium' | 'low';
export type TieredMetric =
  'deploymentFrequency' | 'leadTime' | 'changeFailureRate' | 'failedDeploymentRecoveryTime';

export interface Distribution {
  count: number;
  median: number | null;
  p90: number | null;
}
export interface Rate {
  numerator: number;
  denominator: number;
  rate: number | null;
}
export interface DoraMetrics {
  deployments: number;
  days: number;
  deploymentsPerDay: number;
  deployDaysPerWeek: number;
  leadTime: Distribution;
  changeFailureRate: Rate;
  failedDeploymentRecoveryTime: Distribution;
  timeToRestore: Distribution;
  reworkRate: Rate;
}
export interface MetricsReport {
  scope: { service?: string; environment: string; team?: string; from: string; to: string };
  overall: DoraMetrics;
  tiers: Record<'2023' | '2024', Record<TieredMetric, Tier | null>>;
  series?: { bucket: string; points: (DoraMetrics & { bucket: string })[] };
  /** When the scope has no deployment: the environments that have some. */
  elsewhere?: { environment: string; deployments: number }[];
}

export interface ServiceCatalogue {
  services: { service: string; environment: string; deployments: number; team: string | null }[];
  teams: string[];
}

export interface TimelineIncident {
  key: string;
  service: string | null;
  detectedAt: string | null;
  resolvedAt: string | null;
}
export interface TimelineDeployment {
  seq: number;
  service: string;
  environment: string;
  kind: 'deploy' | 'rollback';
  outcome: 'success' | 'failure';
  deployedAt: string;
  revision: string | null;
  artifact: string | null;
  failed: boolean;
  failureReasons: string[];
  restoredAt: string | null;
  rework: boolean;
  changes: string[];
  commits: { sha: string; committedAt: string; leadTimeSeconds: number }[];
  incidents: TimelineIncident[];
}
export interface IncidentRow extends TimelineIncident {
  environment: string;
  durationSeconds: number | null;
  attributedTo: { seq: number; service: string; deployedAt: string; revision: string | null }[];
}

export interface CadenceRepository {
  name: string;
  commitCount: number;
  hasRules: boolean;
  importedAt: string | null;
}
export interface DaySummary {
  count: number;
  min: number | null;
  median: number | null;
  max: number | null;
}
export interface CadenceReport {
  repository: string;
  asOf: string;
  production: string;
  updates: {
    package: string;
    cause: { commit: string; at: string };
    deploy: { commit: string; at: string };
    leadTimeDays: number;
  }[];
  pending: { package: string; cause: { commit: string; at: string }; ageDays: number }[];
  leadTimeByMonth: (DaySummary & {
    month: string;
    percentileDeciles: number[];
    ntileVariability: number[];
  })[];
  currentMonth: DaySummary & { month: string };
  lastThreeMonths: DaySummary & { from: string; to: string };
  deploysByMonth: {
    month: string;
    deploys: number;
    pairedDeploys: number;
    packages: Record<string, number>;
  }[];
  causesByMonth: { month: string; causes: number }[];
  intervals: {
    environment: string;
    commit: string;
    at: string;
    previousCommit: string;
    previousAt: string;
    minutes: number;
  }[];
  promotion: {
    from: string;
    to: string;
    deploys: number;
    promoted: number;
    superseded: number;
    waiting: number;
    share: number | null;
    fromIntervals: number;
    toIntervals: number;
    intervalRatio: number | null;
  }[];
  shallowBoundaries: string[];
}

/** A problem+json answer, kept whole so a page can show what the server said. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

/** GET a JSON resource; a problem answer becomes an ApiProblem. */
export async function getJson<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
  const url = query.size > 0 ? `${path}?${query.toString()}` : path;
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const body = (await response.json()) as unknown;
  if (!response.ok) {
    const problem = body as { detail?: string; field?: string };
    throw new ApiProblem(
      response.status,
      problem.field,
      problem.detail ?? `${url}: ${response.status}`,
    );
  }
  return body as T;
}

/**
 * A rollout as the watcher records it (docs/rollouts.md); in the live list, a Deployment as the
 * cluster has it now (phase, progress and counts from its current status).
 */
export interface RolloutRow {
  id: number;
  namespace: string;
  deployment: string;
  uid: string;
  revision: string;
  images: string[];
  phase: 'progressing' | 'complete' | 'failed';
  progress: number;
  desired: number;
  updated: number;
  reason: string | null;
  message: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  ready: number;
  available: number;
  /** When it passed its progress deadline; kept when it completed late. */
  deadlineExceededAt: string | null;
  deletedAt: string | null;
}

/** A canary analysis (docs/canary-analysis.md). */
export interface AnalysisRow {
  id: string;
  service: string;
  namespace: string;
  environment: string;
  revision: string | null;
  baselineRevision: string | null;
  status: string;
  verdict: 'pass' | 'fail' | 'inconclusive' | null;
  reason: string | null;
  startedAt: string;
  passed: number;
  failed: number;
  inconclusive: number;
  spec: { judge: string; intervals: number; metrics: { name: string }[] };
}
export interface MetricJudgementRow {
  metric: string;
  classification: string;
  criticalFailure: boolean;
  reason: string;
  canary: { count: number; mean: number | null };
  stable: { count: number; mean: number | null };
  ratio: number | null;
  difference: number | null;
  test?: { pValue: number; estimate: number };
}
export interface AnalysisIntervalRow {
  index: number;
  windowStart: string;
  windowEnd: string;
  verdict: 'pass' | 'marginal' | 'fail' | 'inconclusive';
  score: number | null;
  judgement: { judge: string; metrics: MetricJudgementRow[]; missing: string[] };
  missing: string[];
}
