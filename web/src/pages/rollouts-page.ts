import type { RolloutRow } from '../api.js';
import { getJson } from '../api.js';
import { emptyState, h, table } from '../dom.js';
import { formatRolloutDuration, formatTime } from '../format.js';
import { routeHref, updateParams } from '../route.js';
import type { Page } from './page.js';

const WATCHER_CONFIG = `# cadence.yaml: watch Deployments (RBAC: get, list, watch on apps/deployments)
kube:
  watch: true
  namespaces: [production]`;

const key = (rollout: RolloutRow) => `${rollout.namespace}/${rollout.deployment}`;

const PHASES = ['progressing', 'complete', 'failed'] as const;

function phaseBadge(rollout: RolloutRow): HTMLElement {
  const kind =
    rollout.phase === 'complete' ? 'success' : rollout.phase === 'failed' ? 'failed' : 'rollback';
  // A deadline miss that completed late is complete; the miss stays visible (docs/rollouts.md).
  const late = rollout.phase === 'complete' && rollout.deadlineExceededAt !== null;
  return h(
    'span',
    {
      class: `badge badge-${kind}`,
      'data-phase': rollout.phase,
      ...(late ? { 'data-late': 'true' } : {}),
      title: late
        ? `completed after its progress deadline (${formatTime(rollout.deadlineExceededAt)})`
        : (rollout.message ?? ''),
    },
    rollout.phase === 'failed' && rollout.reason
      ? `failed: ${rollout.reason}`
      : late
        ? 'complete (late)'
        : rollout.phase,
  );
}

/** Namespace and phase, in the URL like every filter, so a wall display can be bookmarked. */
function rolloutFilters(params: URLSearchParams, namespaces: string[]): HTMLElement {
  const choice = (name: string, label: string, options: readonly string[]) => {
    const current = params.get(name) ?? '';
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
        h('option', { value: '' }, 'all'),
        ...values.map((value) => h('option', { value, selected: value === current }, value)),
      ),
    );
  };
  return h(
    'form',
    { class: 'filters', onsubmit: (event: Event) => event.preventDefault() },
    choice('namespace', 'Namespace', namespaces),
    choice('phase', 'Phase', PHASES),
  );
}

/** updated / desired, as `kubectl rollout status` counts it. */
function progressBar(rollout: RolloutRow): HTMLElement {
  const percent = Math.round(Math.min(1, Math.max(0, rollout.progress)) * 100);
  return h(
    'div',
    {
      class: `progress progress-${rollout.phase}`,
      role: 'progressbar',
      'aria-valuemin': 0,
      'aria-valuemax': rollout.desired,
      'aria-valuenow': rollout.updated,
      'data-progress': `${rollout.updated}/${rollout.desired}`,
    },
    h('div', { class: 'progress-fill', style: `width: ${percent}%` }),
    h('span', { class: 'progress-label' }, `${rollout.updated}/${rollout.desired} (${percent}%)`),
  );
}

function duration(rollout: RolloutRow): string {
  const ms =
    rollout.durationMs ?? (rollout.endedAt ? null : Date.now() - Date.parse(rollout.startedAt));
  return formatRolloutDuration(ms);
}

function rolloutCells(rollout: RolloutRow, params: URLSearchParams): (Node | string)[] {
  const history = new URLSearchParams(params);
  history.set('deployment', key(rollout));
  return [
    h('a', { href: routeHref('rollouts', history), 'data-deployment': key(rollout) }, key(rollout)),
    progressBar(rollout),
    phaseBadge(rollout),
    rollout.revision,
    h('span', { class: 'images' }, rollout.images.join(', ')),
    formatTime(rollout.startedAt),
    h('span', { 'data-duration': '' }, duration(rollout)),
  ];
}

const HEADERS = ['deployment', 'progress', 'phase', 'revision', 'images', 'started', 'duration'];

