/**
 * bench/canary — the three judges on the SAME seeded simulated canaries: the fixed threshold and
 * Mann-Whitney (Kayenta-style), each judging every 5-minute interval, and the sequential judge
 * looking after every 30 s sample at all the samples so far (continuous monitoring).
 *
 *   npm run bench:canary [-- --runs 2000 --seeds 42,43,44 --regression-runs 500]
 *
 * Measures, one table: false rollbacks of healthy canaries at every seed, detection and time to
 * rollback for +20 % latency and +1 point of errors (from the start, and injected after 5 min),
 * the exposure (requests the bad canary served before rollback) for a replica canary (1 pod
 * beside 3: 25 % of traffic) and a 5 %-weight canary (simulated; no data plane here), and a
 * second table: a 10 → 40 ms regression read through coarse Prometheus histogram buckets.
 *
 * The noise model, per 30 s window and track (as before this benchmark had the third judge):
 * - requests: 80 req/s in all, Poisson; errors binomial at 1 % (2 % after a 1-point regression);
 * - p95 / p99 log-normal around 120 / 250 ms (σ 0.06 / 0.12, wider when the track has fewer
 *   requests: σ × √(600 / requests)), times a load factor both tracks share in that window,
 *   times a per-run pod bias of the canary (σ 2 %), and a spike now and then (3 % of windows,
 *   ×1.8 p95 / ×2.5 p99) on either track.
 * Progress rules as the runner applies them (nextProgress): the per-interval judges roll back on
 * the first failing interval and promote after 3 passes; the sequential judge's "interval" is one
 * 30 s look, it promotes after 2 passing looks and holds (inconclusive) up to 90 looks (45 min).
 * Seeded: the same seeds print the same tables.
 */
import { parseArgs } from 'node:util';
import { judgeInterval } from '../../src/analysis/judge-interval.js';
import { nextProgress } from '../../src/analysis/analysis-progress.js';
import { planAnalysis } from '../../src/analysis/start-analysis.js';
import { type AnalysisSpec, type JudgeName, type MetricSpec } from '../../src/analysis/schema.js';
import { type MetricSamples } from '../../src/analysis/judgement.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    seeds: { type: 'string', default: '42,43,44' },
    'regression-runs': { type: 'string', default: '500' },
  },
});
const HEALTHY_RUNS = Number(values.runs);
const REGRESSION_RUNS = Number(values['regression-runs']);
const SEEDS = values.seeds.split(',').map(Number);

/** mulberry32: small, fast, seedable. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
type Random = () => number;
const gaussian = (random: Random) => {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};
const poisson = (random: Random, mean: number) =>
  Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
/** Binomial: exact for small n·p (a 5 % canary sees ~1 error per window), normal otherwise. */
const binomial = (random: Random, n: number, p: number) => {
  if (n * p < 20) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  return Math.min(
    n,
    Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * gaussian(random))),
  );
};

type Scenario = 'healthy' | 'latency' | 'errors';
type Placement = 'replica' | 'weight-5';
const JUDGES: JudgeName[] = ['threshold', 'mann-whitney', 'sequential'];
const JUDGE_TITLES: Record<JudgeName, string> = {
  threshold: 'fixed threshold',
  'mann-whitney': 'Mann-Whitney',
  sequential: 'sequential',
};

const TOTAL_RATE = 80; // req/s over all pods
const canaryShare: Record<Placement, number> = { replica: 1 / 4, 'weight-5': 0.05 };

/** The per-interval judges' analysis (the defaults) and the sequential judge's. */
const intervalSpec = planAnalysis({ service: 'bench' });
const sequentialSpec = planAnalysis({
  service: 'bench',
  analysis: {
    judge: 'sequential',
    intervalSeconds: 30,
    intervals: 2,
    maxInconclusive: 90,
    alpha: 0.01,
  },
});
const STEP = intervalSpec.stepSeconds;
const STEPS_PER_INTERVAL = intervalSpec.intervalSeconds / STEP; // 10 new windows per interval
const HORIZON_STEPS = 90;
type Signal = 'error-rate' | 'latency-p95' | 'latency-p99';

interface Window {
  canary: Record<Signal, number>;
  stable: Record<Signal, number>;
  canaryRequests: number;
}

