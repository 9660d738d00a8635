/**
 * What a tag deploys: a git tag as before; a registry tag that names a commit (`main-<sha>`, or
 * the service's `tagPattern`) that commit's manifests; any other registry tag the stable
 * manifests with the new image (image-only, as Keel does). Real git and the real
 * docker-registry; the cluster is the recording stand-in (what is applied is what is checked).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeployer, type Deployer } from '../../src/deploy/index.js';
import { commitOfTag, DEFAULT_TAG_PATTERN } from '../../src/deploy/tag-commit.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/store/index.js';
import {
  openDeployerOverFixture,
  type DeployerOverFixture,
  type DeployFixture,
} from '../support/deploy-fixture.js';
import type { TestRegistry } from '../support/oci-registry.js';
import type { RecordingCluster } from '../support/recording-cluster.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('commitOfTag', () => {
  const pattern = new RegExp(DEFAULT_TAG_PATTERN);
  const rows: [string, string | undefined][] = [
    ['main-025838f', '025838f'],
    ['feature-x-025838f9abc', '025838f9abc'],
    ['main-025838F', undefined], // CI writes lowercase shas; an uppercase one is no sha
    ['1.4.2', undefined],
    ['latest', undefined],
    ['main-0258', undefined], // too short to name a commit
  ];
  for (const [tag, commit] of rows) {
    it(`${tag} → ${commit ?? 'no commit'}`, () => assert.equal(commitOfTag(tag, pattern), commit));
  }
  it('a configured pattern', () => {
    const custom = /^build-(?<sha>[0-9a-f]+)-\d+$/;
    assert.equal(commitOfTag('build-abc1234-17', custom), 'abc1234');
    assert.equal(commitOfTag('main-abc1234', custom), undefined);
  });
});

describe('deploying by image tag', () => {
  let store: Store;
  let registry: TestRegistry;
  let fixture: DeployFixture;
  let cluster: RecordingCluster;
  let deployer: Deployer;

  let opened: DeployerOverFixture;

  before(async () => {
    opened = await openDeployerOverFixture(3);
    ({ store, registry, fixture, cluster, deployer } = opened);
  });
  after(() => opened.close());

  const sha = (n: number) => fixture.commits[n]!.slice(0, 7);
  const live = (name: string) => cluster.objects.get(`Deployment/production/${name}`) as Json;
  const images = (name: string) =>
    (live(name).spec.template.spec.containers as Json[]).map((container) => container.image);

  it('a <branch>-<sha> tag that is no git tag deploys that commit', async () => {
    const deployed = await deployer.deploy('web', { tag: `main-${sha(0)}` }, 'ci');
    assert.ok(deployed.ok, deployed.ok ? '' : deployed.error.message);
    assert.equal(deployed.commit, fixture.commits[0]);
    assert.equal(deployed.version, `main-${sha(0)}`);
    assert.deepEqual(images('web'), [`${registry.host}/web:main-${sha(0)}`, 'debian:wheezy']);
    const env = (live('web').spec.template.spec.containers[0].env as Json[]).find(
      (entry) => entry.name === 'MESSAGE',
    );
    assert.equal(env?.value, 'v1', 'that commit’s manifests');
  });

  it('a commit with its <branch>-<sha> tag deploys; a tag naming another commit is refused', async () => {
    const both = await deployer.deploy('web', { commit: sha(1), tag: `main-${sha(1)}` }, 'ci');
    assert.ok(both.ok, both.ok ? '' : both.error.message);
    assert.equal(both.commit, fixture.commits[1]);
    const applies = cluster.calls.length;
    const wrong = await deployer.deploy('web', { commit: sha(0), tag: `main-${sha(2)}` }, 'ci');
    assert.ok(!wrong.ok);
    assert.equal(wrong.error.field, 'tag');
    assert.equal(cluster.calls.length, applies, 'nothing applied, not even a dry run');
  });

  it('a tag that names no commit runs the stable manifests with the new image', async () => {
    await registry.push('web', '1.4.2');
    const canary = await deployer.canary('web', { tag: '1.4.2' }, 'keel');
    assert.ok(canary.ok, canary.ok ? '' : canary.error.message);
    assert.equal(canary.commit, fixture.commits[1], 'stable’s commit');
    assert.equal(canary.version, '1.4.2');
    assert.deepEqual(images('web-canary'), [`${registry.host}/web:1.4.2`, 'debian:wheezy']);
    assert.equal((await deployer.version('web')).canary?.tag, '1.4.2');
    const promoted = await deployer.promote('web', 'keel');
    assert.ok(promoted.ok, promoted.ok ? '' : promoted.error.message);
    assert.deepEqual(images('web'), [`${registry.host}/web:1.4.2`, 'debian:wheezy']);
  });

  it('an image-only tag the registry lacks is refused before the cluster, naming the tag', async () => {
    const applies = cluster.calls.length;
    const missing = await deployer.canary('web', { tag: '9.9.9' }, 'keel');
    assert.ok(!missing.ok);
    assert.equal(missing.step, 'validate');
    assert.equal(missing.error.field, 'tag');
    assert.match(missing.error.message, /9\.9\.9/);
    assert.equal(cluster.calls.length, applies);
  });

  it('a service’s tagPattern names its commits', async () => {
    await registry.push('web', `build-${sha(2)}-17`);
    const custom = createDeployer({
      store,
      intake: createIntake({ writer: createEventWriter(store) }),
      cluster,
      settings: fixture.settings({
        services: {
          web: {
            ...fixture.settings().services.web!,
            tagPattern: '^build-(?<sha>[0-9a-f]+)-\\d+$',
          },
        },
      }),
      logger: silentLogger,
    });
    const deployed = await custom.deploy('web', { tag: `build-${sha(2)}-17` }, 'ci');
    assert.ok(deployed.ok, deployed.ok ? '' : deployed.error.message);
    assert.equal(deployed.commit, fixture.commits[2]);
  });
});
