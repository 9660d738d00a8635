import { getJson, type ServiceCatalogue } from './api.js';
import { h } from './dom.js';
import { updateParams } from './route.js';

/** The DORA filters a page understands, as the API takes them. */
export const FILTERS = ['service', 'environment', 'team', 'from', 'to'] as const;

export function filterParams(params: URLSearchParams): Record<string, string> {
  return Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? '']));
}

const DAY = 86_400_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The service catalogue, read once per render (services appear as events arrive). */
export function loadCatalogue(): Promise<ServiceCatalogue> {
  return getJson<ServiceCatalogue>('/api/v1/streams');
}

function select(
  name: string,
  label: string,
  current: string,
  options: string[],
  allLabel = 'all',
): HTMLElement {
  const values = current && !options.includes(current) ? [current, ...options] : options;
  return h(
    'label',
    {},
    label,
    h(
      'select',
      {
        name,
        'data-filter': name,
        onchange: (event: Event) =>
          updateParams({ [name]: (event.target as HTMLSelectElement).value }),
      },
      h('option', { value: '' }, allLabel),
      ...values.map((value) => h('option', { value, selected: value === current }, value)),
    ),
  );
}

function dateInput(name: 'from' | 'to', label: string, current: string): HTMLElement {
  return h(
    'label',
    {},
    label,
    h('input', {
      type: 'date',
      name,
      'data-filter': name,
      value: current,
      onchange: (event: Event) =>
        updateParams({ [name]: (event.target as HTMLInputElement).value }),
    }),
  );
}

/**
 * The filter bar: service, environment, team, time range (from, to exclusive; the API's
 * default is the 90 days up to now) and quick ranges. Every change goes to the URL.
 */
export function filterBar(
  params: URLSearchParams,
  catalogue: ServiceCatalogue,
  extra: HTMLElement[] = [],
): HTMLElement {
  const services = [...new Set(catalogue.services.map((s) => s.service))].sort();
  const environments = [...new Set(catalogue.services.map((s) => s.environment))].sort();
  const quick = (days: number) =>
    h(
      'button',
      {
        type: 'button',
        class: 'quick',
        onclick: () => updateParams({ from: isoDate(Date.now() - days * DAY), to: '' }),
      },
      `${days} d`,
    );
  return h(
    'form',
    { class: 'filters', onsubmit: (event: Event) => event.preventDefault() },
    select('service', 'Service', params.get('service') ?? '', services),
    // Without an environment the API uses the configured default (production).
    select('environment', 'Environment', params.get('environment') ?? '', environments, 'default'),
    select('team', 'Team', params.get('team') ?? '', catalogue.teams),
    dateInput('from', 'From', params.get('from') ?? ''),
    dateInput('to', 'To (excl.)', params.get('to') ?? ''),
    h('span', { class: 'quick-ranges' }, quick(30), quick(90), quick(365)),
    ...extra,
  );
}
