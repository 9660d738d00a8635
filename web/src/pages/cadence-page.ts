import { ApiProblem, getJson, type CadenceReport, type CadenceRepository } from '../api.js';
import { emptyState, h, problemBox, table } from '../dom.js';
import { formatDays, formatTime, shortSha } from '../format.js';
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

function packagesOf(report: CadenceReport): string[] {
  return [...new Set(report.deploysByMonth.flatMap((m) => Object.keys(m.packages)))].sort();
}

/** `asOf` (default now) is "now" for the current month, the last three months and pending ages. */
function render(
  report: CadenceReport,
  repositories: CadenceRepository[],
  current: string,
  asOf: string,
): HTMLElement {
  const months = report.leadTimeByMonth;
  const packages = packagesOf(report);
  const causes = new Map(report.causesByMonth.map((c) => [c.month, c.causes]));
  const deployMonths = report.deploysByMonth.map((m) => m.month);
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
        'span',
        { class: 'muted' },
        `production folder: ${report.production}; as of ${formatTime(report.asOf)}`,
      ),
    ),
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
      months.map((m) => [
        m.month,
        m.count,
        formatDays(m.min),
        formatDays(m.median),
        formatDays(m.max),
      ]),
      { 'data-testid': 'lead-time-by-month' },
    ),
    h('h2', {}, 'Deploys and causes per month, per package'),
    table(
      ['month', 'deploys', 'causes', ...packages],
      report.deploysByMonth.map((m) => [
        m.month,
        m.deploys,
        causes.get(m.month) ?? 0,
        ...packages.map((p) => m.packages[p] ?? 0),
      ]),
      { 'data-testid': 'deploys-by-month' },
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
      const report = await getJson<CadenceReport>('/api/v1/cadence/report', {
        repository: wanted,
        asOf,
      });
      return render(report, repositories, wanted, asOf);
    } catch (error) {
      if (error instanceof ApiProblem && error.status < 500) return problemBox(error.message);
      throw error;
    }
  },
};
