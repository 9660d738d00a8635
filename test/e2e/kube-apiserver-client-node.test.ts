/**
 * The test Kubernetes API server through @kubernetes/client-node, the client Cadence uses: CRUD,
 * selectors, the patch types, dry-run, the Status errors client-node turns into ApiException,
 * and watch semantics (replay from a resourceVersion, 410 Gone, bookmarks, timeoutSeconds).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/kube/index.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';

/** The HTTP code and Status body of a rejected call. */
async function rejection(call: Promise<unknown>): Promise<{
  code: number;
  body: { reason: string; message: string; details?: { causes?: { field: string }[] } };
}> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof ApiException, String(error));
    return { code: error.code, body: JSON.parse(String(error.body)) as never };
  }
  throw new Error('expected the call to be refused');
}

interface WatchLine {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number };
}

/** Collects a watch's events until `until` says enough (or the stream ends). */
function collect(
  config: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  until: (events: WatchLine[]) => boolean,
): Promise<{ events: WatchLine[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const events: WatchLine[] = [];
    let controller: AbortController | undefined;
    let finished = false;
    const finish = (ended: boolean) => {
      if (finished) return;
      finished = true;
      controller?.abort();
      resolve({ events, ended });
    };
    new Watch(config)
      .watch(
        path,
        query,
        (type, object) => {
          events.push({ type, object: object as WatchLine['object'] });
          if (until(events)) finish(false);
        },
        () => finish(true),
      )
      .then((started) => {
        controller = started;
        if (finished) started.abort();
      })
      .catch(reject);
  });
}