/** One Deployment's rollouts, newest first. */
async function historyView(params: URLSearchParams, deployment: string): Promise<HTMLElement> {
  const [namespace = '', name = ''] = deployment.split('/', 2);
  const { rollouts } = await getJson<{ rollouts: RolloutRow[] }>(
    `/api/v1/rollouts/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
  );
  const back = new URLSearchParams(params);
  back.delete('deployment');
  return h(
    'div',
    { class: 'page rollouts' },
    h('p', {}, h('a', { href: routeHref('rollouts', back) }, '← every Deployment')),
    h(
      'h2',
      { 'data-testid': 'rollout-history-title' },
      `${deployment}: ${rollouts.length} rollouts`,
    ),
    table(
      HEADERS,
      rollouts.map((rollout) => rolloutCells(rollout, params)),
      { 'data-testid': 'rollout-history' },
    ),
  );
}

/**
 * Live rollouts: the latest rollout of every Deployment, kept current by the rollouts stream
 * (server-sent events) without a reload. The stream closes when the page is left.
 */
export const rolloutsPage: Page = {
  id: 'rollouts',
  title: 'Rollouts',
  async render(params, signal) {
    const deployment = params.get('deployment');
    if (deployment) return historyView(params, deployment);
    const namespace = params.get('namespace') ?? '';
    const phase = params.get('phase') ?? '';
    // The namespaces to choose from: every live one, whatever the filters.
    const [{ rollouts: everything }, { rollouts }] = await Promise.all([
      getJson<{ rollouts: RolloutRow[] }>('/api/v1/rollouts', { limit: '1000' }),
      getJson<{ rollouts: RolloutRow[] }>('/api/v1/rollouts', { limit: '1000', namespace, phase }),
    ]);
    const namespaces = [...new Set(everything.map((rollout) => rollout.namespace))].sort();
    const latest = new Map(rollouts.map((rollout) => [key(rollout), rollout]));
    const body = h('tbody', {});
    const rows = new Map<string, HTMLElement>();
    const status = h('p', { class: 'muted', 'data-testid': 'rollout-stream' }, 'connecting…');
    const list = table(HEADERS, [], { 'data-testid': 'rollouts' });
    list.querySelector('tbody')!.replaceWith(body);
    const empty = emptyState(
      everything.length > 0 ? 'No Deployment matches these filters' : 'No rollouts recorded yet',
      'Cadence records a rollout for every Deployment it watches. Turn the watcher on (see docs/rollouts.md) and give its service account get, list and watch on deployments:',
      WATCHER_CONFIG,
    );
    const container = h(
      'div',
      { class: 'page rollouts' },
      rolloutFilters(params, namespaces),
      status,
      list,
      empty,
    );
    const refreshEmpty = () => {
      list.hidden = rows.size === 0;
      empty.hidden = rows.size > 0;
    };
    const remove = (rollout: RolloutRow) => {
      rows.get(key(rollout))?.remove();
      rows.delete(key(rollout));
      latest.delete(key(rollout));
      refreshEmpty();
    };
    const show = (rollout: RolloutRow) => {
      // The phase filter is applied here: a Deployment that leaves the phase leaves the list.
      if (phase && rollout.phase !== phase) return remove(rollout);
      latest.set(key(rollout), rollout);
      const row = h(
        'tr',
        { 'data-rollout': key(rollout) },
        ...rolloutCells(rollout, params).map((cell) => h('td', {}, cell)),
      );
      const existing = rows.get(key(rollout));
      if (existing) existing.replaceWith(row);
      else body.append(row);
      rows.set(key(rollout), row);
      refreshEmpty();
    };
    for (const rollout of [...latest.values()].sort((a, b) => key(a).localeCompare(key(b)))) {
      show(rollout);
    }
    refreshEmpty();

    // The live view: each event is a Deployment as it is now; `deleted` ones leave the list.
    // EventSource resumes by itself with Last-Event-ID after a lost connection.
    const streamQuery = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
    const stream = new EventSource(`/api/v1/rollouts/stream${streamQuery}`);
    stream.addEventListener('open', () => (status.textContent = 'live: updates as they happen'));
    stream.addEventListener('error', () => (status.textContent = 'stream lost, reconnecting…'));
    stream.addEventListener('rollout', (event) => {
      show(JSON.parse((event as MessageEvent<string>).data) as RolloutRow);
    });
    stream.addEventListener('deleted', (event) => {
      remove(JSON.parse((event as MessageEvent<string>).data) as RolloutRow);
    });
    signal.addEventListener('abort', () => stream.close(), { once: true });
    return container;
  },
};
