import { bucketStart, quantile } from '../statistics/index.js';
import { firstAtOrAfter, pairCauses, type PairedUpdate, type PendingCause } from './pairing.js';
import type { GitEvent, Rules } from './rules.js';

const DAY_MS = 86_400_000;
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Figures are rounded to 6 decimals (a day to about 0.1 s): stable to compare and to print. */
export function round6(days: number): number {
  return Math.round(days * 1e6) / 1e6;
}
const roundOrNull = (value: number | null) => (value === null ? null : round6(value));

/** `2024-03` for any time in March 2024 (UTC). */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The Monday (UTC, ISO 8601 week) starting the week holding `at`, as `2024-03-04`. */
export function weekOf(at: Date): string {
  return bucketStart(at, 'week').toISOString().slice(0, 10);
}

/** Every month from `first` to `last` inclusive, `YYYY-MM`. */
export function monthRange(first: string, last: string): string[] {
  const months: string[] = [];
  let year = Number(first.slice(0, 4));
  let month = Number(first.slice(5, 7));
  for (;;) {
    const key = `${year}-${String(month).padStart(2, '0')}`;
    if (key > last) break;
    months.push(key);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return months;
}

/** The month `count` months before `month` (`YYYY-MM`). */
export function monthsBefore(month: string, count: number): string {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 - count;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** Count, min, median and max of a set of day values (median as percentile_cont(0.5)). */
export interface DaySummary {
  count: number;
  min: number | null;
  median: number | null;
  max: number | null;
}

export function summarizeDays(values: number[]): DaySummary {
  return {
    count: values.length,
    min: values.length === 0 ? null : round6(Math.min(...values)),
    median: roundOrNull(quantile(values, 0.5)),
    max: values.length === 0 ? null : round6(Math.max(...values)),
  };
}

export interface UpdateRow {
  package: string;
  cause: { commit: string; at: string };
  deploy: { commit: string; at: string };
  leadTimeDays: number;
}

export interface PendingRow {
  package: string;
  cause: { commit: string; at: string };
  ageDays: number;
}

export interface MonthlyLeadTime extends DaySummary {
  month: string;
  /** Cadence's deciles: p10 … p90, linear interpolation as percentile_cont; empty when none. */
  percentileDeciles: number[];
  /**
   * The blog's "variability": the month's lead times sorted into `ntile(10)` groups and each
   * group averaged (fewer than ten updates: one group per update); empty when none.
   */
  ntileVariability: number[];
}

/**
 * The blog's variability: `avg(x) … group by ntile(10) over (order by x)`. As PostgreSQL's
 * ntile, the groups differ in size by at most one, the larger first.
 *
 * @example
 * ntileAverages([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 10) // [1.5, 3.5, 5, 6, …, 12]
 */
export function ntileAverages(values: number[], groups: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const count = Math.min(groups, sorted.length);
  const size = Math.floor(sorted.length / groups);
  const larger = sorted.length % groups;
  const averages: number[] = [];
  let start = 0;
  for (let group = 0; group < count; group++) {
    const length = size + (group < larger ? 1 : 0);
    const slice = sorted.slice(start, start + length);
    averages.push(round6(slice.reduce((sum, value) => sum + value, 0) / slice.length));
    start += length;
  }
  return averages;
}

/** One interval between consecutive deploys to an environment folder (the blog's rows). */
export interface DeployIntervalRow {
  environment: string;
  commit: string;
  at: string;
  previousCommit: string;
  previousAt: string;
  minutes: number;
}

export interface DeployInterval extends DaySummary {
  /** `week` (the Monday) or `month` of the later deploy of each interval. */
  bucket: string;
}

export interface EnvironmentCadence {
  environment: string;
  /** Distinct commits that deployed to the environment (folder). */
  deploys: number;
  /** Days between consecutive deploys to the environment, by the later deploy's week/month. */
  weekly: DeployInterval[];
  monthly: DeployInterval[];
}

export interface Promotion {
  from: string;
  to: string;
  /** The author's figure ("throughput success"): production intervals / `from` intervals,
   * the intervals counted as in `intervals`; null when `from` has none. */
  intervalRatio: number | null;
  fromIntervals: number;
  toIntervals: number;
  /** Deploys (commit × package) to `from`. */
  deploys: number;
  /** Followed by a deploy of the package to `to` before the package's next deploy to `from`. */
  promoted: number;
  /** Replaced in `from` by a newer deploy of the package before reaching `to`. */
  superseded: number;
  /** Neither yet. */
  waiting: number;
  /** Cadence's promotion share: promoted / (promoted + superseded); null when both are 0. */
  share: number | null;
}

/** The patching-cadence report: every figure `cadence git report` and the API show. */
export interface CadenceReport {
  asOf: string;
  environments: string[];
  production: string;
  /** One row per cause shipped to production, by cause time. */
  updates: UpdateRow[];
  pending: PendingRow[];
  /** By the month of the deploy that shipped the update. */
  leadTimeByMonth: MonthlyLeadTime[];
  currentMonth: DaySummary & { month: string };
  /** The current month and the two before it. */
  lastThreeMonths: DaySummary & { from: string; to: string };
  /**
   * Production deploys, distinct deploy commit × package: `deploys` counts them all (Cadence),
   * `pairedDeploys` only those that shipped at least one cause (the blog's count); `packages`
   * splits `deploys` per package.
   */
  deploysByMonth: {
    month: string;
    deploys: number;
    pairedDeploys: number;
    packages: Record<string, number>;
  }[];
  /** Cause events (commit × package) per month. */
  causesByMonth: { month: string; causes: number }[];
  deployIntervals: EnvironmentCadence[];
  /** Every interval between consecutive deploys, per environment, in time order. */
  intervals: DeployIntervalRow[];
  /** One entry per non-production environment when the rules list several. */
  promotion: Promotion[];
  /** Files a cause or deploy purpose matched without telling the package. */
  unattributedFiles: number;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

const refJson = (ref: { commit: string; at: Date }) => ({
  commit: ref.commit,
  at: ref.at.toISOString(),
});

/** Distinct (commit, package) deploys to one environment, in time order. */
function deploysTo(events: GitEvent[], environment: string): GitEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    if (event.role !== 'deploy' || event.environment !== environment) return false;
    const key = `${event.commit}\u0000${event.package}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function bucketed(
  intervals: { at: Date; days: number }[],
  bucketOf: (at: Date) => string,
): DeployInterval[] {
  const buckets = new Map<string, number[]>();
  for (const interval of intervals) {
    const key = bucketOf(interval.at);
    const values = buckets.get(key) ?? [];
    values.push(interval.days);
    buckets.set(key, values);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([bucket, values]) => ({ bucket, ...summarizeDays(values) }));
}

/** The distinct commits that deployed to an environment, in time order. */
function deployCommits(events: GitEvent[], environment: string): { commit: string; at: Date }[] {
  const commits: { commit: string; at: Date }[] = [];
  const seen = new Set<string>();
  for (const event of deploysTo(events, environment)) {
    if (seen.has(event.commit)) continue;
    seen.add(event.commit);
    commits.push({ commit: event.commit, at: event.at });
  }
  return commits.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * The intervals between consecutive deploys (distinct commits) to one environment folder, one
 * row each: what `cadence git intervals` lists and `cadence_intervals` holds.
 */
export function deployIntervalRows(events: GitEvent[], environment: string): DeployIntervalRow[] {
  const commits = deployCommits(events, environment);
  return commits.slice(1).map((deploy, index) => {
    const previous = commits[index]!;
    return {
      environment,
      commit: deploy.commit,
      at: deploy.at.toISOString(),
      previousCommit: previous.commit,
      previousAt: previous.at.toISOString(),
      minutes: round6((deploy.at.getTime() - previous.at.getTime()) / 60_000),
    };
  });
}

/** Intervals between consecutive deploys (distinct commits) to one environment. */
export function environmentCadence(events: GitEvent[], environment: string): EnvironmentCadence {
  const commits = deployCommits(events, environment);
  const intervals = commits.slice(1).map((deploy, index) => ({
    at: deploy.at,
    days: (deploy.at.getTime() - commits[index]!.at.getTime()) / DAY_MS,
  }));
  return {
    environment,
    deploys: commits.length,
    weekly: bucketed(intervals, weekOf),
    monthly: bucketed(intervals, monthOf),
  };
}

/**
 * How many deploys to `from` reached `to`: each is promoted when a deploy of its package to `to`
 * comes at or after it and before the package's next deploy to `from`.
 */
export function promotionRate(events: GitEvent[], from: string, to: string): Promotion {
  const targetTimes = new Map<string, number[]>();
  for (const event of deploysTo(events, to)) {
    const times = targetTimes.get(event.package) ?? [];
    times.push(event.at.getTime());
    targetTimes.set(event.package, times);
  }
  for (const times of targetTimes.values()) times.sort((a, b) => a - b);
  const byPackage = new Map<string, number[]>();
  for (const event of deploysTo(events, from)) {
    const times = byPackage.get(event.package) ?? [];
    times.push(event.at.getTime());
    byPackage.set(event.package, times);
  }
  const fromIntervals = Math.max(0, deployCommits(events, from).length - 1);
  const toIntervals = Math.max(0, deployCommits(events, to).length - 1);
  const result = { from, to, deploys: 0, promoted: 0, superseded: 0, waiting: 0 };
  for (const [pkg, times] of byPackage) {
    times.sort((a, b) => a - b);
    const targets = targetTimes.get(pkg) ?? [];
    times.forEach((at, index) => {
      result.deploys++;
      const next = times[index + 1];
      const target = targets[firstAtOrAfter(targets, at)];
      if (target !== undefined && (next === undefined || target < next)) result.promoted++;
      else if (next !== undefined) result.superseded++;
      else result.waiting++;
    });
  }
  const decided = result.promoted + result.superseded;
  return {
    ...result,
    share: decided === 0 ? null : round6(result.promoted / decided),
    intervalRatio: fromIntervals === 0 ? null : round6(toIntervals / fromIntervals),
    fromIntervals,
    toIntervals,
  };
}

/**
 * Builds the report from classified events (pure: `asOf` is "now" for pending ages and the
 * current month; events after it are left out, so the report is the history as it stood then
 * and no age is negative). Monthly series run from the first event's month to the later of `asOf`'s
 * and the last event's, months without data included, so a chart has no holes.
 *
 * @example
 * buildCadenceReport(rules, classifyHistory(rules, history).events, 0, new Date('2024-02-20'))
 */
export function buildCadenceReport(
  rules: Pick<Rules, 'environments' | 'production'>,
  allEvents: GitEvent[],
  unattributedFiles: number,
  asOf: Date,
): CadenceReport {
  const events = allEvents.filter((event) => event.at.getTime() <= asOf.getTime());
  const { updates, pending } = pairCauses(events, rules.production, asOf);
  const pairedDeploys = new Set(updates.map((u) => `${u.deploy.commit}\u0000${u.package}`));
  const productionDeploys = deploysTo(events, rules.production);
  const causes = events.filter((event) => event.role === 'cause');
  const currentMonth = monthOf(asOf);
  const threeMonthsFrom = monthsBefore(currentMonth, 2);

  // Grouped once: a long history has tens of thousands of events and a hundred months.
  const causesIn = groupBy(causes, (cause) => monthOf(cause.at));
  const deploysIn = groupBy(productionDeploys, (deploy) => monthOf(deploy.at));
  const updatesIn = groupBy(updates, (update) => monthOf(update.deploy.at));
  const eventMonths = [...causesIn.keys(), ...deploysIn.keys()].sort();
  const lastMonth = eventMonths.at(-1);
  const months =
    lastMonth === undefined
      ? []
      : monthRange(eventMonths[0]!, lastMonth > currentMonth ? lastMonth : currentMonth);
  const leadTimesIn = (month: string) =>
    (updatesIn.get(month) ?? []).map((update) => update.leadTimeDays);

  return {
    asOf: asOf.toISOString(),
    environments: rules.environments,
    production: rules.production,
    updates: updates.map((update: PairedUpdate) => ({
      package: update.package,
      cause: refJson(update.cause),
      deploy: refJson(update.deploy),
      leadTimeDays: round6(update.leadTimeDays),
    })),
    pending: pending.map((item: PendingCause) => ({
      package: item.package,
      cause: refJson(item.cause),
      ageDays: round6(item.ageDays),
    })),
    leadTimeByMonth: months.map((month) => {
      const values = leadTimesIn(month);
      return {
        month,
        ...summarizeDays(values),
        percentileDeciles:
          values.length === 0 ? [] : DECILES.map((q) => round6(quantile(values, q)!)),
        ntileVariability: ntileAverages(values, 10),
      };
    }),
    currentMonth: { month: currentMonth, ...summarizeDays(leadTimesIn(currentMonth)) },
    lastThreeMonths: {
      from: threeMonthsFrom,
      to: currentMonth,
      ...summarizeDays(monthRange(threeMonthsFrom, currentMonth).flatMap(leadTimesIn)),
    },
    deploysByMonth: months.map((month) => {
      const packages: Record<string, number> = {};
      let deploys = 0;
      let paired = 0;
      for (const deploy of deploysIn.get(month) ?? []) {
        deploys++;
        if (pairedDeploys.has(`${deploy.commit}\u0000${deploy.package}`)) paired++;
        packages[deploy.package] = (packages[deploy.package] ?? 0) + 1;
      }
      return { month, deploys, pairedDeploys: paired, packages };
    }),
    causesByMonth: months.map((month) => ({
      month,
      causes: causesIn.get(month)?.length ?? 0,
    })),
    deployIntervals: rules.environments.map((environment) =>
      environmentCadence(events, environment),
    ),
    intervals: rules.environments.flatMap((environment) => deployIntervalRows(events, environment)),
    promotion: rules.environments
      .slice(0, -1)
      .map((environment) => promotionRate(events, environment, rules.production)),
    unattributedFiles,
  };
}
