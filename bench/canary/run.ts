/**
 * bench/canary — the statistical judge (Mann-Whitney, Kayenta-style) beside a fixed-threshold
 * judge on the SAME seeded simulated canaries: false rollbacks on healthy canaries, detection
 * of a 20 % latency regression and of a 1-point error-rate regression, and how many analysis
 * intervals pass between an injected regression and the rollback decision.
 *
 *   npm run bench:canary [-- --runs 500 --seed 42]
 *
 * The simulation follows the default analysis (3 intervals of 5 min, one sample per 30 s step,
 * so 11 samples per track per interval) over the default metrics (error rate, p95, p99):
 * - requests: 20 req/s per pod, 1 canary pod against 3 stable pods, Poisson per 30 s window;
 * - errors: each request fails with probability 1 % (2 % after a 1-point regression), so the
 *   per-window error rate carries real binomial noise (a canary pod sees a third of stable's
 *   traffic, so its rate is noisier);
 * - latency: p95 and p99 per window log-normal around 120 ms / 250 ms (σ 0.06 / 0.12), times a
 *   load factor both tracks share in that window, times a per-run pod bias of the canary pod
 *   (σ 2 %: a new pod on another node is never exactly like the others), and now and then a
 *   spike (a GC pause, a noisy neighbour: 3 % of windows, ×1.8 p95 / ×2.5 p99) on either track.
 * Both judges see identical samples and the same progress rules (roll back on the first
 * failing interval, promote after all pass). Seeded: the same seed prints the same table.
 */
import { parseArgs } from 'node:util';
import {
  judgeInterval,
  nextProgress,
  planAnalysis,
  type JudgeName,
  type MetricSamples,
} from '../../src/analysis/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '500' },
    seed: { type: 'string', default: '42' },
  },
});
const RUNS = Number(values.runs);

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
/** Poisson by normal approximation (means here are in the hundreds). */
const poisson = (random: Random, mean: number) =>
  Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
/** Binomial by normal approximation, clamped (n·p is ≥ 6 here). */
const binomial = (random: Random, n: number, p: number) =>
  Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * gaussian(random))));

type Scenario = 'healthy' | 'latency' | 'errors';

interface Regression {
  scenario: Scenario;
  /** The interval from which the canary regresses (0: from the start). */
  fromInterval: number;
}

const spec = planAnalysis({ service: 'bench' });
const STEPS = Math.floor(spec.intervalSeconds / spec.stepSeconds) + 1;
const REQUESTS_PER_POD = 20 * spec.sampleWindowSeconds;

/** One interval's samples for both tracks. */
function simulateInterval(random: Random, podBias: number, regressed: Scenario | undefined) {
  const samples = new Map<string, { canary: number[]; stable: number[] }>(
    ['error-rate', 'latency-p95', 'latency-p99'].map((name) => [name, { canary: [], stable: [] }]),
  );
  const errorP = { stable: 0.01, canary: regressed === 'errors' ? 0.02 : 0.01 };
  const latencyFactor = regressed === 'latency' ? 1.2 : 1;
  for (let step = 0; step < STEPS; step++) {
    const load = Math.exp(0.05 * gaussian(random)); // shared by both tracks in this window
    for (const track of ['canary', 'stable'] as const) {
      const requests = poisson(random, REQUESTS_PER_POD * (track === 'canary' ? 1 : 3));
      const errors = binomial(random, requests, errorP[track]);
      samples.get('error-rate')![track].push(requests === 0 ? NaN : errors / requests);
      const bias = track === 'canary' ? podBias * latencyFactor : 1;
      const spike = random() < 0.03;
      const p95 = 0.12 * load * bias * Math.exp(0.06 * gaussian(random)) * (spike ? 1.8 : 1);
      const p99 = 0.25 * load * bias * Math.exp(0.12 * gaussian(random)) * (spike ? 2.5 : 1);
      samples.get('latency-p95')![track].push(p95);
      samples.get('latency-p99')![track].push(p99);
    }
  }
  return samples as Map<string, MetricSamples>;
}

interface Outcome {
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** The metrics that failed the deciding interval. */
  failing: string[];
  /** The interval (0-based) in which the decision was made. */
  decidedAt: number;
}

/** Runs both judges over the same simulated analysis. */
function simulateRun(seed: number, regression: Regression): Record<JudgeName, Outcome> {
  const random = prng(seed);
  const podBias = Math.exp(0.02 * gaussian(random));
  const outcomes = {} as Record<JudgeName, Outcome>;
  const state = {
    'mann-whitney': { passed: 0, failed: 0, inconclusive: 0, done: false },
    threshold: { passed: 0, failed: 0, inconclusive: 0, done: false },
  };
  // Enough intervals for every pass needed plus the inconclusive budget.
  for (let index = 0; index < spec.intervals + spec.maxInconclusive + 1; index++) {
    const regressed =
      regression.scenario !== 'healthy' && index >= regression.fromInterval
        ? regression.scenario
        : undefined;
    const samples = simulateInterval(random, podBias, regressed);
    for (const judge of ['mann-whitney', 'threshold'] as const) {
      const current = state[judge];
      if (current.done) continue;
      const judgement = judgeInterval({ ...spec, judge }, spec.metrics, samples);
      const progress = nextProgress(current, judgement.verdict, spec);
      Object.assign(current, progress);
      if (progress.verdict) {
        current.done = true;
        outcomes[judge] = {
          verdict: progress.verdict,
          decidedAt: index,
          failing: judgement.metrics
            .filter((metric) => metric.classification === 'high' || metric.classification === 'low')
            .map((metric) => metric.metric),
        };
      }
    }
    if (state['mann-whitney'].done && state.threshold.done) break;
  }
  return outcomes;
}