/** The stream of 30 s windows of one run. */
function simulateRun(
  random: Random,
  scenario: Scenario,
  fromStep: number,
  placement: Placement,
): Window[] {
  const podBias = Math.exp(0.02 * gaussian(random));
  const share = canaryShare[placement];
  const windows: Window[] = [];
  for (let step = 0; step <= HORIZON_STEPS; step++) {
    const regressed = scenario !== 'healthy' && step >= fromStep ? scenario : undefined;
    const load = Math.exp(0.05 * gaussian(random));
    const window = { canary: {}, stable: {}, canaryRequests: 0 } as Window;
    for (const track of ['canary', 'stable'] as const) {
      const mean = TOTAL_RATE * STEP * (track === 'canary' ? share : 1 - share);
      const requests = poisson(random, mean);
      const p = track === 'canary' && regressed === 'errors' ? 0.02 : 0.01;
      const errors = binomial(random, requests, p);
      const widen = Math.sqrt(600 / Math.max(requests, 1));
      const bias = track === 'canary' ? podBias * (regressed === 'latency' ? 1.2 : 1) : 1;
      const spike = random() < 0.03;
      const p95 =
        0.12 * load * bias * Math.exp(0.06 * widen * gaussian(random)) * (spike ? 1.8 : 1);
      const p99 =
        0.25 * load * bias * Math.exp(0.12 * widen * gaussian(random)) * (spike ? 2.5 : 1);
      window[track] = {
        'error-rate': requests === 0 ? NaN : errors / requests,
        'latency-p95': p95,
        'latency-p99': p99,
      };
      if (track === 'canary') window.canaryRequests = requests;
    }
    windows.push(window);
  }
  return windows;
}

const samplesOf = (windows: readonly Window[], metrics: readonly string[]) =>
  new Map<string, MetricSamples>(
    metrics.map((name) => [
      name,
      {
        canary: windows.map((w) => w.canary[name as Signal]),
        stable: windows.map((w) => w.stable[name as Signal]),
      },
    ]),
  );

interface Outcome {
  verdict: 'pass' | 'fail' | 'inconclusive' | 'undecided';
  /** Seconds from the start of the canary to the decision (evaluation delay included). */
  decidedAfter: number;
  failing: string[];
}

/** Runs one judge over one run's windows with the runner's progress rules. */
function judgeRun(judge: JudgeName, windows: readonly Window[]): Outcome {
  const sequential = judge === 'sequential';
  const spec: AnalysisSpec & { metrics: MetricSpec[] } = sequential
    ? sequentialSpec
    : { ...intervalSpec, judge };
  const metricNames = spec.metrics.map((m) => m.name);
  let state = { passed: 0, failed: 0, inconclusive: 0 };
  const looks = sequential ? HORIZON_STEPS : Math.floor(HORIZON_STEPS / STEPS_PER_INTERVAL);
  for (let look = 0; look < looks; look++) {
    // An interval of 5 min holds 11 samples (query_range includes both ends); the sequential
    // judge has every window so far.
    const seen = sequential
      ? windows.slice(0, look + 1)
      : windows.slice(look * STEPS_PER_INTERVAL, (look + 1) * STEPS_PER_INTERVAL + 1);
    const judgement = judgeInterval(spec, spec.metrics, samplesOf(seen, metricNames));
    const progress = nextProgress(state, judgement.verdict, spec);
    state = progress;
    if (progress.verdict) {
      const seconds = sequential ? (look + 1) * STEP : (look + 1) * intervalSpec.intervalSeconds;
      return {
        verdict: progress.verdict,
        decidedAfter: seconds + spec.evaluationDelaySeconds,
        failing: judgement.metrics
          .filter((m) => m.classification === 'high' || m.classification === 'low')
          .map((m) => m.metric),
      };
    }
  }
  return { verdict: 'undecided', decidedAfter: Infinity, failing: [] };
}

interface Tally {
  runs: number;
  rolledBack: number;
  promoted: number;
  /** Seconds from the regression's start to the rollback. */
  delays: number[];
  /** Requests the regressed canary served before the rollback took effect. */
  exposure: number[];
  blamed: Record<string, number>;
}
const emptyTally = (): Tally => ({
  runs: 0,
  rolledBack: 0,
  promoted: 0,
  delays: [],
  exposure: [],
  blamed: {},
});

