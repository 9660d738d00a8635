/**
 * A test Kubernetes API server: enough of Kubernetes for kubectl and @kubernetes/client-node to
 * work against it as against a real cluster. Test code only, never shipped. Proven against the
 * real kubectl in test/e2e/kube-apiserver-kubectl.test.ts.
 *
 * Programmatic interface (stable; other branches build on it):
 *
 * ```ts
 * const kube = await startKubeApiServer({ stepIntervalMs: 50, token: 'secret' }); // both optional
 * kube.url;                       // http://127.0.0.1:PORT
 * kube.kubeconfigPath;            // a kubeconfig file for it (context `test`, namespace default)
 * kube.writeKubeconfig(path, { namespace }) // another one
 * kube.controller.pause() / .resume() / .step() / .setStepInterval(ms)
 * kube.controller.failNextRollout(namespace, name) // next rollout → ProgressDeadlineExceeded
 * kube.controller.completeStalledRollout(namespace, name) // …then it completes late
 * kube.dropWatches()              // ends every open watch stream (clients re-watch)
 * kube.compact()                  // forgets history: a watch from an older resourceVersion gets 410
 * kube.get('apps', 'deployments', namespace, name) / kube.list('', 'pods', namespace)
 * kube.requests                   // every request seen: { method, path, query, contentType }
 * await kube.close();
 * ```
 *
 * Served: discovery (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/v1`; the
 * legacy shapes, which kubectl takes when its aggregated-discovery Accept is answered with plain
 * JSON); `/openapi/v3` with just what kubectl's field-validation check reads (see openapi.ts: a
 * 404 there makes kubectl refuse to apply without `--validate=false`); `/openapi/v2` is a 404.
 * Namespaces, Pods, Services, ConfigMaps, Deployments, ReplicaSets, and one custom resource,
 * Gateway API HTTPRoutes (gateway.networking.k8s.io/v1, stored as given): get, list, watch, create,
 * replace, patch (merge, strategic merge approximated, JSON patch, server-side apply with
 * fieldManager/force/managedFields and conflicts), delete (propagation via ownerReferences),
 * deletecollection, `dryRun=All`, label and field (metadata.name/namespace) selectors; errors as
 * `Status` (400, 401, 404, 405, 409, 410, 415, 422). Watches: `watch=1|true`, resourceVersion
 * (replayed from history, 410 Gone when compacted), `allowWatchBookmarks`, `timeoutSeconds`.
 * Not served: protobuf bodies (415: kubectl's typed commands such as `create namespace` send it;
 * `apply` sends JSON), TLS, authorization, other kinds, pagination (`limit` is ignored).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DeploymentController, FAIL_ROLLOUT_ANNOTATION } from './deployment-controller.js';
import { openapiGroupVersion, openapiRoot } from './openapi.js';
import { ApiError, ObjectStore, selectorFilter, type Change } from './object-store.js';
import {
  isObject,
  jsonPatch,
  JsonPatchError,
  mergePatch,
  strategicMergePatch,
  type Json,
  type JsonObject,
} from './patches.js';
import {
  apiGroupList,
  apiVersionOf,
  apiVersions,
  namedApiGroup,
  namedGroups,
  findKind,
  resourceList,
  versionInfo,
  type ApiGroup,
  type ResourceKind,
} from './resources.js';

export { FAIL_ROLLOUT_ANNOTATION };
export type { JsonObject };

export interface KubeApiServerOptions {
  /** Interval between steps of the simulated Deployment controller (default 50 ms). */
  stepIntervalMs?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms). */
  bookmarkIntervalMs?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
}

export interface KubeApiServer {
  url: string;
  kubeconfigPath: string;
  controller: DeploymentController;
  store: ObjectStore;
  requests: SeenRequest[];
  writeKubeconfig(path: string, options?: { namespace?: string }): string;
  dropWatches(): number;
  compact(): void;
  get(
    group: ApiGroup,
    plural: string,
    namespace: string | undefined,
    name: string,
  ): JsonObject | undefined;
  list(group: ApiGroup, plural: string, namespace?: string): JsonObject[];
  close(): Promise<void>;
}

