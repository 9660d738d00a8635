import { Option } from 'commander';
import { CadenceError } from '../problem/index.js';

/** `--server`, shared by every command that talks to a running server. */
export const serverOption = () =>
  new Option('--server <url>', 'Cadence server URL (env CADENCE_SERVER)').default(
    undefined,
    'http://127.0.0.1:8080',
  );

/** The server the CLI talks to: --server, else CADENCE_SERVER, else the local default. */
export function serverUrl(flag: string | undefined): string {
  return (flag ?? process.env.CADENCE_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
}

/** GET a JSON document from the server; a problem+json answer becomes a CadenceError. */
export async function getJson<T>(server: string, path: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw new CadenceError('unavailable', {
      field: 'server',
      detail: `cannot reach the Cadence server at ${server} (${(error as Error).cause ?? (error as Error).message}); start it with 'cadence serve' or pass --server`,
    });
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new CadenceError(response.status === 404 ? 'not-found' : 'invalid-input', {
      field: typeof body.field === 'string' ? body.field : 'server',
      detail: typeof body.detail === 'string' ? body.detail : `server answered ${response.status}`,
    });
  }
  return body as T;
}