function tally(
  scenario: Scenario,
  fromStep: number,
  placement: Placement,
  runs: number,
  seedBase: number,
) {
  const byJudge = Object.fromEntries(JUDGES.map((j) => [j, emptyTally()])) as Record<
    JudgeName,
    Tally
  >;
  for (let run = 0; run < runs; run++) {
    const windows = simulateRun(prng(seedBase + run), scenario, fromStep, placement);
    for (const judge of JUDGES) {
      const outcome = judgeRun(judge, windows);
      const t = byJudge[judge];
      t.runs++;
      if (outcome.verdict === 'pass') t.promoted++;
      if (outcome.verdict !== 'fail') continue;
      t.rolledBack++;
      for (const metric of outcome.failing) t.blamed[metric] = (t.blamed[metric] ?? 0) + 1;
      const start = fromStep * STEP;
      if (outcome.decidedAfter > start) {
        t.delays.push(outcome.decidedAfter - start);
        // Windows the regressed canary served until the decision (partial last window rounded up).
        const last = Math.min(windows.length, Math.ceil(outcome.decidedAfter / STEP));
        t.exposure.push(
          windows.slice(fromStep, last).reduce((sum, w) => sum + w.canaryRequests, 0),
        );
      }
    }
  }
  return byJudge;
}

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
const minutes = (list: number[]) =>
  list.length === 0
    ? '-'
    : `${(mean(list) / 60).toFixed(1)} / ${(Math.max(...list) / 60).toFixed(1)}`;
const requests = (list: number[]) =>
  list.length === 0 ? '-' : Math.round(mean(list)).toLocaleString('en');

const started = process.hrtime.bigint();
const seedBase = (seed: number) => seed * 1_000_003;
const healthyBySeed = SEEDS.map((seed) =>
  tally('healthy', 0, 'replica', HEALTHY_RUNS, seedBase(seed)),
);
const first = seedBase(SEEDS[0]!);
const latency = tally('latency', 0, 'replica', REGRESSION_RUNS, first + 10_000_000);
const errors = tally('errors', 0, 'replica', REGRESSION_RUNS, first + 20_000_000);
const lateLatency = tally(
  'latency',
  STEPS_PER_INTERVAL,
  'replica',
  REGRESSION_RUNS,
  first + 30_000_000,
);
const lateErrors = tally(
  'errors',
  STEPS_PER_INTERVAL,
  'replica',
  REGRESSION_RUNS,
  first + 40_000_000,
);
const weightLatency = tally('latency', 0, 'weight-5', REGRESSION_RUNS, first + 50_000_000);
const weightErrors = tally('errors', 0, 'weight-5', REGRESSION_RUNS, first + 60_000_000);
const weightHealthy = tally('healthy', 0, 'weight-5', REGRESSION_RUNS, first + 70_000_000);

type Row = [string, (judge: JudgeName) => string, string];
const rows: Row[] = [
  ...SEEDS.map((seed, i): Row => [
    `false rollback, ${HEALTHY_RUNS} healthy canaries, seed ${seed}`,
    (j) => percent(healthyBySeed[i]![j].rolledBack, healthyBySeed[i]![j].runs),
    '< 1 %',
  ]),
  [
    'healthy canaries promoted (all seeds)',
    (j) =>
      percent(
        healthyBySeed.reduce((s, t) => s + t[j].promoted, 0),
        healthyBySeed.reduce((s, t) => s + t[j].runs, 0),
      ),
    '',
  ],
  ['detected, +20 % latency', (j) => percent(latency[j].rolledBack, latency[j].runs), '≥ MW'],
  ['detected, +1 point errors', (j) => percent(errors[j].rolledBack, errors[j].runs), '≥ MW'],
  ['minutes to rollback, +20 % latency (mean / max)', (j) => minutes(latency[j].delays), '< MW'],
  ['minutes to rollback, +1 point errors (mean / max)', (j) => minutes(errors[j].delays), '< MW'],
  [
    'detected / minutes, latency injected at 5 min',
    (j) =>
      `${percent(lateLatency[j].delays.length, REGRESSION_RUNS)} / ${minutes(lateLatency[j].delays)}`,
    '',
  ],
  [
    'detected / minutes, errors injected at 5 min',
    (j) =>
      `${percent(lateErrors[j].delays.length, REGRESSION_RUNS)} / ${minutes(lateErrors[j].delays)}`,
    '',
  ],
  [
    'exposure, replica canary (25 %): requests before rollback, latency / errors',
    (j) => `${requests(latency[j].exposure)} / ${requests(errors[j].exposure)}`,
    '',
  ],
  [
    'detected, 5 %-weight canary: latency / errors',
    (j) =>
      `${percent(weightLatency[j].rolledBack, REGRESSION_RUNS)} / ${percent(weightErrors[j].rolledBack, REGRESSION_RUNS)}`,
    '',
  ],
  [
    'minutes to rollback, 5 %-weight canary: latency / errors (mean)',
    (j) =>
      `${weightLatency[j].delays.length ? (mean(weightLatency[j].delays) / 60).toFixed(1) : '-'} / ${weightErrors[j].delays.length ? (mean(weightErrors[j].delays) / 60).toFixed(1) : '-'}`,
    '',
  ],
  [
    'exposure, 5 %-weight canary: requests before rollback, latency / errors',
    (j) => `${requests(weightLatency[j].exposure)} / ${requests(weightErrors[j].exposure)}`,
    '',
  ],
  [
    'false rollback / promoted, 5 %-weight healthy canaries',
    (j) =>
      `${percent(weightHealthy[j].rolledBack, REGRESSION_RUNS)} / ${percent(weightHealthy[j].promoted, REGRESSION_RUNS)}`,
    '',
  ],
];

