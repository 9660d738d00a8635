import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../src/events/index.js';
import { validateCdevent } from '../../src/events/index.js';
import { imageToPurl } from '../../src/events/cdevents/deployment-facts.js';
import {
  createKubernetesApiserverSource,
  rolloutState,
} from '../../src/sources/kubernetes-apiserver-source.js';
import { structured } from '../support/app.js';
import { ingestTokens, sourceContract } from './source-contract.js';

function deployment(
  overrides: {
    revision?: string;
    generation?: number;
    observed?: number;
    replicas?: number;
    updated?: number;
    available?: number;
    images?: string[];
  } = {},
) {
  const replicas = overrides.replicas ?? 3;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'production',
      uid: '6f1d-uid',
      generation: overrides.generation ?? 2,
      annotations: { 'deployment.kubernetes.io/revision': overrides.revision ?? '2' },
    },
    spec: {
      replicas,
      template: {
        spec: {
          containers: (overrides.images ?? ['registry.example.com/shop/web:1.4.2']).map(
            (image, i) => ({ name: `c${i}`, image }),
          ),
        },
      },
    },
    status: {
      observedGeneration: overrides.observed ?? overrides.generation ?? 2,
      replicas,
      updatedReplicas: overrides.updated ?? replicas,
      readyReplicas: overrides.available ?? replicas,
      availableReplicas: overrides.available ?? replicas,
    },
  };
}

function rawEvent(type: string, data: unknown, seq = 1): StoredEvent {
  return {
    seq,
    specversion: '1.0',
    id: `evt-${seq}`,
    source: 'https://10.96.0.1:443',
    type,
    time: '2026-11-20T09:30:00Z',
    subject: '/apis/apps/v1/namespaces/production/deployments/web',
    extensions: {},
    data,
    receivedAt: new Date('2026-11-20T09:30:01Z'),
    routedAt: null,
    routeOutputs: null,
    routeNote: null,
  };
}

const source = createKubernetesApiserverSource();

describe('rolloutState', () => {
  const cases: [string, Parameters<typeof deployment>[0], boolean][] = [
    ['all replicas updated and available', {}, true],
    ['generation not yet observed', { generation: 3, observed: 2 }, false],
    ['some replicas not updated', { updated: 2 }, false],
    ['updated but not yet available', { available: 2 }, false],
    ['scaled to zero', { replicas: 0, updated: 0, available: 0 }, true],
  ];
  for (const [name, overrides, complete] of cases) {
    it(`${name} → complete=${complete}`, () => {
      assert.equal(rolloutState(deployment(overrides) as never).complete, complete);
    });
  }
});