describe('test Kubernetes API server, driven by @kubernetes/client-node', () => {
  let kube: KubeApiServer;
  let config: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  before(async () => {
    kube = await startKubeApiServer({ token: 'secret-token', bookmarkIntervalMs: 50 });
    config = loadKubeConfig({ kubeconfig: kube.kubeconfigPath });
    core = config.makeApiClient(CoreV1Api);
    apps = config.makeApiClient(AppsV1Api);
  });
  after(() => kube.close());

  it('needs the kubeconfig token', async () => {
    const response = await fetch(`${kube.url}/api/v1/namespaces`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { reason: string }).reason, 'Unauthorized');
  });

  it('creates, reads, lists by label and field, patches three ways and deletes ConfigMaps', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'one', labels: { tier: 'web' } }, data: { a: '1' } },
    });
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.creationTimestamp);
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'two', labels: { tier: 'db' } }, data: { a: '2' } },
    });
    const web = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'tier in (web,cache)',
    });
    assert.deepEqual(
      web.items.map((item) => item.metadata?.name),
      ['one'],
    );
    const notWeb = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'tier!=web',
    });
    assert.deepEqual(
      notWeb.items.map((item) => item.metadata?.name),
      ['two'],
    );
    const byName = await core.listNamespacedConfigMap({
      namespace: 'default',
      fieldSelector: 'metadata.name=two',
    });
    assert.deepEqual(
      byName.items.map((item) => item.metadata?.name),
      ['two'],
    );

    const merged = await core.patchNamespacedConfigMap(
      { name: 'one', namespace: 'default', body: { data: { b: '2', a: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.data, { b: '2' });
    const patched = await core.patchNamespacedConfigMap(
      { name: 'one', namespace: 'default', body: [{ op: 'add', path: '/data/c', value: '3' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    assert.deepEqual(patched.data, { b: '2', c: '3' });
    assert.ok(
      Number(patched.metadata!.resourceVersion) > Number(created.metadata!.resourceVersion),
    );
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'default', dryRun: 'All' });
    assert.ok(kube.get('', 'configmaps', 'default', 'one'), 'dry-run deleted nothing');
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'default' });
    assert.equal(kube.get('', 'configmaps', 'default', 'one'), undefined);
  });

  it('answers 404, 409 and 422 as Kubernetes Status', async () => {
    const missing = await rejection(
      core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }),
    );
    assert.equal(missing.code, 404);
    assert.equal(missing.body.reason, 'NotFound');
    assert.equal(missing.body.message, 'configmaps "nope" not found');
    const exists = await rejection(
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'two' } } }),
    );
    assert.equal(exists.code, 409);
    assert.equal(exists.body.reason, 'AlreadyExists');
    const nameless = await rejection(
      core.createNamespacedConfigMap({ namespace: 'default', body: { data: {} } }),
    );
    assert.equal(nameless.code, 422);
    assert.equal(nameless.body.details?.causes?.[0]?.field, 'metadata.name');
    const noNamespace = await rejection(
      core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }),
    );
    assert.equal(noNamespace.code, 404);
    assert.equal(noNamespace.body.message, 'namespaces "nowhere" not found');
    const stale = await rejection(
      core.replaceNamespacedConfigMap({
        name: 'two',
        namespace: 'default',
        body: { metadata: { name: 'two', resourceVersion: '1' }, data: {} },
      }),
    );
    assert.equal(stale.code, 409);
    assert.equal(stale.body.reason, 'Conflict');
    const badSelector = await rejection(
      core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'tier in (web' }),
    );
    assert.equal(badSelector.code, 400);
  });

  it('applies server-side, bumps generation only on a spec change, and dry-runs without storing', async () => {
    const body = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'web:1' }] },
        },
      },
    };
    const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    const first = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'default', body, fieldManager: 'cadence' },
      ssa,
    );
    assert.equal(first.metadata?.generation, 1);
    assert.equal(first.metadata?.managedFields?.[0]?.manager, 'cadence');
    const labelled = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'default',
        body: { ...body, metadata: { ...body.metadata, labels: { team: 'shop' } } },
        fieldManager: 'cadence',
      },
      ssa,
    );
    assert.equal(labelled.metadata?.generation, 1, 'metadata is not spec');
    const dry = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'default',
        body: { ...body, spec: { ...body.spec, replicas: 5 } },
        fieldManager: 'cadence',
        dryRun: 'All',
      },
      ssa,
    );
    assert.equal(dry.spec?.replicas, 5);
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).spec?.replicas,
      2,
    );
    const conflict = await rejection(
      apps.patchNamespacedDeployment(
        {
          name: 'web',
          namespace: 'default',
          body: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web' },
            spec: { replicas: 9 },
          },
          fieldManager: 'intruder',
        },
        ssa,
      ),
    );
    assert.equal(conflict.code, 409);
    assert.equal(conflict.body.details?.causes?.[0]?.field, '.spec.replicas');
    const scaled = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'default', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(scaled.metadata?.generation, 2);
  });

  it('replays a watch from a resourceVersion, sends bookmarks, and 410 for a compacted one', async () => {
    const start = (await core.listNamespacedConfigMap({ namespace: 'default' })).metadata!
      .resourceVersion!;
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'three' } },
    });
    await core.deleteNamespacedConfigMap({ name: 'three', namespace: 'default' });
    const replay = await collect(
      config,
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: start, allowWatchBookmarks: true },
      (events) => events.some((event) => event.type === 'BOOKMARK'),
    );
    assert.deepEqual(
      replay.events
        .filter((event) => event.type !== 'BOOKMARK')
        .map((event) => `${event.type} ${event.object.metadata?.name}`),
      ['ADDED three', 'DELETED three'],
    );
    kube.compact();
    const gone = await collect(
      config,
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: start },
      () => false,
    );
    assert.equal(gone.events[0]?.type, 'ERROR');
    assert.equal(gone.events[0]?.object.code, 410);
    assert.equal(gone.ended, true);
    const timed = await collect(
      config,
      '/api/v1/namespaces/default/configmaps',
      { timeoutSeconds: 1 },
      () => false,
    );
    assert.equal(timed.ended, true, 'the server ends a watch at timeoutSeconds');
    assert.deepEqual(
      timed.events.map((event) => event.object.metadata?.name),
      ['two'],
      'current state first',
    );
  });
});
