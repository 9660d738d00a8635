/**
 * The Cadence dashboard: a shell (navigation, wall-display mode, auto-refresh) around the pages
 * in ./pages. It only reads Cadence's public API; everything it shows can be had with curl.
 */
import { ApiProblem } from './api.js';
import { h, problemBox } from './dom.js';
import { pages } from './pages/index.js';
import { currentRoute, routeHref, updateParams, wallMode } from './route.js';
import './styles.css';

const main = document.getElementById('page')!;
const nav = document.getElementById('nav')!;
const refreshed = document.getElementById('refreshed')!;
const wallToggle = document.getElementById('wall-toggle')!;

let controller: AbortController | undefined;
let refreshTimer: number | undefined;

/** Filters carry over from page to page; the repository only matters on its page. */
function renderNav(page: string, params: URLSearchParams) {
  nav.replaceChildren(
    ...pages.map((p) =>
      h(
        'a',
        {
          href: routeHref(p.id, params),
          class: p.id === page ? 'active' : undefined,
          'data-page': p.id,
        },
        p.title,
      ),
    ),
  );
}

async function render() {
  controller?.abort();
  const abort = new AbortController();
  controller = abort;
  const { page: id, params } = currentRoute();
  const page = pages.find((p) => p.id === id) ?? pages[0]!;
  const wall = wallMode();
  // On the root element: every size is in rem.
  document.documentElement.classList.toggle('wall', wall);
  wallToggle.setAttribute('aria-pressed', String(wall));
  renderNav(page.id, params);
  document.title = `${page.title} · Cadence`;
  document.body.dataset.ready = '';
  try {
    const element = await page.render(params, abort.signal);
    if (abort.signal.aborted) return;
    main.replaceChildren(h('h1', {}, page.title), element);
  } catch (error) {
    if (abort.signal.aborted) return;
    const message =
      error instanceof ApiProblem
        ? `${error.message}${error.field ? ` (${error.field})` : ''}`
        : String(error);
    main.replaceChildren(h('h1', {}, page.title), problemBox(message));
  }
  refreshed.textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
  // Tests and the benchmark wait for this: the page's numbers are in the document.
  document.body.dataset.ready = page.id;
  performance.mark(`cadence:${page.id}:rendered`);
  scheduleRefresh(wall, params);
}

/** On a wall display the page re-reads the API every `refresh` seconds (default 60). */
function scheduleRefresh(wall: boolean, params: URLSearchParams) {
  window.clearTimeout(refreshTimer);
  if (!wall) return;
  const seconds = Math.max(5, Number(params.get('refresh') ?? 60) || 60);
  refreshTimer = window.setTimeout(() => void render(), seconds * 1000);
}

wallToggle.addEventListener('click', () => updateParams({ wall: wallMode() ? '' : '1' }));
window.addEventListener('hashchange', () => void render());
// Charts are drawn to their container's width: redraw when the window's width changes.
let resizeTimer: number | undefined;
let drawnWidth = window.innerWidth;
window.addEventListener('resize', () => {
  window.clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    if (window.innerWidth === drawnWidth) return;
    drawnWidth = window.innerWidth;
    void render();
  }, 250);
});
void render();
