/**
 * Hash routing: `#/deployments?service=web&from=2026-03-01`. The page and every filter live in
 * the URL, so a view can be bookmarked, shared or put on a wall display as it is.
 */

export interface Route {
  page: string;
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = hash.split('?', 2);
  return { page: path || 'overview', params: new URLSearchParams(query) };
}

export function routeHref(page: string, params: URLSearchParams): string {
  const query = params.toString();
  return `#/${page}${query ? `?${query}` : ''}`;
}

/** Changes some parameters of the current route (an empty value removes one). */
export function updateParams(changes: Record<string, string>): void {
  const { page, params } = currentRoute();
  for (const [name, value] of Object.entries(changes)) {
    if (value === '') params.delete(name);
    else params.set(name, value);
  }
  location.hash = routeHref(page, params);
}

/** `?wall=1` on the page URL or in the route turns on the wall display. */
export function wallMode(): boolean {
  return (
    new URLSearchParams(location.search).get('wall') === '1' ||
    currentRoute().params.get('wall') === '1'
  );
}