/** A kubeconfig for a server, as kubectl and client-node read it. */
export function kubeconfigYaml(
  server: string,
  options: { token?: string; namespace?: string } = {},
): string {
  const user = options.token ? `    token: ${options.token}\n` : '    {}\n';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${server}`,
    // client-node refuses plain http unless TLS verification is declared off; kubectl ignores it.
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: test',
    `  user:\n${user.trimEnd()}`,
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test',
    '    user: test',
    `    namespace: ${options.namespace ?? 'default'}`,
    'current-context: test',
    'preferences: {}',
    '',
  ].join('\n');
}

function send(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  response.end(text);
}

function sendStatus(response: ServerResponse, error: ApiError): void {
  send(response, error.code, error.status());
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(text: string, yaml: boolean): Json {
  try {
    return (yaml ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (error) {
    throw new ApiError(
      400,
      'BadRequest',
      `the body of the request was in an unknown format: ${(error as Error).message}`,
    );
  }
}

/** kubectl names itself `kubectl/v1.32.4 (linux/amd64) …`; the default manager is that first word. */
function managerFrom(request: IncomingMessage, query: URLSearchParams): string {
  const explicit = query.get('fieldManager');
  if (explicit) return explicit;
  const agent = String(request.headers['user-agent'] ?? 'unknown');
  return agent.split('/')[0] || 'unknown';
}

interface Route {
  kind: ResourceKind;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/** `/api/v1/namespaces/ns/pods/name/status` → kind, namespace, name, subresource. */
function route(segments: string[]): Route | undefined {
  let group: ApiGroup;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') {
    group = '';
    rest = segments.slice(2);
  } else if (
    segments[0] === 'apis' &&
    (namedGroups as readonly string[]).includes(segments[1] ?? '') &&
    segments[2] === 'v1'
  ) {
    group = segments[1] as ApiGroup;
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const kind = findKind(group, rest[0] ?? '');
  if (!kind || rest.length > 3) return undefined;
  if (!kind.namespaced && namespace !== undefined) return undefined;
  return { kind, namespace, name: rest[1], subresource: rest[2] };
}

interface OpenWatch {
  response: ServerResponse;
  close(): void;
}

export async function startKubeApiServer(
  options: KubeApiServerOptions = {},
): Promise<KubeApiServer> {
  const store = new ObjectStore();
  const controller = new DeploymentController(store, options.stepIntervalMs ?? 50);
  const requests: SeenRequest[] = [];
  const watches = new Set<OpenWatch>();
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
  let url = '';

  function list(route: Route, query: URLSearchParams): JsonObject {
    const items = store.list(route.kind, route.namespace, {
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
    });
    return {
      kind: `${route.kind.kind}List`,
      apiVersion: apiVersionOf(route.kind),
      metadata: { resourceVersion: String(store.resourceVersion) },
      items,
    };
  }

  function watch(route: Route, query: URLSearchParams, response: ServerResponse): void {
    const matches = selectorFilter({
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
    });
    const inScope = (change: Change) =>
      change.kind === route.kind &&
      (!route.namespace || (change.object.metadata as JsonObject).namespace === route.namespace) &&
      (route.name === undefined || (change.object.metadata as JsonObject).name === route.name) &&
      matches(change.object);
    response.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    // Clients (client-node's Watch) wait for the headers before reading events.
    response.flushHeaders();
    const write = (type: string, object: JsonObject) =>
      response.write(`${JSON.stringify({ type, object })}\n`);
    const requested = query.get('resourceVersion');
    if (!requested || requested === '0') {
      for (const object of store.list(route.kind, route.namespace)) {
        const change: Change = { resourceVersion: 0, kind: route.kind, type: 'ADDED', object };
        if (inScope(change)) write('ADDED', object);
      }
    } else {
      const replay = store.changesSince(Number(requested));
      if (!replay) {
        write(
          'ERROR',
          new ApiError(
            410,
            'Expired',
            `too old resource version: ${requested} (${store.resourceVersion})`,
          ).status(),
        );
        response.end();
        return;
      }
      for (const change of replay) if (inScope(change)) write(change.type, change.object);
    }
    const unsubscribe = store.onChange((change) => {
      if (inScope(change)) write(change.type, change.object);
    });
    const timers: NodeJS.Timeout[] = [];
    if (query.get('allowWatchBookmarks') === 'true') {
      timers.push(
        setInterval(
          () =>
            write('BOOKMARK', {
              kind: route.kind.kind,
              apiVersion: apiVersionOf(route.kind),
              metadata: {
                resourceVersion: String(store.resourceVersion),
                annotations: { 'k8s.io/initial-events-end': 'true' },
              },
            }),
          bookmarkIntervalMs,
        ),
      );
    }
    const open: OpenWatch = {
      response,
      close() {
        unsubscribe();
        for (const timer of timers) clearInterval(timer);
        watches.delete(open);
        if (!response.writableEnded) response.end();
      },
    };
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? 0);
    if (timeoutSeconds > 0) timers.push(setTimeout(() => open.close(), timeoutSeconds * 1000));
    response.on('close', () => open.close());
    watches.add(open);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const parsed = new URL(request.url ?? '/', 'http://localhost');
    const query = parsed.searchParams;
    const method = request.method ?? 'GET';
    const contentType = request.headers['content-type']?.split(';')[0]?.trim();
    requests.push({ method, path: parsed.pathname, query: Object.fromEntries(query), contentType });
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      sendStatus(response, new ApiError(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (contentType === 'application/vnd.kubernetes.protobuf') {
      // kubectl's typed commands (`create namespace`) send protobuf; apply and client-node send JSON.
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        'the test API server reads JSON and YAML only, not protobuf',
      );
    }
    const path = parsed.pathname.replace(/\/+$/, '');
    const segments = path.split('/').filter(Boolean);
    if (method === 'GET') {
      if (path === '/version') return send(response, 200, versionInfo);
      if (path === '/api') return send(response, 200, apiVersions(url.replace(/^https?:\/\//, '')));
      if (path === '/api/v1') return send(response, 200, resourceList(''));
      if (path === '/apis') return send(response, 200, apiGroupList);
      if (segments[0] === 'apis' && segments.length === 2) {
        const group = namedApiGroup(segments[1]!);
        if (group) return send(response, 200, group);
      }
      if (
        segments[0] === 'apis' &&
        segments.length === 3 &&
        segments[2] === 'v1' &&
        (namedGroups as readonly string[]).includes(segments[1]!)
      ) {
        return send(response, 200, resourceList(segments[1] as ApiGroup));
      }
      if (path === '/openapi/v3') return send(response, 200, openapiRoot());
      if (path.startsWith('/openapi/v3/')) {
        const document = openapiGroupVersion(path.slice('/openapi/v3/'.length));
        if (document) return send(response, 200, document);
      }
      if (path === '/healthz' || path === '/readyz' || path === '/livez') {
        response.writeHead(200, { 'Content-Type': 'text/plain' });
        response.end('ok');
        return;
      }
    }
    const target = route(segments);
    if (!target) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const { kind, name, subresource } = target;
    // A namespace's own URL is /api/v1/namespaces/{name}.
    const namespace = target.namespace;
    const dryRun = query.get('dryRun') === 'All';
    const manager = managerFrom(request, query);
    if (subresource !== undefined && subresource !== 'status' && subresource !== 'scale') {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (subresource === 'scale') {
      if (!kind.subresources.includes('scale') || !name) {
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
      const live = store.get(kind, namespace, name);
      const scale = (object: JsonObject): JsonObject => ({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: {
          name,
          namespace: namespace ?? null,
          uid: (object.metadata as JsonObject).uid!,
          resourceVersion: (object.metadata as JsonObject).resourceVersion!,
        },
        spec: { replicas: (object.spec as JsonObject).replicas! },
        status: { replicas: Number((object.status as JsonObject | undefined)?.replicas ?? 0) },
      });
      if (method === 'GET') return send(response, 200, scale(live));
      if (method === 'PUT' || method === 'PATCH') {
        const body = parseObject(await readBody(request), false);
        const replicas = isObject(body) && isObject(body.spec) ? body.spec.replicas : undefined;
        if (typeof replicas !== 'number') {
          throw new ApiError(422, 'Invalid', 'spec.replicas: Required value');
        }
        const next = store.update(
          kind,
          namespace,
          name,
          { ...live, spec: { ...(live.spec as JsonObject), replicas } },
          { manager, dryRun },
        );
        return send(response, 200, scale(next));
      }
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      );
    }

    if (method === 'GET') {
      const watching = query.get('watch') === '1' || query.get('watch') === 'true';
      if (watching) {
        // Validate the selectors before the 200 goes out.
        selectorFilter({
          labelSelector: query.get('labelSelector') ?? undefined,
          fieldSelector: query.get('fieldSelector') ?? undefined,
        });
        return watch(target, query, response);
      }
      if (name === undefined) return send(response, 200, list(target, query));
      return send(response, 200, store.get(kind, namespace, name));
    }
    if (method === 'POST' && name === undefined) {
      const body = parseObject(await readBody(request), false);
      if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body must be an object');
      if (body.kind !== undefined && body.kind !== kind.kind) {
        throw new ApiError(400, 'BadRequest', `the kind of the body must be ${kind.kind}`);
      }
      return send(response, 201, store.create(kind, namespace, body, { manager, dryRun }));
    }
    if (method === 'PUT' && name !== undefined) {
      const body = parseObject(await readBody(request), false);
      if (!isObject(body)) throw new ApiError(400, 'BadRequest', 'the body must be an object');
      const status = subresource === 'status' ? 'status' : undefined;
      return send(
        response,
        200,
        store.update(kind, namespace, name, body, { manager, dryRun, subresource: status }),
      );
    }
    if (method === 'PATCH' && name !== undefined) {
      const text = await readBody(request);
      const status = subresource === 'status' ? 'status' : undefined;
      if (contentType === 'application/apply-patch+yaml') {
        if (!query.get('fieldManager')) {
          throw new ApiError(
            422,
            'Invalid',
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
          );
        }
        const body = parseObject(text, true);
        if (!isObject(body))
          throw new ApiError(400, 'BadRequest', 'the applied configuration must be an object');
        return send(
          response,
          200,
          store.apply(kind, namespace, name, body, {
            manager,
            dryRun,
            force: query.get('force') === 'true',
          }),
        );
      }
      const live = store.get(kind, namespace, name);
      const patch = parseObject(text, false);
      let next: Json;
      try {
        if (contentType === 'application/merge-patch+json') next = mergePatch(live, patch);
        else if (contentType === 'application/strategic-merge-patch+json')
          next = strategicMergePatch(live, patch);
        else if (contentType === 'application/json-patch+json') next = jsonPatch(live, patch);
        else {
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
          );
        }
      } catch (error) {
        if (error instanceof JsonPatchError) throw new ApiError(422, 'Invalid', error.message);
        throw error;
      }
      if (!isObject(next))
        throw new ApiError(422, 'Invalid', 'the patched object is not an object');
      // A patch never carries optimistic concurrency unless it sets resourceVersion itself.
      const patchedVersion =
        isObject(patch) && isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
      if (patchedVersion === undefined && isObject(next.metadata))
        delete next.metadata.resourceVersion;
      return send(
        response,
        200,
        store.update(kind, namespace, name, next, { manager, dryRun, subresource: status }),
      );
    }
    if (method === 'DELETE') {
      const text = await readBody(request);
      const options = text ? parseObject(text, false) : {};
      const propagation =
        query.get('propagationPolicy') ??
        (isObject(options) ? String(options.propagationPolicy ?? 'Background') : 'Background');
      const deleteDryRun =
        dryRun ||
        (isObject(options) && Array.isArray(options.dryRun) && options.dryRun.includes('All'));
      if (name === undefined) {
        const deleted = store
          .list(kind, namespace, {
            labelSelector: query.get('labelSelector') ?? undefined,
            fieldSelector: query.get('fieldSelector') ?? undefined,
          })
          .map((object) =>
            store.delete(
              kind,
              String((object.metadata as JsonObject).namespace ?? ''),
              String((object.metadata as JsonObject).name),
              { dryRun: deleteDryRun, propagation },
            ),
          );
        return send(response, 200, {
          kind: `${kind.kind}List`,
          apiVersion: apiVersionOf(kind),
          metadata: {},
          items: deleted,
        });
      }
      return send(
        response,
        200,
        store.delete(kind, namespace, name, { dryRun: deleteDryRun, propagation }),
      );
    }
    throw new ApiError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof ApiError) sendStatus(response, error);
      else
        sendStatus(
          response,
          new ApiError(500, 'InternalError', `Internal error occurred: ${String(error)}`),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const directory = mkdtempSync(join(tmpdir(), 'kube-apiserver-'));
  const kubeconfigPath = join(directory, 'kubeconfig');
  const writeKubeconfig = (path: string, config: { namespace?: string } = {}) => {
    writeFileSync(
      path,
      kubeconfigYaml(url, { ...config, ...(options.token ? { token: options.token } : {}) }),
    );
    return path;
  };
  writeKubeconfig(kubeconfigPath);
  controller.start();

  return {
    url,
    kubeconfigPath,
    controller,
    store,
    requests,
    writeKubeconfig,
    dropWatches() {
      const open = [...watches];
      for (const watch of open) watch.close();
      return open.length;
    },
    compact: () => store.compact(),
    get(group, plural, namespace, name) {
      return store.find(store.kind(group, plural), namespace, name);
    },
    list(group, plural, namespace) {
      return store.list(store.kind(group, plural), namespace);
    },
    async close() {
      controller.stop();
      for (const watch of [...watches]) watch.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
