import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUntagged, parseImage } from '../../src/registry/image-reference.js';
import {
  keepLiveSelectors,
  labelValue,
  parseManifests,
  rewriteManifests,
  untaggedImages,
  type Manifest,
  type RewriteOptions,
} from '../../src/deploy/manifest-rewrite.js';
import type { CadenceError } from '../../src/problem/index.js';

const MANIFESTS = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      initContainers:
        - name: migrate
          image: localhost:5000/web-migrate
      containers:
        - name: web
          image: localhost:5000/web
          env:
            - { name: CADENCE_TRACK, value: stale }
            - { name: KEEP, value: "1" }
        - name: sidecar
          image: debian:wheezy
        - name: pinned
          image: localhost:5000/proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web, track: stable, version: old }
  ports: [{ port: 80 }]
---
# an empty document is skipped
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
  namespace: elsewhere
data: { a: b }
`;

const options = (overrides: Partial<RewriteOptions> = {}): RewriteOptions => ({
  track: 'stable',
  version: 'main-025838f',
  namespace: 'production',
  imageTags: { 'localhost:5000/web': 'main-025838f', 'localhost:5000/web-migrate': 'main-025838f' },
  canaryReplicas: 1,
  ...overrides,
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const byKind = (manifests: Manifest[], kind: string) =>
  manifests.filter((manifest) => manifest.kind === kind) as unknown as Json[];

describe('image references', () => {
  const cases: [
    string,
    { repository: string; tag?: string; digest?: string; untagged: boolean },
  ][] = [
    ['web', { repository: 'web', untagged: true }],
    ['debian:wheezy', { repository: 'debian', tag: 'wheezy', untagged: false }],
    ['localhost:5000/web', { repository: 'localhost:5000/web', untagged: true }],
    ['localhost:5000/web:1.2', { repository: 'localhost:5000/web', tag: '1.2', untagged: false }],
    ['127.0.0.1:5000/team/web', { repository: '127.0.0.1:5000/team/web', untagged: true }],
    ['web@sha256:abc', { repository: 'web', digest: 'sha256:abc', untagged: false }],
    [
      'reg.example.com/web:1@sha256:abc',
      { repository: 'reg.example.com/web', tag: '1', digest: 'sha256:abc', untagged: false },
    ],
  ];
  for (const [image, expected] of cases) {
    it(image, () => {
      const reference = parseImage(image);
      assert.equal(reference.repository, expected.repository);
      assert.equal(reference.tag, expected.tag);
      assert.equal(reference.digest, expected.digest);
      assert.equal(isUntagged(image), expected.untagged);
    });
  }

  it('knows a registry host from a path part', () => {
    assert.deepEqual(
      [parseImage('localhost:5000/web'), parseImage('team/web'), parseImage('a.io/team/web')].map(
        (reference) => [reference.host, reference.path],
      ),
      [
        ['localhost:5000', 'web'],
        [undefined, 'team/web'],
        ['a.io', 'team/web'],
      ],
    );
  });
});

describe('manifest rewrites', () => {
  const manifests = parseManifests(MANIFESTS, 'kubernetes/web.yaml');

  it('reads every object of a multi-document file, skipping empty documents', () => {
    assert.deepEqual(
      manifests.map((manifest) => manifest.kind),
      ['Deployment', 'Service', 'ConfigMap'],
    );
  });

  it('refuses a document that is not a Kubernetes object, naming the file', () => {
    assert.throws(
      () => parseManifests('kind: Deployment\n', 'kubernetes/bad.yaml'),
      (error: CadenceError) => error.field === 'manifests' && /bad\.yaml/.test(error.message),
    );
    assert.throws(() => parseManifests('a: [\n', 'kubernetes/broken.yaml'), /not valid YAML/);
  });

  it('lists the untagged images the deployer must find tags for', () => {
    assert.deepEqual(untaggedImages(manifests), [
      'localhost:5000/web',
      'localhost:5000/web-migrate',
    ]);
  });

  it('tags only untagged images, keeping explicit tags and digests', () => {
    const [deployment] = byKind(rewriteManifests(manifests, options()), 'Deployment');
    const spec = deployment!.spec.template.spec;
    assert.deepEqual(
      [...spec.initContainers, ...spec.containers].map((container: Json) => container.image),
      [
        'localhost:5000/web-migrate:main-025838f',
        'localhost:5000/web:main-025838f',
        'debian:wheezy',
        'localhost:5000/proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      ],
    );
  });

  const trackCases: [
    RewriteOptions['track'],
    { name: string; replicas: number; objects: string[]; selector: Record<string, string> },
  ][] = [
    // Stable keeps the manifest's selector (immutable once live): the track is in pod labels.
    [
      'stable',
      {
        name: 'web',
        replicas: 3,
        objects: ['Deployment', 'Service', 'ConfigMap'],
        selector: { app: 'web' },
      },
    ],
    [
      'canary',
      {
        name: 'web-canary',
        replicas: 2,
        objects: ['Deployment'],
        selector: { app: 'web', track: 'canary' },
      },
    ],
    // The baseline: stable's version at the canary's size, a Deployment of its own.
    [
      'baseline',
      {
        name: 'web-baseline',
        replicas: 2,
        objects: ['Deployment'],
        selector: { app: 'web', track: 'baseline' },
      },
    ],
  ];
  for (const [track, expected] of trackCases) {
    it(`labels, selects and sets env for the ${track} track`, () => {
      const rewritten = rewriteManifests(manifests, options({ track, canaryReplicas: 2 }));
      assert.deepEqual(
        rewritten.map((manifest) => manifest.kind),
        expected.objects,
      );
      const [deployment] = byKind(rewritten, 'Deployment');
      assert.equal(deployment!.metadata.name, expected.name);
      assert.equal(deployment!.metadata.namespace, 'production');
      assert.equal(deployment!.spec.replicas, expected.replicas);
      assert.deepEqual(deployment!.spec.selector.matchLabels, expected.selector);
      assert.deepEqual(deployment!.spec.template.metadata.labels, {
        app: 'web',
        track,
        version: 'main-025838f',
      });
      for (const container of [
        ...deployment!.spec.template.spec.initContainers,
        ...deployment!.spec.template.spec.containers,
      ]) {
        const env = Object.fromEntries(
          (container.env as Json[]).map((entry) => [entry.name, entry.value]),
        );
        assert.equal(env.CADENCE_TRACK, track);
        assert.equal(env.CADENCE_VERSION, 'main-025838f');
      }
      const web = deployment!.spec.template.spec.containers[0];
      assert.deepEqual(
        web.env.map((entry: Json) => entry.name),
        ['KEEP', 'CADENCE_TRACK', 'CADENCE_VERSION'],
        'a stale CADENCE_TRACK is replaced, other env kept',
      );
    });
  }

  it('makes Services select both tracks and keeps a namespace already given', () => {
    const rewritten = rewriteManifests(manifests, options());
    const [service] = byKind(rewritten, 'Service');
    assert.deepEqual(service!.spec.selector, { app: 'web' });
    assert.equal(service!.metadata.namespace, 'production');
    const [configMap] = byKind(rewritten, 'ConfigMap');
    assert.equal(configMap!.metadata.namespace, 'elsewhere');
  });

  const liveCases: { name: string; live: [string, unknown][]; selector: unknown }[] = [
    { name: 'not live yet: the rewrite’s', live: [], selector: { matchLabels: { app: 'web' } } },
    {
      name: 'created by kubectl: its own',
      live: [['production/web', { matchLabels: { app: 'web', tier: 'front' } }]],
      selector: { matchLabels: { app: 'web', tier: 'front' } },
    },
    {
      name: 'created by an earlier Cadence, track in the selector: kept',
      live: [['production/web', { matchLabels: { app: 'web', track: 'stable' } }]],
      selector: { matchLabels: { app: 'web', track: 'stable' } },
    },
    {
      name: 'another namespace’s web is another Deployment',
      live: [['staging/web', { matchLabels: { other: 'x' } }]],
      selector: { matchLabels: { app: 'web' } },
    },
  ];
  for (const row of liveCases) {
    it(`keeps a live Deployment's selector: ${row.name}`, () => {
      const kept = keepLiveSelectors(rewriteManifests(manifests, options()), new Map(row.live));
      const [deployment] = byKind(kept, 'Deployment');
      assert.deepEqual(deployment!.spec.selector, row.selector);
      assert.deepEqual(byKind(kept, 'Service')[0]!.spec.selector, { app: 'web' });
    });
  }

  it('leaves its input untouched', () => {
    const before = JSON.stringify(manifests);
    rewriteManifests(manifests, options({ track: 'canary' }));
    assert.equal(JSON.stringify(manifests), before);
  });

  it('refuses an untagged image it has no tag for', () => {
    assert.throws(
      () => rewriteManifests(manifests, options({ imageTags: {} })),
      (error: CadenceError) => error.field === 'tag' && /localhost:5000\/web/.test(error.message),
    );
  });

  const labelCases: [string, string][] = [
    ['main-025838f', 'main-025838f'],
    ['feature/login-abc1234', 'feature-login-abc1234'],
    ['-v1-', 'v1'],
    ['x'.repeat(70), 'x'.repeat(63)],
    ['///', 'unknown'],
  ];
  for (const [value, expected] of labelCases) {
    it(`label value ${JSON.stringify(value.slice(0, 20))}`, () => {
      assert.equal(labelValue(value), expected);
    });
  }
});
