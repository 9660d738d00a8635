import { ApiProblem, getJson, type CadenceReport, type CadenceRepository } from '../api.js';
import { emptyState, h, problemBox, table } from '../dom.js';
import { formatDays, formatPercent, formatTime, shortSha } from '../format.js';
import { updateParams } from '../route.js';
import { trendChart } from '../trend-chart.js';
import type { Page } from './page.js';

const monthTime = (month: string) => Date.parse(`${month}-01T00:00:00Z`) / 1000;

function summary(
  title: string,
  id: string,
  s: { count: number; median: number | null; min: number | null; max: number | null },
) {
  return h(
    'article',
    { class: 'metric', 'data-metric': id },
    h('h3', {}, title),
    h('p', { class: 'value', 'data-value': id }, formatDays(s.median)),
    h(
      'p',
      { class: 'details' },
      `median of ${s.count} updates`,
      h('br'),
      `min ${formatDays(s.min)} · max ${formatDays(s.max)}`,
    ),
  );
}

/** The window filter: the last N months up to the as-of month, or all of them. */
const WINDOWS = ['all', '3', '6', '12', '24'] as const;
type Window = (typeof WINDOWS)[number];

function windowStart(report: CadenceReport, window: Window): string | null {
  if (window === 'all') return null;
  const to = report.currentMonth.month;
  const index = Number(to.slice(0, 4)) * 12 + Number(to.slice(5, 7)) - Number(window);
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/**
 * Rows by month with each run of empty months folded into one row (`2024-03 … 2026-11`,
 * `35 empty months`), so a long quiet spell does not push the per-package table off the page.
 */
function collapseEmptyMonths<T extends { month: string }>(
  items: T[],
  isEmpty: (item: T) => boolean,
  row: (item: T) => (string | number)[],
  width: number,
): (string | number)[][] {
  const rows: (string | number)[][] = [];
  let run: T[] = [];
  const flush = () => {
    if (run.length === 1) rows.push(row(run[0]!));
    else if (run.length > 1) {
      const label = `${run[0]!.month} … ${run[run.length - 1]!.month}`;
      rows.push([label, `${run.length} empty months`, ...Array<string>(width - 2).fill('')]);
    }
    run = [];
  };
  for (const item of items) {
    if (isEmpty(item)) {
      run.push(item);
      continue;
    }
    flush();
    rows.push(row(item));
  }
  flush();
  return rows;
}

function packagesOf(report: CadenceReport): string[] {
  return [...new Set(report.deploysByMonth.flatMap((m) => Object.keys(m.packages)))].sort();
}

/** `asOf` (default now) is "now" for the current month, the last three months and pending ages. */
function render(
  fullReport: CadenceReport,
  repositories: CadenceRepository[],
  current: string,
  asOf: string,
  window: Window,
): HTMLElement {
  const from = windowStart(fullReport, window);
  const inWindow = (month: string) => from === null || month >= from;
  const report: CadenceReport = {
    ...fullReport,
    leadTimeByMonth: fullReport.leadTimeByMonth.filter((m) => inWindow(m.month)),
    deploysByMonth: fullReport.deploysByMonth.filter((m) => inWindow(m.month)),
    causesByMonth: fullReport.causesByMonth.filter((m) => inWindow(m.month)),
    updates: fullReport.updates.filter((u) => inWindow(u.deploy.at.slice(0, 7))),
    intervals: fullReport.intervals.filter((i) => inWindow(i.at.slice(0, 7))),
  };
  const months = report.leadTimeByMonth;
  const packages = packagesOf(report);
  const causes = new Map(report.causesByMonth.map((c) => [c.month, c.causes]));
  const deployMonths = report.deploysByMonth.map((m) => m.month);
  const deploys = report.deploysByMonth.reduce((n, m) => n + m.deploys, 0);
  const paired = report.deploysByMonth.reduce((n, m) => n + m.pairedDeploys, 0);
  const withUpdates = months.filter((m) => m.count > 0);
  return h(
    'div',
    { class: 'page cadence' },
    h(
      'form',
      { class: 'filters', onsubmit: (event: Event) => event.preventDefault() },
      h(
        'label',
        {},
        'Repository',
        h(
          'select',
          {
            name: 'repository',
            'data-filter': 'repository',
            onchange: (event: Event) =>
              updateParams({ repository: (event.target as HTMLSelectElement).value }),
          },
          ...repositories.map((r) =>
            h('option', { value: r.name, selected: r.name === current }, r.name),
          ),
        ),
      ),
      h(
        'label',
        {},
        'As of',
        h('input', {
          type: 'date',
          name: 'asOf',
          'data-filter': 'asOf',
          value: asOf,
          onchange: (event: Event) =>
            updateParams({ asOf: (event.target as HTMLInputElement).value }),
        }),
      ),
      h(
        'label',
        {},
        'Window',
        h(
          'select',
          {
            name: 'window',
            'data-filter': 'window',
            onchange: (event: Event) =>
              updateParams({ window: (event.target as HTMLSelectElement).value }),
          },
          ...WINDOWS.map((w) =>
            h(
              'option',
              { value: w, selected: w === window },
              w === 'all' ? 'all months' : `last ${w} months`,
            ),
          ),
        ),
      ),
      h(
        'span',
        { class: 'muted' },
        `production folder: ${report.production}; as of ${formatTime(report.asOf)}`,
      ),
    ),
    report.shallowBoundaries.length > 0
      ? h(
          'p',
          { class: 'problem', 'data-testid': 'shallow' },
          `Imported from a shallow clone: the history stops at ${report.shallowBoundaries.length} boundary commit(s). Run git fetch --unshallow and import again for the rest.`,
        )
      : '',
    h(
      'section',
      { class: 'metrics' },
      summary(`Lead time, ${report.currentMonth.month}`, 'current-month', report.currentMonth),
      summary(
        `Lead time, ${report.lastThreeMonths.from} to ${report.lastThreeMonths.to}`,
        'last-three-months',
        report.lastThreeMonths,
      ),
      h(
        'article',
        { class: 'metric', 'data-metric': 'pending' },
        h('h3', {}, 'Pending updates'),
        h('p', { class: 'value', 'data-value': 'pending' }, String(report.pending.length)),
        h('p', { class: 'details' }, 'causes not yet deployed to production'),
      ),
      h(
        'article',
        { class: 'metric', 'data-metric': 'deploys' },
        h('h3', {}, 'Production deploys'),
        h('p', { class: 'value', 'data-value': 'deploys' }, String(deploys)),
        h(
          'p',
          { class: 'details', 'data-value': 'paired-deploys' },
          `${paired} paired with a cause (the blog's count)`,
        ),
      ),
      ...report.promotion.map((p) =>
        h(
          'article',
          { class: 'metric', 'data-metric': `promotion-${p.from}` },
          h('h3', {}, `Promotion ${p.from} → ${p.to}`),
          h(
            'p',
            { class: 'value', 'data-value': `promotion-share-${p.from}` },
            formatPercent(p.share),
          ),
          h(
            'p',
            { class: 'details' },
            `share: ${p.promoted} promoted / ${p.promoted + p.superseded} decided`,
            h('br'),
            h(
              'span',
              { 'data-value': `interval-ratio-${p.from}` },
              `interval ratio (blog): ${formatPercent(p.intervalRatio)} = ${p.toIntervals}/${p.fromIntervals}`,
            ),
          ),
        ),
      ),
    ),
    h(
      'section',
      { class: 'trends' },
      trendChart(
        'Lead time per month (days)',
        months.map((m) => monthTime(m.month)),
        [
          { label: 'min', values: months.map((m) => m.min), color: '#a6d8c7' },
          { label: 'median', values: months.map((m) => m.median), color: '#1b9e77' },
          { label: 'max', values: months.map((m) => m.max), color: '#d95f02' },
        ],
        (v) => `${Number(v.toFixed(1))} d`,
      ),
      trendChart(
        'Deploys and causes per month',
        deployMonths.map(monthTime),
        [
          {
            label: 'deploys',
            values: report.deploysByMonth.map((m) => m.deploys),
            color: '#2f6fdd',
            style: 'bars',
          },
          {
            label: 'causes',
            values: deployMonths.map((m) => causes.get(m) ?? 0),
            color: '#e7298a',
          },
        ],
        (v) => String(Number(v.toFixed(1))),
      ),
    ),
    h('h2', {}, 'Lead time per month'),
    table(
      ['month', 'updates', 'min', 'median', 'max'],
      collapseEmptyMonths(
        months,
        (m) => m.count === 0,
        (m) => [m.month, m.count, formatDays(m.min), formatDays(m.median), formatDays(m.max)],
        5,
      ),
      { 'data-testid': 'lead-time-by-month' },
    ),
    h('h2', {}, 'Lead-time deciles per month'),
    h(
      'p',
      { class: 'muted' },
      "Cadence's deciles are percentiles (p10 … p90, interpolated as percentile_cont); the blog's variability sorts the month's lead times into ntile(10) groups and averages each.",
    ),
    withUpdates.length === 0
      ? h('p', { class: 'muted' }, 'No update deployed in this window.')
      : table(
          ['month', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `p${d}0`)],
          withUpdates.map((m) => [m.month, ...m.percentileDeciles.map(formatDays)]),
          { 'data-testid': 'deciles' },
        ),
    withUpdates.length === 0
      ? ''
      : table(
          ['month', 'ntile(10) group averages, fastest first'],
          withUpdates.map((m) => [m.month, m.ntileVariability.map(formatDays).join(' · ')]),
          { 'data-testid': 'variability' },
        ),
    h('h2', {}, 'Deploys and causes per month, per package'),
    table(
      ['month', 'deploys', 'causes', ...packages],
      collapseEmptyMonths(
        report.deploysByMonth,
        (m) => m.deploys === 0 && (causes.get(m.month) ?? 0) === 0,
        (m) => [
          m.month,
          m.deploys,
          causes.get(m.month) ?? 0,
          ...packages.map((p) => m.packages[p] ?? 0),
        ],
        3 + packages.length,
      ),
      { 'data-testid': 'deploys-by-month' },
    ),
    h('h2', {}, 'Intervals between deploys, per environment folder'),
    report.intervals.length === 0
      ? h('p', { class: 'muted' }, 'Fewer than two deploys in every environment.')
      : table(
          ['environment', 'deploy', 'deployed at', 'previous', 'previous at', 'interval'],
          report.intervals.map((i) => [
            i.environment,
            shortSha(i.commit),
            formatTime(i.at),
            shortSha(i.previousCommit),
            formatTime(i.previousAt),
            formatDays(i.minutes / 1440),
          ]),
          { 'data-testid': 'intervals' },
        ),
    h('h2', {}, 'Pending updates'),
    report.pending.length === 0
      ? h('p', { class: 'muted' }, 'Every cause has been deployed.')
      : table(
          ['package', 'cause', 'since', 'age'],
          report.pending.map((p) => [
            p.package,
            shortSha(p.cause.commit),
            formatTime(p.cause.at),
            formatDays(p.ageDays),
          ]),
          { 'data-testid': 'pending' },
        ),
    h('h2', {}, 'Lead time per package update'),
    table(
      ['package', 'cause', 'caused at', 'deploy', 'deployed at', 'lead time'],
      report.updates.map((u) => [
        u.package,
        shortSha(u.cause.commit),
        formatTime(u.cause.at),
        shortSha(u.deploy.commit),
        formatTime(u.deploy.at),
        formatDays(u.leadTimeDays),
      ]),
      { 'data-testid': 'updates' },
    ),
  );
}

