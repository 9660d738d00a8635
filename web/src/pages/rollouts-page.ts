import type { RolloutRow } from '../api.js';
import { getJson } from '../api.js';
import { emptyState, h, table } from '../dom.js';
import { formatDuration, formatTime } from '../format.js';
import { routeHref } from '../route.js';
import type { Page } from './page.js';

const WATCHER_CONFIG = `# cadence.yaml: watch Deployments (RBAC: get, list, watch on apps/deployments)
kube:
  watch: true
  namespaces: [production]`;

const key = (rollout: RolloutRow) => `${rollout.namespace}/${rollout.deployment}`;

function phaseBadge(rollout: RolloutRow): HTMLElement {
  const kind =
    rollout.phase === 'complete' ? 'success' : rollout.phase === 'failed' ? 'failed' : 'rollback';
  return h(
    'span',
    { class: `badge badge-${kind}`, 'data-phase': rollout.phase, title: rollout.message ?? '' },
    rollout.phase === 'failed' && rollout.reason ? `failed: ${rollout.reason}` : rollout.phase,
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
  return ms === null ? '–' : formatDuration(Math.round(ms / 1000));
}

function rolloutCells(rollout: RolloutRow, params: URLSearchParams): (Node | string)[] {
  const history = new URLSearchParams(params);
  history.set('deployment', key(rollout));
  return [
    h('a', { href: routeHref('rollouts', history), 'data-deployment': key(rollout) }, key(rollout)),
    progressBar(rollout),
    phaseBadge(rollout),
    rollout.revision,
    rollout.images.join(', '),
    formatTime(rollout.startedAt),
    duration(rollout),
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
    const { rollouts } = await getJson<{ rollouts: RolloutRow[] }>('/api/v1/rollouts', {
      limit: '1000',
    });
    const latest = new Map(rollouts.map((rollout) => [key(rollout), rollout]));
    const body = h('tbody', {});
    const rows = new Map<string, HTMLElement>();
    const status = h('p', { class: 'muted', 'data-testid': 'rollout-stream' }, 'connecting…');
    const list = table(HEADERS, [], { 'data-testid': 'rollouts' });
    list.querySelector('tbody')!.replaceWith(body);
    const empty = emptyState(
      'No rollouts recorded yet',
      'Cadence records a rollout for every Deployment it watches. Turn the watcher on (see docs/rollouts.md) and give its service account get, list and watch on deployments:',
      WATCHER_CONFIG,
    );
    const container = h('div', { class: 'page rollouts' }, status, list, empty);
    const show = (rollout: RolloutRow) => {
      const previous = latest.get(key(rollout));
      // The stream sends a Deployment's rollouts in order; an older revision never replaces a newer.
      if (previous && previous.id > rollout.id) return;
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
      list.hidden = false;
      empty.hidden = true;
    };
    for (const rollout of [...latest.values()].sort((a, b) => key(a).localeCompare(key(b)))) {
      show(rollout);
    }
    list.hidden = latest.size === 0;
    empty.hidden = latest.size > 0;

    const stream = new EventSource('/api/v1/rollouts/stream');
    stream.addEventListener('open', () => (status.textContent = 'live: updates as they happen'));
    stream.addEventListener('error', () => (status.textContent = 'stream lost, reconnecting…'));
    stream.addEventListener('rollout', (event) => {
      show(JSON.parse((event as MessageEvent<string>).data) as RolloutRow);
    });
    signal.addEventListener('abort', () => stream.close(), { once: true });
    return container;
  },
};