interface Tally {
  runs: number;
  rolledBack: number;
  promoted: number;
  inconclusive: number;
  /** Intervals from the regression's first interval to the decision, 1 = that same interval. */
  delays: number[];
  /** How often each metric failed a deciding interval of a rollback. */
  blamed: Record<string, number>;
}

function tally(scenario: Scenario, fromInterval: number, seedBase: number) {
  const byJudge: Record<JudgeName, Tally> = {
    'mann-whitney': {
      runs: 0,
      rolledBack: 0,
      promoted: 0,
      inconclusive: 0,
      delays: [],
      blamed: {},
    },
    threshold: { runs: 0, rolledBack: 0, promoted: 0, inconclusive: 0, delays: [], blamed: {} },
  };
  for (let run = 0; run < RUNS; run++) {
    const outcomes = simulateRun(seedBase + run, { scenario, fromInterval });
    for (const judge of ['mann-whitney', 'threshold'] as const) {
      const t = byJudge[judge];
      const outcome = outcomes[judge];
      t.runs++;
      if (outcome.verdict === 'fail') {
        t.rolledBack++;
        for (const metric of outcome.failing) t.blamed[metric] = (t.blamed[metric] ?? 0) + 1;
        if (outcome.decidedAt >= fromInterval) t.delays.push(outcome.decidedAt - fromInterval + 1);
      } else if (outcome.verdict === 'pass') t.promoted++;
      else t.inconclusive++;
    }
  }
  return byJudge;
}

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const mean = (list: number[]) =>
  list.length === 0 ? '-' : (list.reduce((a, b) => a + b, 0) / list.length).toFixed(2);
const max = (list: number[]) => (list.length === 0 ? '-' : String(Math.max(...list)));

const seed = Number(values.seed) * 1_000_003;
const started = process.hrtime.bigint();
const healthy = tally('healthy', 0, seed);
const latency = tally('latency', 0, seed + 10_000_000);
const errors = tally('errors', 0, seed + 20_000_000);
// Injected after the first interval passed: how many intervals until the decision.
const lateLatency = tally('latency', 1, seed + 30_000_000);
const lateErrors = tally('errors', 1, seed + 40_000_000);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

const rows: [string, (judge: JudgeName) => string, string][] = [
  [
    'false rollback, healthy canaries',
    (j) => percent(healthy[j].rolledBack, healthy[j].runs),
    '< 1 %',
  ],
  ['healthy canaries promoted', (j) => percent(healthy[j].promoted, healthy[j].runs), ''],
  ['detected, +20 % latency', (j) => percent(latency[j].rolledBack, latency[j].runs), '≥ 95 %'],
  ['detected, +1 point errors', (j) => percent(errors[j].rolledBack, errors[j].runs), '≥ 95 %'],
  [
    'intervals to rollback, latency injected (mean / max)',
    (j) => `${mean(lateLatency[j].delays)} / ${max(lateLatency[j].delays)}`,
    '≤ 2',
  ],
  [
    'intervals to rollback, errors injected (mean / max)',
    (j) => `${mean(lateErrors[j].delays)} / ${max(lateErrors[j].delays)}`,
    '≤ 2',
  ],
  [
    'detected when injected after interval 1 (latency / errors)',
    (j) =>
      `${percent(lateLatency[j].delays.length, RUNS)} / ${percent(lateErrors[j].delays.length, RUNS)}`,
    '',
  ],
];
const ratio = (numerator: number, denominator: number) =>
  denominator === 0 ? (numerator === 0 ? '1.0×' : '∞') : `${(numerator / denominator).toFixed(2)}×`;

process.stdout.write(
  `canary judges on ${RUNS} seeded runs per scenario (seed ${values.seed}; ${STEPS} samples per track per interval, ${spec.intervals} intervals, rollback on the first failing one); ${seconds.toFixed(1)} s\n\n`,
);
process.stdout.write(
  '| measure | Mann-Whitney | fixed threshold | target |\n| --- | --- | --- | --- |\n',
);
for (const [name, cell, target] of rows) {
  process.stdout.write(
    `| ${name} | ${cell('mann-whitney')} | ${cell('threshold')} | ${target} |\n`,
  );
}
const blamed = (t: Tally) =>
  Object.entries(t.blamed)
    .map(([metric, count]) => `${metric} ${count}`)
    .join(', ') || 'none';
process.stdout.write(
  `\nfalse rollbacks blamed on (metric failing the deciding interval): Mann-Whitney ${blamed(healthy['mann-whitney'])}; threshold ${blamed(healthy.threshold)}\n`,
);
process.stdout.write(
  `false rollbacks, threshold ÷ Mann-Whitney: ${ratio(healthy.threshold.rolledBack, healthy['mann-whitney'].rolledBack)}\n`,
);
