/**
 * deploy/kubernetes: every document parses, the kustomization lists every manifest (and the real
 * `kubectl kustomize` renders it), and the objects refer to each other consistently: the pods
 * run as the ServiceAccount the bindings name, the roles grant watch and apply, the Service and
 * probes point at the container's port, DATABASE_URL comes from a Secret, and the mounted config
 * is one Cadence itself accepts. (No API server runs here; the kube branch's test API server
 * could apply them later.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import {
  grantedPermissions,
  requiredPermissions,
  sorted,
  type Rule,
} from '../support/kube-permissions.js';
import { kubectlBinary } from '../support/tools.js';

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface Binding extends Manifest {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}
interface Container {
  name: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  env: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Deployment extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        containers: Container[];
        volumes: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}

function parseFile(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  return (Array.isArray(documents) ? documents : [documents]).map((document) => {
    assert.deepEqual(document.errors, [], `${file} parses`);
    return document.toJS() as Manifest;
  });
}

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
const kustomization = parseFile('kustomization.yaml')[0] as unknown as { resources: string[] };
const manifests = kustomization.resources.flatMap(parseFile);
const find = <T extends Manifest>(kind: string, name?: string) =>
  manifests.filter(
    (m) => m.kind === kind && (name === undefined || m.metadata.name === name),
  ) as T[];
const one = <T extends Manifest>(kind: string, name?: string): T => {
  const found = find<T>(kind, name);
  assert.equal(found.length, 1, `one ${kind} ${name ?? ''}`);
  return found[0]!;
};

describe('the Kubernetes manifests', () => {
  it('parse, and the kustomization lists every manifest but the secret example', () => {
    assert.deepEqual(
      [...kustomization.resources].sort(),
      files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort(),
    );
    for (const file of files) parseFile(file);
    assert.deepEqual([...new Set(manifests.map((m) => m.kind))].sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'Namespace',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('render with the real kubectl kustomize', () => {
    const rendered = execFileSync(kubectlBinary(), ['kustomize', dir], { encoding: 'utf8' });
    const documents = parseAllDocuments(rendered);
    const kinds = (Array.isArray(documents) ? documents : [documents]).map(
      (d) => (d.toJS() as Manifest).kind,
    );
    assert.deepEqual(kinds.sort(), manifests.map((m) => m.kind).sort());
  });

  it('put Cadence’s own objects in its namespace, and the deploy role in the target one', () => {
    const namespace = one('Namespace').metadata.name;
    for (const m of manifests) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(m.kind)) {
        assert.equal(m.metadata.namespace, undefined, `${m.kind} is cluster-scoped`);
      } else if (m.kind === 'Role' || m.kind === 'RoleBinding') {
        assert.notEqual(m.metadata.namespace, namespace, `${m.kind} is in a target namespace`);
      } else {
        assert.equal(m.metadata.namespace, namespace, `${m.kind} ${m.metadata.name}`);
      }
    }
  });

  it('grant the pods’ ServiceAccount watch everywhere and apply in the target namespace', () => {
    const deployment = one<Deployment>('Deployment');
    const account = one('ServiceAccount', deployment.spec.template.spec.serviceAccountName);
    for (const binding of [
      ...find<Binding>('ClusterRoleBinding'),
      ...find<Binding>('RoleBinding'),
    ]) {
      assert.deepEqual(binding.subjects, [
        {
          kind: 'ServiceAccount',
          name: account.metadata.name,
          namespace: account.metadata.namespace,
        },
      ]);
      const role = one<Manifest & { rules: Rule[] }>(binding.roleRef.kind, binding.roleRef.name);
      if (binding.kind === 'RoleBinding')
        assert.equal(role.metadata.namespace, binding.metadata.namespace);
    }
    // Exactly what the code calls (test/support/kube-permissions.ts reads src/): watching
    // cluster-wide, deploying in the target namespace, and nothing else.
    const watch = one<Manifest & { rules: Rule[] }>('ClusterRole').rules;
    assert.deepEqual(sorted(grantedPermissions(watch)), sorted(requiredPermissions(['watch'])));
    const deploy = one<Manifest & { rules: Rule[] }>('Role').rules;
    const deployOnly = requiredPermissions(['deploy']);
    assert.deepEqual(sorted(grantedPermissions(deploy)), sorted(deployOnly));
  });

  it('run under Pod Security "restricted", with a disruption budget for the replicas', () => {
    const deployment = one<Deployment>('Deployment');
    const pod = deployment.spec.template.spec as unknown as {
      securityContext: Record<string, unknown>;
      containers: { securityContext: Record<string, unknown> }[];
    };
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(pod.securityContext.runAsNonRoot, true);
    for (const container of pod.containers) {
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
    }
    const replicas = (deployment.spec as unknown as { replicas: number }).replicas;
    assert.ok(replicas > 1);
    const pdb = one<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      'PodDisruptionBudget',
    );
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    const annotations = (
      deployment.spec.template.metadata as unknown as { annotations: Record<string, string> }
    ).annotations;
    assert.equal(annotations['prometheus.io/scrape'], 'true');
  });

  it('serve on the container port, probe /readyz and /healthz, and read DATABASE_URL from a Secret', () => {
    const deployment = one<Deployment>('Deployment');
    const { template, selector } = deployment.spec;
    for (const [key, value] of Object.entries(selector.matchLabels)) {
      assert.equal(template.metadata.labels[key], value);
    }
    const [container] = template.spec.containers;
    assert.ok(container);
    assert.deepEqual(container.args, ['serve']);
    const port = container.ports[0]!;
    const service = one<
      Manifest & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }
    >('Service');
    assert.deepEqual(service.spec.selector, selector.matchLabels);
    assert.equal(service.spec.ports[0]!.targetPort, port.name);
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: port.name });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: port.name });
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    assert.deepEqual(env.DATABASE_URL!.valueFrom, {
      secretKeyRef: { name: 'cadence-database', key: 'url' },
    });
    // The example secret, not applied, names the same secret and key.
    const [secret] = parseFile('secret.example.yaml') as (Manifest & {
      stringData: Record<string, string>;
    })[];
    assert.equal(secret!.metadata.name, 'cadence-database');
    assert.ok(secret!.stringData.url!.startsWith('postgres://'));

    // The config mount holds a config Cadence accepts, listening where the probes look.
    const configPath = env.CADENCE_CONFIG!.value!;
    const mount = container.volumeMounts.find((m) => configPath.startsWith(`${m.mountPath}/`))!;
    const volume = template.spec.volumes.find((v) => v.name === mount.name)!;
    const configMap = one<Manifest & { data: Record<string, string> }>(
      'ConfigMap',
      volume.configMap!.name,
    );
    const file = configPath.slice(mount.mountPath.length + 1);
    const work = mkdtempSync(join(tmpdir(), 'cadence-k8s-config-'));
    try {
      writeFileSync(join(work, file), configMap.data[file]!);
      const config = loadConfig({
        file: join(work, file),
        env: {
          DATABASE_URL: secret!.stringData.url,
          CADENCE_DATA_DIR: env.CADENCE_DATA_DIR!.value,
        },
      });
      assert.equal(config.server.host, '0.0.0.0');
      assert.equal(config.server.port, port.containerPort);
      assert.equal(config.store.databaseUrl, secret!.stringData.url);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
