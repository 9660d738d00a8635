/**
 * The deployer as the canary analysis's CanaryControl, over a real git repository and the real
 * docker-registry: a verdict acts on the canary the analysis judged and nothing else. Repeated
 * calls (a runner retrying after a crash) and a canary replaced meanwhile change nothing, and a
 * rollback verdict never rolls stable back. The cluster is the recording stand-in the route
 * tests use (what is applied is what this test checks; the journeys use the test API server).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createToken } from '../../src/auth/index.js';
import { analysisCanaryControl, type Deployer } from '../../src/deploy/index.js';
import type { Store } from '../../src/store/index.js';
import {
  openDeployerOverFixture,
  type DeployerOverFixture,
  type DeployFixture,
} from '../support/deploy-fixture.js';
import { testApp } from '../support/app.js';

describe('the deployer as CanaryControl', () => {
  let store: Store;
  let fixture: DeployFixture;
  let deployer: Deployer;

  let opened: DeployerOverFixture;

  before(async () => {
    opened = await openDeployerOverFixture(4);
    ({ store, fixture, deployer } = opened);
  });
  after(() => opened.close());

  const sha = (n: number) => fixture.commits[n]!.slice(0, 7);
  const request = (revision: string) => ({
    service: 'web',
    namespace: 'production',
    analysisId: 'a-1',
    revision,
  });

  it('removes the judged canary once; a repeat, or no canary, never touches stable', async () => {
    const control = analysisCanaryControl(deployer);
    assert.equal((await deployer.deploy('web', { commit: sha(0) }, 'test')).ok, true);
    assert.equal((await deployer.deploy('web', { commit: sha(1) }, 'test')).ok, true);
    const canary = await deployer.canary('web', { commit: sha(2) }, 'test');
    assert.ok(canary.ok);

    const removed = await control.rollback({ ...request(canary.version), reason: 'errors' });
    assert.equal(removed.applied, true, removed.detail);
    assert.equal(removed.recorded, undefined, 'the failed canary is the analysis event to record');
    const again = await control.rollback({ ...request(canary.version), reason: 'errors' });
    assert.equal(again.applied, false);
    assert.match(again.detail, /no canary/);
    const versions = await deployer.version('web');
    assert.equal(versions.canary, null);
    // Stable is still the second deploy: a plain rollback would have returned it to the first.
    assert.equal(versions.stable?.commit.slice(0, 7), sha(1));
  });

  it('promotes only the canary it judged', async () => {
    const control = analysisCanaryControl(deployer);
    const older = await deployer.canary('web', { commit: sha(2) }, 'test');
    const newer = await deployer.canary('web', { commit: sha(3) }, 'test');
    assert.ok(older.ok && newer.ok);
    const stale = await control.promote(request(older.version));
    assert.equal(stale.applied, false);
    assert.match(stale.detail, /not/);
    assert.equal((await deployer.version('web')).canary?.commit.slice(0, 7), sha(3));

    const promoted = await control.promote(request(newer.version));
    assert.equal(promoted.applied, true, promoted.detail);
    assert.equal(promoted.recorded, true, 'the deployer emitted the promotion itself');
    const versions = await deployer.version('web');
    assert.equal(versions.stable?.commit.slice(0, 7), sha(3));
    assert.equal(versions.canary, null);
    assert.equal((await control.promote(request(newer.version))).applied, false);
  });

  it('an analysis with no revision neither promotes nor removes whatever canary runs (issue 13)', async () => {
    // Before: without a revision the deployer matched any canary, so an API-started analysis
    // for one canary could promote (or remove) another.
    const control = analysisCanaryControl(deployer);
    const running = await deployer.canary('web', { commit: sha(2) }, 'test');
    assert.ok(running.ok);
    const unbound = { service: 'web', namespace: 'production', analysisId: 'a-2' };
    const promoted = await control.promote(unbound);
    assert.equal(promoted.applied, false);
    assert.match(promoted.detail, /cancelled: the analysis names no canary revision/);
    const removed = await control.rollback({ ...unbound, reason: 'no data' });
    assert.equal(removed.applied, false);
    assert.equal((await deployer.version('web')).canary?.commit.slice(0, 7), sha(2));
    // Judged at revision A, a canary at revision B is left alone: the deployer's check.
    const stale = await control.rollback({ ...request(sha(1)), reason: 'errors' });
    assert.equal(stale.applied, false);
    assert.match(stale.detail, /cancelled: canary replaced/);
    assert.equal((await deployer.version('web')).canary?.commit.slice(0, 7), sha(2));
  });

  it('binds an analysis started over the API without a revision to the canary running then', async () => {
    const { app } = testApp(store, { deployer: () => ({ deployer, insecureDev: false }) });
    const { secret } = await createToken(store, {
      name: 'starter',
      services: ['web'],
      actions: ['canary'],
    });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/analyses',
      headers: { 'content-type': 'application/json', authorization: `Bearer starter:${secret}` },
      payload: JSON.stringify({ service: 'web' }),
    });
    assert.equal(response.statusCode, 201, response.body);
    const running = (await deployer.version('web')).canary;
    assert.ok(running);
    assert.equal((response.json() as { revision: string }).revision, running.version);
    await app.close();
  });
});
