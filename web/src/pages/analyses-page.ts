import type { AnalysisIntervalRow, AnalysisRow, MetricJudgementRow } from '../api.js';
import { getJson } from '../api.js';
import { emptyState, h, table } from '../dom.js';
import { formatTime } from '../format.js';
import { routeHref } from '../route.js';
import { trendChart } from '../trend-chart.js';
import type { Page } from './page.js';

const START_EXAMPLE = (origin: string) =>
  `curl -X POST ${origin}/api/v1/analyses -H 'content-type: application/json' \\
  -d '{"service":"web","revision":"v2"}'`;

const number = (value: number | null | undefined, digits = 3) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '–'
    : Number(value.toPrecision(digits)).toString();

function verdictBadge(verdict: string | null, status?: string): HTMLElement {
  const kind =
    verdict === 'pass'
      ? 'success'
      : verdict === 'fail'
        ? 'failed'
        : verdict
          ? 'rollback'
          : 'rework';
  return h(
    'span',
    { class: `badge badge-${kind}`, 'data-verdict': verdict ?? 'running' },
    verdict ?? status ?? 'running',
  );
}

/** Per metric: canary vs stable mean in each interval, and every interval's judgement. */
async function analysisView(params: URLSearchParams, id: string): Promise<HTMLElement> {
  const analysis = await getJson<AnalysisRow & { intervals: AnalysisIntervalRow[] }>(
    `/api/v1/analyses/${encodeURIComponent(id)}`,
  );
  const back = new URLSearchParams(params);
  back.delete('analysis');
  const times = analysis.intervals.map((i) => Math.round(Date.parse(i.windowEnd) / 1000));
  const metricNames = [
    ...new Set(analysis.intervals.flatMap((i) => i.judgement.metrics.map((m) => m.metric))),
  ];
  const judgementOf = (interval: AnalysisIntervalRow, metric: string) =>
    interval.judgement.metrics.find((m) => m.metric === metric);
  const charts = metricNames.map((metric) =>
    trendChart(
      metric,
      times,
      [
        {
          label: 'canary',
          color: '#f79009',
          values: analysis.intervals.map((i) => judgementOf(i, metric)?.canary.mean ?? null),
        },
        {
          label: 'stable',
          color: '#2e90fa',
          values: analysis.intervals.map((i) => judgementOf(i, metric)?.stable.mean ?? null),
        },
      ],
      (value) => number(value),
    ),
  );
  const metricCells = (m: MetricJudgementRow) => [
    m.metric,
    h('span', { 'data-classification': m.classification }, m.classification),
    `${number(m.canary.mean)} (n=${m.canary.count})`,
    `${number(m.stable.mean)} (n=${m.stable.count})`,
    number(m.ratio),
    number(m.difference),
    m.test ? number(m.test.pValue) : '–',
    m.test ? number(m.test.estimate) : '–',
    m.criticalFailure ? `critical: ${m.reason}` : m.reason,
  ];
  return h(
    'div',
    { class: 'page analyses' },
    h('p', {}, h('a', { href: routeHref('analyses', back) }, '← every analysis')),
    h(
      'h2',
      { 'data-testid': 'analysis-title' },
      `${analysis.service} ${analysis.revision ?? ''} vs ${analysis.baselineRevision ?? 'stable'} `,
      verdictBadge(analysis.verdict, analysis.status),
    ),
    h(
      'p',
      { 'data-testid': 'analysis-summary' },
      `${analysis.status}: ${analysis.passed} passed, ${analysis.failed} failed, ${analysis.inconclusive} inconclusive of ${analysis.spec.intervals} intervals (${analysis.spec.judge} judge)`,
      analysis.reason ? ` — ${analysis.reason}` : '',
    ),
    h('div', { class: 'trends' }, ...charts),
    ...analysis.intervals.map((interval) =>
      h(
        'section',
        { class: 'interval', 'data-interval': interval.index },
        h(
          'h3',
          {},
          `interval ${interval.index + 1}, ${formatTime(interval.windowStart)} – ${formatTime(interval.windowEnd)}: `,
          verdictBadge(interval.verdict),
          ` score ${number(interval.score)}`,
        ),
        interval.missing.length > 0
          ? h(
              'ul',
              { class: 'reasons', 'data-testid': 'missing' },
              ...interval.missing.map((m) => h('li', {}, m)),
            )
          : null,
        table(
          [
            'metric',
            'classification',
            'canary mean',
            'stable mean',
            'ratio',
            'difference',
            'p-value',
            'shift (HL)',
            'why',
          ],
          interval.judgement.metrics.map(metricCells),
        ),
      ),
    ),
  );
}

/** Canary analyses: their verdicts, and one analysis's charts and judgements. */
export const analysesPage: Page = {
  id: 'analyses',
  title: 'Canary analyses',
  async render(params) {
    const id = params.get('analysis');
    if (id) return analysisView(params, id);
    const { analyses } = await getJson<{ analyses: AnalysisRow[] }>('/api/v1/analyses');
    if (analyses.length === 0) {
      return emptyState(
        'No canary analyses yet',
        'The deployer starts one for each canary; start one yourself (Prometheus configured, see docs/canary-analysis.md):',
        START_EXAMPLE(location.origin),
      );
    }
    return h(
      'div',
      { class: 'page analyses' },
      table(
        ['analysis', 'service', 'revision', 'started', 'status', 'verdict', 'intervals'],
        analyses.map((a) => {
          const link = new URLSearchParams(params);
          link.set('analysis', a.id);
          return [
            h('a', { href: routeHref('analyses', link), 'data-analysis': a.id }, a.id),
            a.service,
            a.revision ?? '–',
            formatTime(a.startedAt),
            a.status,
            verdictBadge(a.verdict, a.status),
            `${a.passed} pass, ${a.failed} fail, ${a.inconclusive} inconclusive`,
          ];
        }),
        { 'data-testid': 'analyses' },
      ),
    );
  },
};
