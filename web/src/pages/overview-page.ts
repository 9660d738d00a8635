import {
  getJson,
  type DoraMetrics,
  type MetricsReport,
  type Tier,
  type TieredMetric,
} from '../api.js';
import { emptyState, h } from '../dom.js';
import { firstDeploymentExample } from '../first-events.js';
import { filterBar, filterParams, loadCatalogue } from '../filters.js';
import { formatDuration, formatPercent, formatPerDay } from '../format.js';
import { routeHref, updateParams } from '../route.js';
import { trendChart } from '../trend-chart.js';
import type { Page } from './page.js';

const YEARS = ['2023', '2024'] as const;

function tierBadges(report: MetricsReport, metric: TieredMetric | null): HTMLElement {
  if (metric === null)
    return h('div', { class: 'tiers' }, h('span', { class: 'muted' }, 'no DORA band'));
  return h(
    'div',
    { class: 'tiers' },
    ...YEARS.map((year) => {
      const tier: Tier | null = report.tiers[year][metric];
      return h(
        'span',
        {
          class: `tier tier-${tier ?? 'none'}`,
          'data-tier': `${metric}-${year}`,
          title: `DORA ${year}`,
        },
        `${year}: ${tier ?? 'n/a'}`,
      );
    }),
  );
}

function card(
  id: string,
  title: string,
  value: string,
  details: string[],
  badges: HTMLElement,
): HTMLElement {
  return h(
    'article',
    { class: 'metric', 'data-metric': id },
    h('h3', {}, title),
    h('p', { class: 'value', 'data-value': id }, value),
    h(
      'p',
      { class: 'details' },
      ...details.flatMap((detail, i) => (i ? [h('br'), detail] : [detail])),
    ),
    badges,
  );
}

function metricCards(report: MetricsReport): HTMLElement {
  const m: DoraMetrics = report.overall;
  return h(
    'section',
    { class: 'metrics' },
    card(
      'deployment-frequency',
      'Deployment frequency',
      `${formatPerDay(m.deploymentsPerDay)} / day`,
      [
        `${m.deployments} deployment${m.deployments === 1 ? '' : 's'} in ${m.days} days`,
        `${formatPerDay(m.deployDaysPerWeek)} deploy days / week`,
      ],
      tierBadges(report, 'deploymentFrequency'),
    ),
    card(
      'lead-time',
      'Lead time for changes',
      formatDuration(m.leadTime.median),
      [`median of ${m.leadTime.count} commits`, `p90 ${formatDuration(m.leadTime.p90)}`],
      tierBadges(report, 'leadTime'),
    ),
    card(
      'change-failure-rate',
      'Change failure rate',
      formatPercent(m.changeFailureRate.rate),
      [`${m.changeFailureRate.numerator} of ${m.changeFailureRate.denominator} attempts failed`],
      tierBadges(report, 'changeFailureRate'),
    ),
    card(
      'recovery-time',
      'Failed deployment recovery',
      formatDuration(m.failedDeploymentRecoveryTime.median),
      [
        `median of ${m.failedDeploymentRecoveryTime.count}, p90 ${formatDuration(m.failedDeploymentRecoveryTime.p90)}`,
        `time to restore: median ${formatDuration(m.timeToRestore.median)}`,
      ],
      tierBadges(report, 'failedDeploymentRecoveryTime'),
    ),
    card(
      'rework-rate',
      'Deployment rework rate',
      formatPercent(m.reworkRate.rate),
      [`${m.reworkRate.numerator} of ${m.reworkRate.denominator} deployments`],
      tierBadges(report, null),
    ),
  );
}

