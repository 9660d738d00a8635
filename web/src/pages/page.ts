/**
 * A dashboard page: an id (its route), a title for the navigation, and a render function that
 * reads the API and returns the page's element. `signal` aborts when the user leaves the page
 * or the wall display refreshes it: a live page (a rollouts stream) closes its connection then.
 */
export interface Page {
  id: string;
  title: string;
  render(params: URLSearchParams, signal: AbortSignal): Promise<HTMLElement>;
}
