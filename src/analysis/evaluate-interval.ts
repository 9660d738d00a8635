import type {
  Analysis,
  AnalysisInterval,
  IntervalSamples,
  IntervalTraffic,
} from './analysis-rows.js';
import { judgeInterval, judges } from './judge-interval.js';
import type { IntervalJudgement, MetricSamples } from './judgement.js';
import { builtinQueries, promDuration, renderQuery } from './metric-queries.js';
import type { PrometheusClient, PrometheusOutcome } from './prometheus-client.js';
import { round } from './threshold-judge.js';

const TRACKS = ['canary', 'stable'] as const;

/** The window interval `index` covers: after the warm-up, `intervalSeconds` each. */
export function intervalWindow(
  analysis: Pick<Analysis, 'startedAt' | 'spec'>,
  index: number,
): { start: Date; end: Date; dueAt: Date } {
  const { warmupSeconds, intervalSeconds, evaluationDelaySeconds } = analysis.spec;
  const start = analysis.startedAt.getTime() + (warmupSeconds + index * intervalSeconds) * 1000;
  const end = start + intervalSeconds * 1000;
  return {
    start: new Date(start),
    end: new Date(end),
    dueAt: new Date(end + evaluationDelaySeconds * 1000),
  };
}

const finite = (outcome: PrometheusOutcome) =>
  outcome.outcome === 'values' ? outcome.points.filter(([, value]) => Number.isFinite(value)) : [];

/**
 * How much traffic the interval would have needed, for the report: a sample is a step whose
 * window saw requests, so `minSamples` samples need requests in that many windows.
 */
function trafficNeeded(analysis: Analysis, traffic: IntervalTraffic, judgement: IntervalJudgement) {
  const short = judgement.metrics.filter((metric) =>
    ['insufficient', 'nodata'].includes(metric.classification),
  );
  if (short.length === 0) return [];
  const { stepSeconds, sampleWindowSeconds, intervalSeconds } = analysis.spec;
  const most = Math.max(
    ...short.map(
      (metric) => analysis.spec.metrics.find((m) => m.name === metric.metric)!.minSamples,
    ),
  );
  const served = (rate: number | null) => (rate === null ? 'unknown' : `${round(rate)} req/s`);
  return [
    `traffic needed: requests in at least ${most} of the ${Math.floor(intervalSeconds / stepSeconds) + 1} sample windows of each track (≥ ${round(1 / sampleWindowSeconds)} req/s sustained, ${sampleWindowSeconds} s windows); canary served ${served(traffic.canary)}, stable ${served(traffic.stable)}`,
  ];
}

/**
 * Queries and judges one interval of an analysis. Prometheus unreachable, or refusing a query,
 * makes the interval inconclusive with the reason; it is never a failure.
 */
export async function evaluateInterval(
  analysis: Analysis,
  index: number,
  prometheus: PrometheusClient,
  evaluatedBy: string,
  now: Date,
): Promise<AnalysisInterval> {
  const { start, end } = intervalWindow(analysis, index);
  const { spec } = analysis;
  // A sequential judge looks at everything since the first interval began, every interval.
  const from = judges[spec.judge].window === 'analysis' ? intervalWindow(analysis, 0).start : start;
  const render = (template: string, track: string) =>
    renderQuery(template, {
      service: analysis.service,
      namespace: analysis.namespace,
      track,
      interval: promDuration(spec.sampleWindowSeconds),
    });
  // The reference side is stable, or the baseline (stable's version started beside the canary):
  // its samples are still kept and judged as `stable`.
  const range = (template: string, track: string) =>
    prometheus.queryRange(
      render(template, track === 'stable' ? (spec.compareWith ?? 'stable') : track),
      from,
      end,
      spec.stepSeconds,
    );

  const trafficQuery =
    spec.metrics.find((metric) => metric.name === 'request-rate')?.query ??
    builtinQueries['request-rate'];
  const [metricOutcomes, trafficOutcomes] = await Promise.all([
    Promise.all(
      spec.metrics.map((metric) => Promise.all(TRACKS.map((track) => range(metric.query, track)))),
    ),
    Promise.all(TRACKS.map((track) => range(trafficQuery, track))),
  ]);

  const samples: IntervalSamples = {};
  const byMetric = new Map<string, MetricSamples>();
  const problems = new Set<string>();
  spec.metrics.forEach((metric, m) => {
    const [canary, stable] = metricOutcomes[m]!;
    for (const outcome of [canary!, stable!]) {
      if (outcome.outcome === 'unreachable') problems.add(outcome.detail);
      if (outcome.outcome === 'refused') problems.add(`${metric.name}: ${outcome.detail}`);
    }
    samples[metric.name] = { canary: finite(canary!), stable: finite(stable!) };
    byMetric.set(metric.name, {
      canary: samples[metric.name]!.canary.map(([, value]) => value),
      stable: samples[metric.name]!.stable.map(([, value]) => value),
    });
  });
  const meanRate = (outcome: PrometheusOutcome) => {
    if (outcome.outcome === 'no-values') return 0;
    const points = finite(outcome);
    return points.length === 0 ? null : points.reduce((sum, [, v]) => sum + v, 0) / points.length;
  };
  const traffic: IntervalTraffic = {
    canary: meanRate(trafficOutcomes[0]!),
    stable: meanRate(trafficOutcomes[1]!),
  };

  let judgement: IntervalJudgement;
  if (problems.size > 0) {
    judgement = {
      judge: spec.judge,
      verdict: 'inconclusive',
      score: null,
      metrics: [],
      missing: [...problems],
    };
  } else {
    judgement = judgeInterval(spec, spec.metrics, byMetric);
    if (judgement.verdict === 'inconclusive') {
      judgement = {
        ...judgement,
        missing: [...judgement.missing, ...trafficNeeded(analysis, traffic, judgement)],
      };
    }
  }
  return {
    index,
    windowStart: start,
    windowEnd: end,
    verdict: judgement.verdict,
    score: judgement.score,
    judgement,
    samples,
    missing: judgement.missing,
    traffic,
    evaluatedAt: now,
    evaluatedBy,
  };
}