// ---------------------------------------------------------------------------------------------
// Coarse histogram buckets: per-request latencies, 600 canary / 1,800 stable requests per
// window, log-normal around 10 ms (σ 0.3); the regression moves the canary to 40 ms. Three ways
// to read the same requests: histogram_quantile(0.95) over coarse buckets (5 ms, 100 ms, 1 s,
// +Inf: 10 and 40 ms share one bucket), over Prometheus's default buckets, and the mean from
// _sum / _count.

const COARSE = [0.005, 0.1, 1, Infinity];
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];

/** Prometheus's histogram_quantile: linear interpolation inside the bucket the rank falls in. */
function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let below = 0;
  for (let b = 0; b < bounds.length; b++) {
    if (below + counts[b]! >= rank) {
      if (bounds[b] === Infinity) return bounds[b - 1]!;
      const lower = b === 0 ? 0 : bounds[b - 1]!;
      return lower + (bounds[b]! - lower) * ((rank - below) / counts[b]!);
    }
    below += counts[b]!;
  }
  return bounds[bounds.length - 2]!;
}

function bucketWindows(random: Random, regressed: boolean, steps: number) {
  const reads = { coarse: [] as Window[], fine: [] as Window[], mean: [] as Window[] };
  for (let step = 0; step < steps; step++) {
    const value = {} as Record<'coarse' | 'fine' | 'mean', { canary: number; stable: number }>;
    for (const track of ['canary', 'stable'] as const) {
      const n = track === 'canary' ? 600 : 1800;
      const median = track === 'canary' && regressed ? 0.04 : 0.01;
      const coarse = COARSE.map(() => 0);
      const fine = DEFAULT_BUCKETS.map(() => 0);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const latency = median * Math.exp(0.3 * gaussian(random));
        sum += latency;
        coarse[COARSE.findIndex((bound) => latency <= bound)]!++;
        fine[DEFAULT_BUCKETS.findIndex((bound) => latency <= bound)]!++;
      }
      (value.coarse ??= { canary: 0, stable: 0 })[track] = histogramQuantile(0.95, COARSE, coarse);
      (value.fine ??= { canary: 0, stable: 0 })[track] = histogramQuantile(
        0.95,
        DEFAULT_BUCKETS,
        fine,
      );
      (value.mean ??= { canary: 0, stable: 0 })[track] = sum / n;
    }
    for (const read of ['coarse', 'fine', 'mean'] as const) {
      const at = (track: 'canary' | 'stable') => ({
        'error-rate': 0,
        'latency-p95': value[read][track],
        'latency-p99': value[read][track],
      });
      reads[read].push({ canary: at('canary'), stable: at('stable'), canaryRequests: 600 });
    }
  }
  return reads;
}

/** One latency metric judged alone, by each judge, on one way of reading the requests. */
function judgeLatencyOnly(judge: JudgeName, windows: readonly Window[]) {
  const base = judge === 'sequential' ? sequentialSpec : { ...intervalSpec, judge };
  const metric = base.metrics.find((m) => m.name === 'latency-p95')!;
  const spec = { ...base, metrics: [{ ...metric, removeOutliers: false }] };
  const sequential = judge === 'sequential';
  let state: { passed: number; failed: number; inconclusive: number; status?: string } = {
    passed: 0,
    failed: 0,
    inconclusive: 0,
  };
  const looks = sequential ? 30 : 3;
  for (let look = 0; look < looks; look++) {
    const seen = sequential
      ? windows.slice(0, look + 1)
      : windows.slice(look * STEPS_PER_INTERVAL, (look + 1) * STEPS_PER_INTERVAL + 1);
    const judgement = judgeInterval(spec, spec.metrics, samplesOf(seen, ['latency-p95']));
    state = nextProgress(state, judgement.verdict, spec);
    if (state.status !== 'running') return state.status;
  }
  return 'running';
}