export const cadencePage: Page = {
  id: 'cadence',
  title: 'Patching cadence',
  async render(params) {
    const { repositories } = await getJson<{ repositories: CadenceRepository[] }>(
      '/api/v1/cadence/repositories',
    );
    const withRules = repositories.filter((r) => r.hasRules);
    const wanted = params.get('repository') ?? withRules[0]?.name ?? repositories[0]?.name;
    if (wanted === undefined) {
      return emptyState(
        'No repository imported yet',
        'Patching cadence is read from a GitOps repository’s history. Import one with the rules that say which commits are causes (a package vendored) and which are deploys:',
        'cadence git import ./my-gitops-repo --rules cadence-rules.yaml\n# see docs/git-cadence.md for the rules file',
      );
    }
    try {
      const asOf = params.get('asOf') ?? '';
      const asked = params.get('window') ?? 'all';
      const window: Window = (WINDOWS as readonly string[]).includes(asked)
        ? (asked as Window)
        : 'all';
      const report = await getJson<CadenceReport>('/api/v1/cadence/report', {
        repository: wanted,
        asOf,
      });
      return render(report, repositories, wanted, asOf, window);
    } catch (error) {
      if (error instanceof ApiProblem && error.status < 500) return problemBox(error.message);
      throw error;
    }
  },
};