function trends(report: MetricsReport): HTMLElement {
  const points = report.series?.points ?? [];
  const times = points.map((p) => Date.parse(p.bucket) / 1000);
  const hours = (value: number | null) => (value === null ? null : value / 3600);
  const hoursLabel = (value: number) => `${Number(value.toFixed(1))} h`;
  const percent = (value: number) => `${Math.round(value * 100)} %`;
  return h(
    'section',
    { class: 'trends' },
    trendChart(
      'Deployments',
      times,
      [
        {
          label: 'deployments',
          values: points.map((p) => p.deployments),
          color: '#2f6fdd',
          style: 'bars',
        },
      ],
      (v) => String(Number(v.toFixed(1))),
    ),
    trendChart(
      'Lead time (hours)',
      times,
      [
        { label: 'median', values: points.map((p) => hours(p.leadTime.median)), color: '#1b9e77' },
        { label: 'p90', values: points.map((p) => hours(p.leadTime.p90)), color: '#a6d8c7' },
      ],
      hoursLabel,
    ),
    trendChart(
      'Change failure rate',
      times,
      [{ label: 'rate', values: points.map((p) => p.changeFailureRate.rate), color: '#d95f02' }],
      percent,
    ),
    trendChart(
      'Recovery time (hours)',
      times,
      [
        {
          label: 'median',
          values: points.map((p) => hours(p.failedDeploymentRecoveryTime.median)),
          color: '#7570b3',
        },
      ],
      hoursLabel,
    ),
    trendChart(
      'Rework rate',
      times,
      [{ label: 'rate', values: points.map((p) => p.reworkRate.rate), color: '#e7298a' }],
      percent,
    ),
  );
}

function bucketSelect(current: string): HTMLElement {
  return h(
    'label',
    {},
    'Trend per',
    h(
      'select',
      {
        name: 'bucket',
        'data-filter': 'bucket',
        onchange: (event: Event) =>
          updateParams({ bucket: (event.target as HTMLSelectElement).value }),
      },
      ...['week', 'month'].map((b) => h('option', { value: b, selected: b === current }, b)),
    ),
  );
}

/** An empty scope says where the deployments are: "0 in production; 2 in default". */
function elsewhereHint(report: MetricsReport, params: URLSearchParams): HTMLElement | string {
  const elsewhere = (report.elsewhere ?? []).filter((e) => e.deployments > 0);
  if (elsewhere.length === 0) return '';
  return h(
    'p',
    { class: 'muted', 'data-testid': 'elsewhere' },
    `0 in ${report.scope.environment}; `,
    ...elsewhere.flatMap((e, i) => {
      const next = new URLSearchParams(params);
      next.set('environment', e.environment);
      return [
        i > 0 ? '; ' : '',
        h('a', { href: routeHref('overview', next) }, `${e.deployments} in ${e.environment}`),
      ];
    }),
  );
}

export const overviewPage: Page = {
  id: 'overview',
  title: 'DORA overview',
  async render(params) {
    const bucket = params.get('bucket') === 'month' ? 'month' : 'week';
    const [catalogue, report] = await Promise.all([
      loadCatalogue(),
      getJson<MetricsReport>('/api/v1/metrics', { ...filterParams(params), bucket }),
    ]);
    const scope = report.scope;
    return h(
      'div',
      { class: 'page overview' },
      filterBar(params, catalogue, [bucketSelect(bucket)]),
      h(
        'p',
        { class: 'scope', 'data-testid': 'scope' },
        `${scope.service ?? (scope.team ? `team ${scope.team}` : 'all services')} in ${scope.environment}, `,
        `${scope.from.slice(0, 10)} to ${scope.to.slice(0, 10)}`,
      ),
      catalogue.services.length === 0
        ? emptyState(
            'No deployments yet',
            'Cadence computes the DORA metrics from CDEvents. Send a first deployment (or point a GitHub, GitLab, Tekton, Argo CD or Alertmanager webhook at /webhooks/{source}, see docs/sources.md):',
            firstDeploymentExample(location.origin),
          )
        : h('div', {}, elsewhereHint(report, params), metricCards(report), trends(report)),
    );
  },
};
