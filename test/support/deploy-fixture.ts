/**
 * A deployable service for the deployer's tests: a real git repository with a Deployment and a
 * Service under `kubernetes/` (the image untagged, in the test registry), commits whose images
 * are pushed to the real registry as `main-<sha7>`, and the deployer settings naming both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeployer, deployerSettingsSchema, type Deployer } from '../../src/deploy/index.js';
import { type DeployerSettings } from '../../src/deploy/schema.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/store/index.js';
import { openTestStore } from './engines.js';
import { GitFixture } from './git-fixture.js';
import { startRegistry, type TestRegistry } from './oci-registry.js';
import { createRecordingCluster, type RecordingCluster } from './recording-cluster.js';

export function webManifests(
  registryHost: string,
  options: { replicas?: number; extra?: number; message?: string } = {},
): Record<string, string> {
  const files: Record<string, string> = {
    'kubernetes/web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: ${options.replicas ?? 2}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: ${registryHost}/web
          env: [{ name: MESSAGE, value: "${options.message ?? 'hello'}" }]
        - name: logger
          image: debian:wheezy
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`,
  };
  for (let i = 0; i < (options.extra ?? 0); i++) {
    files[`kubernetes/config-${i}.yaml`] = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config-${i}
data:
  index: "${i}"
`;
  }
  return files;
}

export interface DeployFixture {
  repo: GitFixture;
  cacheDir: string;
  /** Commits in order; each has its image pushed unless `push: false`. */
  commits: string[];
  commit(options?: { push?: boolean; message?: string; extra?: number }): Promise<string>;
  settings(overrides?: Partial<DeployerSettings>): DeployerSettings;
  remove(): void;
}

export async function createDeployFixture(
  registry: TestRegistry,
  extra = 0,
): Promise<DeployFixture> {
  const repo = GitFixture.create('cadence-deploy-web-');
  const cacheDir = mkdtempSync(join(tmpdir(), 'cadence-deploy-cache-'));
  const commits: string[] = [];
  let day = 1;
  const fixture: DeployFixture = {
    repo,
    cacheDir,
    commits,
    async commit(options = {}) {
      const sha = repo.commit(
        `web ${day}`,
        `2026-11-${String(day).padStart(2, '0')}T10:00:00Z`,
        webManifests(registry.host, {
          message: options.message ?? `v${day}`,
          extra: options.extra ?? extra,
        }),
      );
      day++;
      if (options.push !== false) await registry.push('web', `main-${sha.slice(0, 7)}`);
      commits.push(sha);
      return sha;
    },
    settings(overrides = {}) {
      return deployerSettingsSchema.parse({
        enabled: true,
        cacheDir,
        services: {
          web: {
            repository: repo.dir,
            namespace: 'production',
            registry: registry.url,
            canaryReplicas: 1,
          },
        },
        ...overrides,
      });
    },
    remove() {
      repo.remove();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
  return fixture;
}

export interface DeployerOverFixture {
  store: Store;
  registry: TestRegistry;
  fixture: DeployFixture;
  cluster: RecordingCluster;
  deployer: Deployer;
  close(): Promise<void>;
}

/**
 * A deployer over the fixture service: PGlite, the real docker-registry, `commits` commits with
 * their images pushed, and the recording cluster (for the deployer's own rules, not Kubernetes).
 */
export async function openDeployerOverFixture(commits: number): Promise<DeployerOverFixture> {
  const { store, dispose } = await openTestStore('pglite');
  const registry = await startRegistry();
  const fixture = await createDeployFixture(registry);
  for (let n = 0; n < commits; n++) await fixture.commit();
  const cluster = createRecordingCluster();
  const deployer = createDeployer({
    store,
    intake: createIntake({ writer: createEventWriter(store) }),
    cluster,
    settings: fixture.settings(),
    logger: silentLogger,
  });
  return {
    store,
    registry,
    fixture,
    cluster,
    deployer,
    async close() {
      await registry.stop();
      fixture.remove();
      await dispose();
    },
  };
}
