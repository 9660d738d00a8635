import { getJson, type TimelineDeployment } from '../api.js';
import { emptyState, h } from '../dom.js';
import { filterBar, filterParams, loadCatalogue } from '../filters.js';
import { firstDeploymentExample } from '../first-events.js';
import { formatDuration, formatTime, shortSha } from '../format.js';
import type { Page } from './page.js';

function outcomeBadge(d: TimelineDeployment): HTMLElement {
  const label = d.kind === 'rollback' ? 'rollback' : d.failed ? 'failed' : 'success';
  return h('span', { class: `badge badge-${label}` }, label);
}

function deploymentItem(d: TimelineDeployment): HTMLElement {
  const leadTimes = d.commits.map((c) => c.leadTimeSeconds).sort((a, b) => a - b);
  return h(
    'li',
    {
      class: `deployment ${d.kind === 'rollback' ? 'is-rollback' : d.failed ? 'is-failed' : ''}`,
      'data-deployment': d.seq,
      'data-service': d.service,
    },
    // The day is the group's heading: the time of day is enough here.
    h('time', { datetime: d.deployedAt }, formatTime(d.deployedAt).slice(11)),
    h(
      'div',
      { class: 'what' },
      h('strong', {}, d.service),
      ' ',
      outcomeBadge(d),
      d.rework ? h('span', { class: 'badge badge-rework' }, 'rework') : null,
      ' ',
      h('span', { class: 'muted' }, `${d.environment} · revision ${shortSha(d.revision)}`),
      d.failureReasons.length > 0
        ? h(
            'div',
            { class: 'reasons' },
            `failed: ${d.failureReasons.join(', ')}`,
            d.restoredAt ? ` · restored ${formatTime(d.restoredAt)}` : ' · not restored',
          )
        : null,
    ),
    h(
      'div',
      { class: 'changes', 'data-changes': d.changes.length },
      d.changes.length === 0
        ? h('span', { class: 'muted' }, 'no new changes')
        : h(
            'span',
            {},
            `${d.changes.length} change${d.changes.length > 1 ? 's' : ''}: ${d.changes.join(', ')}`,
          ),
      d.commits.length > 0
        ? h(
            'div',
            { class: 'muted' },
            d.commits.length === 1
              ? `1 commit, lead time ${formatDuration(leadTimes[0]!)}`
              : `${d.commits.length} commits, lead time ${formatDuration(leadTimes[0]!)} – ${formatDuration(leadTimes.at(-1)!)}`,
          )
        : null,
    ),
    h(
      'div',
      { class: 'incidents' },
      ...d.incidents.map((i) =>
        h(
          'span',
          { class: 'badge badge-incident', 'data-incident': i.key },
          `incident ${i.key}${i.resolvedAt ? '' : ' (open)'}`,
        ),
      ),
    ),
  );
}

export const deploymentsPage: Page = {
  id: 'deployments',
  title: 'Deployments',
  async render(params) {
    const [catalogue, { deployments }] = await Promise.all([
      loadCatalogue(),
      getJson<{ deployments: TimelineDeployment[] }>('/api/v1/deployments', filterParams(params)),
    ]);
    // Grouped by UTC day, newest first, as the API returns them.
    const days = new Map<string, TimelineDeployment[]>();
    for (const d of deployments) {
      const day = d.deployedAt.slice(0, 10);
      days.set(day, [...(days.get(day) ?? []), d]);
    }
    return h(
      'div',
      { class: 'page deployments' },
      filterBar(params, catalogue),
      catalogue.services.length === 0
        ? emptyState(
            'No deployments yet',
            'The timeline shows every deployment Cadence receives as a CDEvent. Send a first one:',
            firstDeploymentExample(location.origin),
          )
        : deployments.length === 0
          ? h(
              'p',
              { class: 'muted', 'data-testid': 'no-rows' },
              'No deployment in this window: widen the time range.',
            )
          : h(
              'ol',
              { class: 'timeline', 'data-testid': 'timeline' },
              ...[...days].map(([day, items]) =>
                h(
                  'li',
                  { class: 'day' },
                  h('h3', {}, day),
                  h('ol', {}, ...items.map(deploymentItem)),
                ),
              ),
            ),
    );
  },
};
