/**
 * The test Kubernetes API server, driven by the real kubectl: if kubectl accepts its answers for
 * apply --server-side, conflicts, get -w, rollout status, dry-run and delete, the server speaks
 * enough Kubernetes for Cadence's own client to be tested against it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { applyFlags, kubectl, kubectlWatch } from '../support/kube-apiserver/kubectl.js';

function manifests(options: { image?: string; replicas?: number; name?: string } = {}): string {
  const name = options.name ?? 'web';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${options.replicas ?? 3}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: web
        image: ${options.image ?? 'registry.example/web:1.0'}
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: {app: ${name}}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-config
data:
  greeting: hello
`;
}

describe('test Kubernetes API server, driven by the real kubectl', () => {
  let kube: KubeApiServer;
  let config: string;
  const run = (args: string[], input?: string) => kubectl(config, args, input);
  const apply = (input: string, extra: string[] = []) =>
    run(['apply', '--server-side', ...applyFlags(), ...extra, '-f', '-'], input);
  const deployment = async (name = 'web') => {
    const result = await run(['get', 'deployment', name, '-o', 'json']);
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout) as {
      metadata: { generation: number; resourceVersion: string };
      spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
      status: { updatedReplicas?: number; availableReplicas?: number };
    };
  };

  before(async () => {
    kube = await startKubeApiServer({ stepIntervalMs: 30 });
    config = kube.kubeconfigPath;
  });
  after(() => kube.close());

  it('applies a Deployment, Service and ConfigMap server-side and rolls the Deployment out', async () => {
    const applied = await apply(manifests());
    assert.equal(applied.status, 0, applied.stderr);
    assert.match(applied.stdout, /deployment\.apps\/web serverside-applied/);
    assert.match(applied.stdout, /service\/web serverside-applied/);
    assert.match(applied.stdout, /configmap\/web-config serverside-applied/);
    const status = await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /deployment "web" successfully rolled out/);
    const live = await deployment();
    assert.equal(live.metadata.generation, 1);
    assert.equal(live.status.availableReplicas, 3);
    const managed = kube.get('apps', 'deployments', 'default', 'web')!.metadata as {
      managedFields: { manager: string; operation: string }[];
    };
    assert.deepEqual(
      managed.managedFields.map((entry) => `${entry.manager}/${entry.operation}`),
      // The controller owns the revision annotation it wrote, as in Kubernetes.
      ['kubectl/Apply', 'kube-controller-manager/Update'],
    );
    const pods = await run(['get', 'pods', '-l', 'app=web', '-o', 'name']);
    assert.equal(pods.stdout.trim().split('\n').length, 3, pods.stdout);
    const service = await run(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.match(service.stdout, /^10\.96\./);
  });

  it('re-applying unchanged manifests bumps neither generation nor resourceVersion', async () => {
    const before = await deployment();
    const again = await apply(manifests());
    assert.equal(again.status, 0, again.stderr);
    const live = await deployment();
    assert.equal(live.metadata.generation, before.metadata.generation);
    assert.equal(live.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it('refuses a conflicting field from another manager until --force-conflicts', async () => {
    // Only the field "other" means to own: apply merges it into the live object.
    const conflicting =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n';
    const refused = await apply(conflicting, ['--field-manager=other']);
    assert.notEqual(refused.status, 0);
    assert.match(
      refused.stderr,
      /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/,
    );
    assert.equal((await deployment()).spec.replicas, 3);
    const forced = await apply(conflicting, ['--field-manager=other', '--force-conflicts']);
    assert.equal(forced.status, 0, forced.stderr);
    const live = await deployment();
    assert.equal(live.spec.replicas, 5);
    assert.equal(live.spec.template.spec.containers[0]!.image, 'registry.example/web:1.0');
    assert.equal(live.metadata.generation, 2);
    assert.equal((await run(['rollout', 'status', 'deployment/web', '--timeout=30s'])).status, 0);
  });

  it('--dry-run=server validates and changes nothing', async () => {
    const before = await deployment();
    const dry = await apply(manifests({ image: 'registry.example/web:2.0', replicas: 5 }), [
      '--dry-run=server',
    ]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /deployment\.apps\/web serverside-applied \(server dry run\)/);
    const live = await deployment();
    assert.equal(live.spec.template.spec.containers[0]!.image, 'registry.example/web:1.0');
    assert.equal(live.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it('refuses an invalid Deployment with 422 naming the field', async () => {
    const invalid = manifests({ name: 'broken' })
      .split('---')[0]!
      .replace('labels: {app: broken}\n    spec:', 'labels: {app: other}\n    spec:');
    const refused = await apply(invalid);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /is invalid: spec\.template\.metadata\.labels/);
    assert.equal(kube.get('apps', 'deployments', 'default', 'broken'), undefined);
  });

  it('kubectl get -w sees a new rollout progress', async () => {
    const watch = kubectlWatch(config, [
      'get',
      'deployment',
      'web',
      '-w',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image} {.status.updatedReplicas}{"\\n"}',
    ]);
    kube.controller.pause();
    try {
      await watch.waitFor((line) => line.startsWith('registry.example/web:1.0'));
      // replicas: 5 is what "other" set: kubectl co-owns it rather than conflicting.
      const upgraded = await apply(manifests({ image: 'registry.example/web:2.0', replicas: 5 }));
      assert.equal(upgraded.status, 0, upgraded.stderr);
      // The controller is stepped by hand: each step is one more pod of the new revision.
      kube.controller.step();
      await watch.waitFor((line) => line === 'registry.example/web:2.0 0');
      for (let updated = 1; updated <= 5; updated += 1) {
        kube.controller.step();
        await watch.waitFor((line) => line === `registry.example/web:2.0 ${updated}`);
      }
    } finally {
      kube.controller.resume();
      await watch.stop();
    }
    const status = await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.equal(status.status, 0, status.stderr);
  });

  it('kubectl rollout status fails when the rollout exceeds its progress deadline', async () => {
    kube.controller.failNextRollout('default', 'web');
    const upgraded = await apply(manifests({ image: 'registry.example/web:3.0', replicas: 5 }));
    assert.equal(upgraded.status, 0, upgraded.stderr);
    const status = await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.notEqual(status.status, 0);
    assert.match(status.stderr, /deployment "web" exceeded its progress deadline/);
  });

  it('serves Gateway API HTTPRoutes (a custom resource): apply, get, weights applied by a second field manager', async () => {
    const route = (weights: [number, number] | undefined, manager: string) =>
      apply(
        `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs: [{name: gateway}]
  rules:
  - backendRefs:
${(weights
  ? [
      ['web-stable', weights[0]],
      ['web-canary', weights[1]],
    ]
  : [['web', undefined]]
)
  .map(
    ([name, weight]) =>
      `    - {name: ${name}, port: 80${weight === undefined ? '' : `, weight: ${weight}`}}`,
  )
  .join('\n')}
`,
        [`--field-manager=${manager}`, '--force-conflicts'],
      );
    const created = await route(undefined, 'someone');
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /httproute\.gateway\.networking\.k8s\.io\/web serverside-applied/);
    const weighted = await route([95, 5], 'cadence');
    assert.equal(weighted.status, 0, weighted.stderr);
    const got = await run(['get', 'httproutes.gateway.networking.k8s.io', 'web', '-o', 'json']);
    assert.equal(got.status, 0, got.stderr);
    const live = JSON.parse(got.stdout) as {
      metadata: { generation: number };
      spec: { parentRefs: unknown[]; rules: { backendRefs: { name: string; weight: number }[] }[] };
    };
    assert.deepEqual(
      live.spec.rules[0]!.backendRefs.map((ref) => [ref.name, ref.weight]),
      [
        ['web-stable', 95],
        ['web-canary', 5],
      ],
    );
    assert.deepEqual(live.spec.parentRefs, [{ name: 'gateway' }]);
    assert.equal(live.metadata.generation, 2, 'a spec change bumps the generation');
    const stored = kube.get('gateway.networking.k8s.io', 'httproutes', 'default', 'web')!;
    const managers = (stored.metadata as { managedFields: { manager: string }[] }).managedFields;
    assert.ok(managers.some((entry) => entry.manager === 'cadence'));
    const listed = await run(['get', 'httproute', '-o', 'name']);
    assert.equal(listed.stdout.trim(), 'httproute.gateway.networking.k8s.io/web');
    const deleted = await run(['delete', 'httproute', 'web']);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(kube.get('gateway.networking.k8s.io', 'httproutes', 'default', 'web'), undefined);
  });

  it('prints kubectl NotFound for a missing object, and deletes what it applied', async () => {
    const missing = await run(['get', 'deployment', 'nothing-here']);
    assert.notEqual(missing.status, 0);
    assert.match(
      missing.stderr,
      /Error from server \(NotFound\): deployments\.apps "nothing-here" not found/,
    );
    const deleted = await run(['delete', '-f', '-'], manifests());
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.match(deleted.stdout, /deployment\.apps "web" deleted/);
    assert.equal(kube.get('apps', 'deployments', 'default', 'web'), undefined);
    assert.deepEqual(
      kube.list('', 'pods', 'default'),
      [],
      'pods are deleted with their Deployment',
    );
    assert.deepEqual(kube.list('apps', 'replicasets', 'default'), []);
    const after = await run(['get', 'all', '-o', 'name']);
    assert.equal(after.stdout.trim(), '');
  });
});