const BUCKET_RUNS = 100;
const bucketResults = Object.fromEntries(
  (['coarse', 'fine', 'mean'] as const).map((read) => [
    read,
    Object.fromEntries(JUDGES.map((j) => [j, { rolledBack: 0, promoted: 0 }])),
  ]),
) as unknown as Record<
  'coarse' | 'fine' | 'mean',
  Record<JudgeName, { rolledBack: number; promoted: number }>
>;
const seen95: Record<'coarse' | 'fine' | 'mean', { canary: number[]; stable: number[] }> = {
  coarse: { canary: [], stable: [] },
  fine: { canary: [], stable: [] },
  mean: { canary: [], stable: [] },
};
for (let run = 0; run < BUCKET_RUNS; run++) {
  const reads = bucketWindows(prng(first + 80_000_000 + run), true, 3 * STEPS_PER_INTERVAL + 1);
  for (const read of ['coarse', 'fine', 'mean'] as const) {
    seen95[read].canary.push(reads[read][0]!.canary['latency-p95']);
    seen95[read].stable.push(reads[read][0]!.stable['latency-p95']);
    for (const judge of JUDGES) {
      const status = judgeLatencyOnly(judge, reads[read]);
      if (status === 'rolling-back') bucketResults[read][judge].rolledBack++;
      if (status === 'promoting') bucketResults[read][judge].promoted++;
    }
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

process.stdout.write(
  `canary judges, the same seeded runs for all three (seeds ${SEEDS.join(', ')}; ${HEALTHY_RUNS} healthy runs per seed, ${REGRESSION_RUNS} per regression scenario at seed ${SEEDS[0]}); threshold and Mann-Whitney judge each 5-min interval (11 samples), sequential looks every 30 s at everything so far (alpha ${sequentialSpec.alpha} for the analysis); ${seconds.toFixed(1)} s\n\n`,
);
process.stdout.write(
  `| measure | ${JUDGES.map((j) => JUDGE_TITLES[j]).join(' | ')} | target (sequential) |\n| --- | ${JUDGES.map(() => '---').join(' | ')} | --- |\n`,
);
for (const [name, cell, target] of rows) {
  process.stdout.write(`| ${name} | ${JUDGES.map(cell).join(' | ')} | ${target} |\n`);
}
const blamed = (t: Tally) =>
  Object.entries(t.blamed)
    .map(([metric, count]) => `${metric} ${count}`)
    .join(', ') || 'none';
process.stdout.write(
  `\nfalse rollbacks blamed on (all seeds): ${JUDGES.map((j) => `${JUDGE_TITLES[j]}: ${healthyBySeed.map((t) => blamed(t[j])).join(' | ')}`).join('; ')}\n`,
);

const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
process.stdout.write(
  `\n10 → 40 ms regression (per-request log-normal, σ 0.3), ${BUCKET_RUNS} runs, latency-p95 judged alone: rolled back / promoted\n\n`,
);
process.stdout.write(
  `| read as | canary / stable p95 seen (median, ms) | ${JUDGES.map((j) => JUDGE_TITLES[j]).join(' | ')} |\n| --- | --- | ${JUDGES.map(() => '---').join(' | ')} |\n`,
);
const readTitles = {
  coarse: 'histogram_quantile(0.95), buckets 5 / 100 / 1000 ms',
  fine: 'histogram_quantile(0.95), Prometheus default buckets',
  mean: 'mean from _sum / _count',
};
for (const read of ['coarse', 'fine', 'mean'] as const) {
  const r = bucketResults[read];
  process.stdout.write(
    `| ${readTitles[read]} | ${(median(seen95[read].canary) * 1000).toFixed(1)} / ${(median(seen95[read].stable) * 1000).toFixed(1)} | ${JUDGES.map((j) => `${percent(r[j].rolledBack, BUCKET_RUNS)} / ${percent(r[j].promoted, BUCKET_RUNS)}`).join(' | ')} |\n`,
  );
}
