import { z } from 'zod';
import { CadenceError } from '../problem/index.js';

/** Where a registry is and how to log in to it. */
export interface RegistryOptions {
  /** Base URL, e.g. `https://registry.example.com` or `http://127.0.0.1:5000`. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Per request, including the token endpoint. */
  timeoutMs?: number | undefined;
  /** Tags asked for per page of `tags/list`. */
  pageSize?: number | undefined;
}

export interface RegistryClient {
  /** The registry host as image references name it (`127.0.0.1:5000`). */
  readonly host: string;
  /** Every tag of a repository (all pages); none when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /** Whether a manifest (image or index) exists for `reference` (a tag or a digest). */
  hasManifest(repository: string, reference: string): Promise<boolean>;
}

// Every manifest type an image tag may point at; a registry answers 404 for one not accepted.
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const tagListSchema = z.looseObject({ tags: z.array(z.string()).nullable().optional() });
const tokenSchema = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
});

/** `Bearer realm="…",service="…",scope="…"` → its scheme and parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  const pattern = /([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const match of (space < 0 ? '' : header.slice(space + 1)).matchAll(pattern)) {
    params[match[1]!.toLowerCase()] =
      match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!;
  }
  return { scheme, params };
}

/** The `rel="next"` target of a `Link` header, if any. */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

/**
 * A client for the OCI distribution API, just what the deployer needs: tag lists (paginated
 * through `n` and `Link`), manifest HEAD, and the two auth flows — basic, and the bearer-token
 * flow (401 + `WWW-Authenticate: Bearer realm,service,scope` → token endpoint → retry).
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md
 * https://distribution.github.io/distribution/spec/auth/token/
 *
 * @example await createRegistryClient({ url: 'http://127.0.0.1:5000' }).listTags('web')
 */
export function createRegistryClient(options: RegistryOptions): RegistryClient {
  const base = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pageSize = options.pageSize ?? 1000;
  const basic =
    options.username !== undefined
      ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
      : undefined;
  // Tokens by scope, reused until the registry refuses one.
  const tokens = new Map<string, string>();

  async function send(url: URL, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError'
          ? `no answer in ${timeoutMs} ms`
          : String((error as Error).cause ?? (error as Error).message);
      throw new CadenceError('unavailable', {
        field: 'registry',
        detail: `registry ${base.host}: ${what} failed: ${reason}`,
        cause: error,
      });
    }
  }

  async function fetchToken(challenge: Record<string, string>, scope: string): Promise<string> {
    if (!challenge.realm) {
      throw new CadenceError('unavailable', {
        field: 'registry',
        detail: `registry ${base.host}: bearer challenge without a realm`,
      });
    }
    const url = new URL(challenge.realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', challenge.scope ?? scope);
    const response = await send(
      url,
      { headers: basic ? { authorization: basic } : {} },
      'token request',
    );
    const parsed = tokenSchema.safeParse(await response.json().catch(() => undefined));
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!response.ok || !token) {
      throw new CadenceError('unavailable', {
        field: 'registry',
        detail: `registry ${base.host}: token endpoint ${url.host} answered ${response.status}`,
      });
    }
    return token;
  }

  /** A request with whatever auth the registry asks for, retried once after a challenge. */
  async function request(url: URL, init: { method: string; accept?: string }, scope: string) {
    const headers = (authorization: string | undefined): Record<string, string> => ({
      ...(init.accept ? { accept: init.accept } : {}),
      ...(authorization ? { authorization } : {}),
    });
    const known = tokens.get(scope);
    let response = await send(
      url,
      { method: init.method, headers: headers(known ? `Bearer ${known}` : basic) },
      init.method,
    );
    if (response.status !== 401) return response;
    await response.body?.cancel();
    const { scheme, params } = parseChallenge(response.headers.get('www-authenticate') ?? '');
    let authorization: string | undefined;
    if (scheme === 'bearer') {
      const token = await fetchToken(params, scope);
      tokens.set(scope, token);
      authorization = `Bearer ${token}`;
    } else if (scheme === 'basic' && basic) {
      authorization = basic;
    }
    if (!authorization) {
      throw new CadenceError('unavailable', {
        field: 'registry',
        detail: `registry ${base.host} refused the request (401) and no credentials are configured`,
      });
    }
    response = await send(
      url,
      { method: init.method, headers: headers(authorization) },
      init.method,
    );
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new CadenceError('unavailable', {
        field: 'registry',
        detail: `registry ${base.host} refused the credentials (${response.status})`,
      });
    }
    return response;
  }

  const repositoryUrl = (repository: string, rest: string) =>
    new URL(`/v2/${repository.split('/').map(encodeURIComponent).join('/')}/${rest}`, base);

  return {
    host: base.host,

    async listTags(repository) {
      const scope = `repository:${repository}:pull`;
      const tags: string[] = [];
      let url: URL | undefined = repositoryUrl(repository, `tags/list?n=${pageSize}`);
      while (url) {
        const response = await request(url, { method: 'GET', accept: 'application/json' }, scope);
        if (response.status === 404) {
          await response.body?.cancel();
          return [];
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new CadenceError('unavailable', {
            field: 'registry',
            detail: `registry ${base.host}: tags of ${repository} answered ${response.status}`,
          });
        }
        const page = tagListSchema.safeParse(await response.json().catch(() => undefined));
        if (!page.success) {
          throw new CadenceError('unavailable', {
            field: 'registry',
            detail: `registry ${base.host}: tags of ${repository} is not a tag list`,
          });
        }
        tags.push(...(page.data.tags ?? []));
        const next = nextLink(response.headers.get('link'));
        url = next ? new URL(next, base) : undefined;
      }
      return tags;
    },

    async hasManifest(repository, reference) {
      const scope = `repository:${repository}:pull`;
      const response = await request(
        repositoryUrl(repository, `manifests/${encodeURIComponent(reference)}`),
        { method: 'HEAD', accept: MANIFEST_TYPES },
        scope,
      );
      await response.body?.cancel();
      if (response.status === 404) return false;
      if (!response.ok) {
        throw new CadenceError('unavailable', {
          field: 'registry',
          detail: `registry ${base.host}: manifest ${repository}:${reference} answered ${response.status}`,
        });
      }
      return true;
    },
  };
}
