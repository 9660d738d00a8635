import { getJson, type IncidentRow } from '../api.js';
import { emptyState, h, table } from '../dom.js';
import { firstIncidentExample } from '../first-events.js';
import { filterBar, filterParams, loadCatalogue } from '../filters.js';
import { formatDuration, formatTime, shortSha } from '../format.js';
import type { Page } from './page.js';

export const incidentsPage: Page = {
  id: 'incidents',
  title: 'Incidents',
  async render(params) {
    const [catalogue, { incidents }] = await Promise.all([
      loadCatalogue(),
      getJson<{ incidents: IncidentRow[] }>('/api/v1/incidents', filterParams(params)),
    ]);
    const open = incidents.filter((i) => i.resolvedAt === null).length;
    return h(
      'div',
      { class: 'page incidents' },
      filterBar(params, catalogue),
      incidents.length === 0
        ? emptyState(
            'No incidents in this window',
            'Incidents come from Alertmanager, GitHub or GitLab issues labelled incident, or CDEvents. Report one:',
            firstIncidentExample(location.origin),
          )
        : h(
            'div',
            {},
            h(
              'p',
              { 'data-testid': 'incident-summary' },
              `${incidents.length} incidents, ${open} open`,
            ),
            table(
              ['incident', 'service', 'detected', 'resolved', 'time to restore', 'attributed to'],
              incidents.map((i) => [
                h('strong', { 'data-incident': i.key }, i.key),
                i.service ?? '–',
                formatTime(i.detectedAt),
                i.resolvedAt
                  ? formatTime(i.resolvedAt)
                  : h('span', { class: 'badge badge-failed' }, 'open'),
                formatDuration(i.durationSeconds),
                i.attributedTo.length === 0
                  ? h('span', { class: 'muted' }, 'not attributed')
                  : i.attributedTo
                      .map(
                        (a) => `${a.service} ${formatTime(a.deployedAt)} (${shortSha(a.revision)})`,
                      )
                      .join(', '),
              ]),
              { 'data-testid': 'incidents' },
            ),
          ),
    );
  },
};