describe('kubernetes-apiserver transformer', () => {
  it('turns a completed rollout of revision 2 into service.upgraded in the namespace environment', async () => {
    const outcome = await source.transform(
      rawEvent('dev.knative.apiserver.resource.update', deployment()),
    );
    assert.equal(outcome.cdevents.length, 1);
    const result = validateCdevent(outcome.cdevents[0]);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.value.type, 'dev.cdevents.service.upgraded.0.3.0');
    const cdevent = outcome.cdevents[0] as {
      subject: { id: string; content: { environment: { id: string }; artifactId: string } };
      customData: { revision: string; images: string[] };
      context: { timestamp: string };
    };
    assert.equal(cdevent.subject.id, 'web');
    assert.equal(cdevent.subject.content.environment.id, 'production');
    assert.equal(
      cdevent.subject.content.artifactId,
      'pkg:oci/web?repository_url=registry.example.com%2Fshop%2Fweb&tag=1.4.2',
    );
    assert.equal(cdevent.customData.revision, '2');
    assert.deepEqual(cdevent.customData.images, ['registry.example.com/shop/web:1.4.2']);
    assert.equal(cdevent.context.timestamp, '2026-11-20T09:30:00Z');
  });

  it('turns the first revision into service.deployed, keeping every image', async () => {
    const outcome = await source.transform(
      rawEvent(
        'dev.knative.apiserver.resource.add',
        deployment({ revision: '1', images: ['web:1.0.0', 'envoy:1.30'] }),
      ),
    );
    const cdevent = outcome.cdevents[0] as {
      context: { type: string };
      customData: { images: string[] };
    };
    assert.equal(cdevent.context.type, 'dev.cdevents.service.deployed.0.3.0');
    assert.deepEqual(cdevent.customData.images, ['web:1.0.0', 'envoy:1.30']);
  });

  it('gives the same id to repeated updates of one completed revision, a new one to the next', async () => {
    const first = await source.transform(
      rawEvent('dev.knative.apiserver.resource.update', deployment(), 1),
    );
    const again = await source.transform(
      rawEvent('dev.knative.apiserver.resource.update', deployment(), 2),
    );
    const next = await source.transform(
      rawEvent(
        'dev.knative.apiserver.resource.update',
        deployment({ revision: '3', generation: 3 }),
        3,
      ),
    );
    const id = (outcome: typeof first) =>
      (outcome.cdevents[0] as { context: { id: string } }).context.id;
    assert.equal(id(first), id(again));
    assert.notEqual(id(first), id(next));
  });

  it('emits nothing while a rollout is in progress, and says why', async () => {
    const outcome = await source.transform(
      rawEvent('dev.knative.apiserver.resource.update', deployment({ updated: 1 })),
    );
    assert.deepEqual(outcome.cdevents, []);
    assert.match(outcome.note ?? '', /in progress \(1\/3 updated/);
  });

  it('turns a deletion into service.removed', async () => {
    const outcome = await source.transform(
      rawEvent('dev.knative.apiserver.resource.delete', deployment()),
    );
    const result = validateCdevent(outcome.cdevents[0]);
    assert.ok(result.ok);
    assert.equal(result.value.type, 'dev.cdevents.service.removed.0.3.0');
  });

  it('ignores other kinds', async () => {
    const outcome = await source.transform(
      rawEvent('dev.knative.apiserver.resource.update', { ...deployment(), kind: 'ConfigMap' }),
    );
    assert.deepEqual(outcome.cdevents, []);
    assert.match(outcome.note ?? '', /ConfigMap is not tracked/);
  });

  it('handles reference mode: delete needs no lookup, add/update resolve through the cluster', async () => {
    const reference = {
      kind: 'Deployment',
      namespace: 'production',
      name: 'web',
      apiVersion: 'apps/v1',
    };
    const removed = await source.transform(rawEvent('dev.knative.apiserver.ref.delete', reference));
    assert.equal(
      (removed.cdevents[0] as { context: { type: string } }).context.type,
      'dev.cdevents.service.removed.0.3.0',
    );

    const unresolved = await source.transform(
      rawEvent('dev.knative.apiserver.ref.update', reference),
    );
    assert.deepEqual(unresolved.cdevents, []);
    assert.match(unresolved.note ?? '', /needs cluster access/);

    // Stand-in for the cluster until the test Kubernetes API server lands (deployer issue):
    // the lookup is the seam through which the kube client will answer.
    const lookups: string[] = [];
    const withCluster = createKubernetesApiserverSource({
      lookup: async (namespace, name) => {
        lookups.push(`${namespace}/${name}`);
        return deployment();
      },
    });
    const resolved = await withCluster.transform(
      rawEvent('dev.knative.apiserver.ref.update', reference),
    );
    assert.deepEqual(lookups, ['production/web']);
    assert.equal(
      (resolved.cdevents[0] as { context: { type: string } }).context.type,
      'dev.cdevents.service.upgraded.0.3.0',
    );
  });

  it('notes a payload that is not a Deployment instead of failing', async () => {
    const outcome = await source.transform(
      rawEvent('dev.knative.apiserver.resource.update', { nope: true }),
    );
    assert.deepEqual(outcome.cdevents, []);
    assert.match(outcome.note ?? '', /not a Deployment/);
  });
});

describe('imageToPurl', () => {
  const cases: [string, string][] = [
    ['nginx', 'pkg:oci/nginx?repository_url=nginx'],
    ['debian:wheezy', 'pkg:oci/debian?repository_url=debian&tag=wheezy'],
    [
      'localhost:5000/team/api:2.0',
      'pkg:oci/api?repository_url=localhost%3A5000%2Fteam%2Fapi&tag=2.0',
    ],
    ['ghcr.io/a/b@sha256:abc', 'pkg:oci/b@sha256%3Aabc?repository_url=ghcr.io%2Fa%2Fb'],
  ];
  for (const [image, purl] of cases)
    it(`${image} → ${purl}`, () => assert.equal(imageToPurl(image), purl));
});

// ApiServerSource events through POST /events with server.auth.ingest on, on every engine.
const tokens = ingestTokens('kubernetes-apiserver');
const update = (id: string, object: unknown) => ({
  specversion: '1.0',
  id,
  source: 'https://10.96.0.1:443',
  type: 'dev.knative.apiserver.resource.update',
  time: '2026-11-20T09:30:00Z',
  subject: '/apis/apps/v1/namespaces/production/deployments/web',
  datacontenttype: 'application/json',
  data: object,
});
const cloudEvent = (event: unknown, headers = tokens.headers.mine) => ({
  body: typeof event === 'string' ? event : JSON.stringify(event),
  headers: { ...structured, ...headers },
});
sourceContract({
  source: 'kubernetes-apiserver',
  path: '/events',
  app: { auth: tokens.auth },
  setUp: tokens.setUp,
  valid: () => cloudEvent(update('rollout-2', deployment())),
  unauthorised: () => [
    {
      name: 'no token',
      ...cloudEvent(update('rollout-2', deployment()), {}),
      status: 401,
      field: 'authorization',
    },
    {
      name: "another producer's token",
      ...cloudEvent(update('rollout-2', deployment()), tokens.headers.other),
      status: 403,
      // The token is good; the event's type is what it may not send.
      field: 'type',
    },
  ],
  shapeErrors: () => [
    { name: 'a body that is not JSON', ...cloudEvent('{'), field: 'body' },
    {
      name: 'no source',
      ...cloudEvent({ ...update('rollout-2', deployment()), source: undefined }),
      field: 'source',
    },
  ],
  unmapped: () => ({
    ...cloudEvent(update('rollout-3', deployment({ revision: '3', updated: 1 }))),
    note: /rollout in progress/,
  }),
});
