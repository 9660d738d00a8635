/**
 * The baseline: with `baseline: true` a canary starts stable's version at the canary's size
 * beside it (`-baseline`, track `baseline`), and it goes with the canary. The deployer runs over
 * a real git repository and the real docker-registry against the test Kubernetes API server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createDeployer,
  createKubeCluster,
  deployerSettingsSchema,
  type Deployer,
} from '../../src/deploy/index.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('a baseline beside the canary', () => {
  let registry: TestRegistry;
  let kube: KubeApiServer;
  let fixture: DeployFixture;
  let store: Store;
  let deployer: Deployer;
  const sha = (n: number) => fixture.commits[n]!.slice(0, 7);
  const deployment = (name: string) =>
    kube.get('apps', 'deployments', 'production', name) as Json | undefined;

  before(async () => {
    registry = await startRegistry();
    kube = await startKubeApiServer({ stepIntervalMs: 20 });
    fixture = await createDeployFixture(registry);
    for (let n = 0; n < 3; n++) await fixture.commit();
    const created = await kubectl(
      kube.kubeconfigPath,
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: production }\n',
    );
    assert.equal(created.status, 0, created.stderr);
    store = await openStore({});
    const settings = fixture.settings();
    settings.services.web!.baseline = true;
    deployer = createDeployer({
      store,
      intake: createIntake({ writer: createEventWriter(store) }),
      cluster: createKubeCluster(loadKubeConfig({ kubeconfig: kube.kubeconfigPath })),
      settings,
      logger: silentLogger,
    });
  });
  after(async () => {
    await store?.close();
    await kube?.close();
    await registry?.stop();
    fixture?.remove();
  });

  it("starts stable's version at the canary's size, and removes it with the canary", async () => {
    assert.ok((await deployer.deploy('web', { commit: sha(0) }, 'test')).ok);
    const canary = await deployer.canary('web', { commit: sha(1) }, 'test');
    assert.ok(canary.ok, canary.ok ? '' : canary.error.message);
    const baseline = deployment('web-baseline')!;
    assert.ok(baseline, 'web-baseline exists');
    assert.equal(baseline.spec.replicas, 1, "the canary's size");
    assert.deepEqual(baseline.spec.selector.matchLabels, { app: 'web', track: 'baseline' });
    assert.equal(baseline.spec.template.metadata.labels.track, 'baseline');
    assert.equal(
      baseline.spec.template.metadata.labels.version,
      deployment('web')!.spec.template.metadata.labels.version,
      "stable's version",
    );
    assert.notEqual(
      baseline.spec.template.metadata.labels.version,
      deployment('web-canary')!.spec.template.metadata.labels.version,
    );
    assert.ok((await deployer.rollback('web', 'test')).ok);
    assert.equal(deployment('web-baseline'), undefined);
    assert.equal(deployment('web-canary'), undefined);
    assert.ok(deployment('web'), 'stable stays');
  });

  it('goes with a promoted canary too', async () => {
    assert.ok((await deployer.canary('web', { commit: sha(2) }, 'test')).ok);
    assert.ok(deployment('web-baseline'));
    assert.ok((await deployer.promote('web', 'test')).ok);
    assert.equal(deployment('web-baseline'), undefined);
  });

  it('is refused with traffic steps, naming the field', () => {
    const result = deployerSettingsSchema.safeParse({
      enabled: true,
      services: {
        web: {
          repository: '/tmp/x',
          namespace: 'production',
          baseline: true,
          strategy: { httpRoute: 'web', steps: [{ weight: 5 }] },
        },
      },
    });
    assert.equal(result.success, false);
    assert.equal(result.error!.issues[0]!.path.join('.'), 'services.web.baseline');
  });
});
