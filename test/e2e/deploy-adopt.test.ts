/**
 * Onboarding without downtime: a Deployment created with the real kubectl (`selector: {app:
 * web}`) is adopted by the deployer in place. Its selector is immutable in Kubernetes, so the
 * deployer keeps it; stable is updated by a rolling update, never deleted and recreated, and its
 * available replicas never drop below the desired count — through the deploy, a canary and its
 * promotion. Every part is real: kubectl, the deployer through client-node against the test
 * Kubernetes API server (which refuses a changed selector as a real one does), git and the
 * docker-registry. Every write of the Deployment is observed through the API server's change
 * feed, so no state between two samples is missed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeployer, createKubeCluster, type Deployer } from '../../src/deploy/index.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { pollUntil } from '../support/poll-until.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('adopting a kubectl-created Deployment without downtime', () => {
  let registry: TestRegistry;
  let kube: KubeApiServer;
  let fixture: DeployFixture;
  let store: Store;
  let deployer: Deployer;
  /** Every write of production/web as the API server stored it. */
  const writes: { type: string; uid: string; desired: number; available: number }[] = [];
  let unsubscribe: () => void;

  const web = () => kube.get('apps', 'deployments', 'production', 'web') as Json | undefined;
  const rolledOut = (name: string, replicas: number) =>
    pollUntil(
      () => {
        const deployment = kube.get('apps', 'deployments', 'production', name) as Json | undefined;
        const status = deployment?.status as Json | undefined;
        return (
          status?.observedGeneration === deployment?.metadata.generation &&
          status?.updatedReplicas === replicas &&
          status?.availableReplicas === replicas &&
          status?.replicas === replicas &&
          deployment
        );
      },
      `${name} rolled out`,
      { timeoutMs: 60_000 },
    );

  before(async () => {
    registry = await startRegistry();
    kube = await startKubeApiServer({ stepIntervalMs: 20 });
    fixture = await createDeployFixture(registry);
    for (let n = 0; n < 3; n++) await fixture.commit();
    const created = await kubectl(
      kube.kubeconfigPath,
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Namespace
metadata: { name: production }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: production, labels: { app: web } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - { name: web, image: ${registry.host}/web:main-${fixture.commits[0]!.slice(0, 7)} }
`,
    );
    assert.equal(created.status, 0, created.stderr);
    await rolledOut('web', 2);
    unsubscribe = kube.store.onChange((change) => {
      const object = change.object as Json;
      if (change.kind.kind !== 'Deployment' || object.metadata.name !== 'web') return;
      writes.push({
        type: change.type,
        uid: object.metadata.uid,
        desired: object.spec.replicas,
        available: object.status?.availableReplicas ?? 0,
      });
    });
    store = await openStore({});
    deployer = createDeployer({
      store,
      intake: createIntake({ writer: createEventWriter(store) }),
      cluster: createKubeCluster(loadKubeConfig({ kubeconfig: kube.kubeconfigPath })),
      settings: fixture.settings(),
      logger: silentLogger,
    });
  });
  after(async () => {
    unsubscribe?.();
    await store?.close();
    await kube?.close();
    await registry?.stop();
    fixture?.remove();
  });

  it('deploys, canaries and promotes over it; stable stays available throughout', async () => {
    const uid = web()!.metadata.uid as string;
    const sha = (n: number) => fixture.commits[n]!.slice(0, 7);

    const deployed = await deployer.deploy('web', { commit: sha(1) }, 'alice');
    assert.ok(deployed.ok, deployed.ok ? '' : deployed.error.message);
    let stable = await rolledOut('web', 2);
    assert.deepEqual(stable.spec.selector, { matchLabels: { app: 'web' } }, 'the live selector');
    assert.equal(stable.spec.template.metadata.labels.track, 'stable');
    assert.equal(stable.spec.template.metadata.labels.version, `main-${sha(1)}`);

    const canary = await deployer.canary('web', { commit: sha(2) }, 'alice');
    assert.ok(canary.ok, canary.ok ? '' : canary.error.message);
    const canaryDeployment = await rolledOut('web-canary', 1);
    assert.deepEqual(canaryDeployment.spec.selector, {
      matchLabels: { app: 'web', track: 'canary' },
    });

    const promoted = await deployer.promote('web', 'alice');
    assert.ok(promoted.ok, promoted.ok ? '' : promoted.error.message);
    stable = await rolledOut('web', 2);
    assert.equal(stable.spec.template.metadata.labels.version, `main-${sha(2)}`);
    await pollUntil(
      () => !kube.get('apps', 'deployments', 'production', 'web-canary'),
      'the canary removed',
    );

    assert.ok(writes.length > 3, 'the rollouts were observed');
    assert.deepEqual(
      writes.filter((write) => write.type === 'DELETED' || write.uid !== uid),
      [],
      'never deleted or recreated',
    );
    const short = writes.filter((write) => write.available < write.desired);
    assert.deepEqual(short, [], 'available replicas never below desired');
  });
});
