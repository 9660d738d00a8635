/**
 * An analysis lives as long as its canary: a canary promoted by hand, replaced by a newer one or
 * removed ends its analysis `cancelled` with the reason, and nothing more is recorded for it, so
 * each deployment counts once in DORA. Real git, the real docker-registry, the real deployer,
 * runner and intake on both engines; the cluster is the recording stand-in (what is applied is
 * not the point here), and Prometheus is a closed loopback port (a real refused connection), so
 * intervals stay inconclusive and the analysis keeps running until its canary ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createAnalysisRunner,
  createPrometheusClient,
  findAnalysis,
  listIntervals,
  startAnalysis,
  type AnalysisRunner,
} from '../../src/analysis/index.js';
import { type AnalysisSpecInput } from '../../src/analysis/schema.js';
import { analysisCanaryControl, createDeployer, type Deployer } from '../../src/deploy/index.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Store } from '../../src/store/index.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { engines, openTestStore } from '../support/engines.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { freePort } from '../support/prometheus.js';
import { createRecordingCluster } from '../support/recording-cluster.js';

/** Long enough never to decide by itself: only the canary's end stops it. */
const endless: AnalysisSpecInput = {
  intervalSeconds: 1,
  intervals: 50,
  stepSeconds: 0.25,
  sampleWindowSeconds: 0.5,
  evaluationDelaySeconds: 0,
  maxInconclusive: 100,
  metrics: [{ name: 'error-rate', minSamples: 5 }],
};

for (const engine of engines) {
  describe(`an analysis ends with its canary (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let registry: TestRegistry;
    let fixture: DeployFixture;
    let deployer: Deployer;
    let runner: AnalysisRunner;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      registry = await startRegistry();
      fixture = await createDeployFixture(registry);
      for (let n = 0; n < 6; n++) await fixture.commit();
      const intake = createIntake({ writer: createEventWriter(store) });
      deployer = createDeployer({
        store,
        intake,
        cluster: createRecordingCluster(),
        settings: fixture.settings(),
        logger: silentLogger,
      });
      runner = createAnalysisRunner({
        store,
        prometheus: createPrometheusClient({
          url: `http://127.0.0.1:${await freePort()}`,
          timeoutMs: 300,
        }),
        control: analysisCanaryControl(deployer),
        logger: silentLogger,
        emit: (events) => intake.acceptDecoded(events, 'cdevent'),
      });
    });
    after(async () => {
      await registry.stop();
      fixture.remove();
      await dispose();
    });

    const sha = (n: number) => fixture.commits[n]!.slice(0, 7);

    /** A canary and its analysis, started the way `cadence serve` starts them. */
    async function canaryWithAnalysis(n: number) {
      const canary = await deployer.canary('web', { commit: sha(n) }, 'ci');
      assert.ok(canary.ok, canary.ok ? '' : canary.error.message);
      const analysis = await startAnalysis(
        store,
        {
          service: 'web',
          namespace: 'production',
          revision: canary.version,
          id: `canary-${canary.operationId}`,
          analysis: endless,
        },
        undefined,
        new Date(Date.now() - 10_000),
      );
      return { canary, analysis };
    }

    /** Every `service.upgraded` stored for a version, whoever sent it (a canary's first start is `service.deployed`). */
    async function upgradesOf(version: string) {
      const { rows } = await store.query<{ source: string }>(
        `select source from events
          where type = 'dev.cdevents.service.upgraded.0.3.0' and data::text like $1`,
        [`%${version}%`],
      );
      return rows.map((row) => row.source);
    }

    it('a manual promote mid-analysis cancels it; the version counts once', async () => {
      assert.ok((await deployer.deploy('web', { commit: sha(0) }, 'ci')).ok);
      const { canary, analysis } = await canaryWithAnalysis(1);
      await runner.tick();
      const judged = await listIntervals(store, analysis.id);
      assert.ok(judged.length > 0, 'the analysis was running');

      const promoted = await deployer.promote('web', 'alice');
      assert.ok(promoted.ok);
      const ended = (await findAnalysis(store, analysis.id))!;
      assert.equal(ended.status, 'cancelled');
      assert.equal(ended.verdict, null);
      assert.match(ended.reason ?? '', /promoted by alice \(operation \d+\)/);
      assert.ok(ended.finishedAt);

      await runner.tick();
      assert.equal((await listIntervals(store, analysis.id)).length, judged.length);
      assert.equal((await findAnalysis(store, analysis.id))!.status, 'cancelled');
      assert.equal((await upgradesOf(canary.version)).length, 1, 'the promote only');
      const { rows } = await store.query(`select 1 from events where source like '%analysis%'`);
      assert.equal(rows.length, 0, 'the analysis emitted nothing');
    });

    it('a canary replaced mid-analysis cancels the old analysis, not the new', async () => {
      const first = await canaryWithAnalysis(2);
      await runner.tick();
      const second = await canaryWithAnalysis(3);
      const old = (await findAnalysis(store, first.analysis.id))!;
      assert.equal(old.status, 'cancelled');
      assert.match(
        old.reason ?? '',
        new RegExp(`canary ${first.canary.version} replaced by canary ${second.canary.version}`),
      );
      await runner.tick();
      assert.equal((await findAnalysis(store, second.analysis.id))!.status, 'running');

      const removed = await deployer.rollback('web', 'bob');
      assert.ok(removed.ok);
      const gone = (await findAnalysis(store, second.analysis.id))!;
      assert.equal(gone.status, 'cancelled');
      assert.match(gone.reason ?? '', /removed by bob/);
    });

    it('a verdict pending when the canary was promoted by hand is cancelled, not counted', async () => {
      const { canary, analysis } = await canaryWithAnalysis(4);
      await runner.tick();
      // The state the runner writes when the last interval passes: the promote is pending.
      await store.query(
        `update analyses set status = 'promoting', verdict = 'pass', reason = 'passed' where id = $1`,
        [analysis.id],
      );
      assert.ok((await deployer.promote('web', 'carol')).ok);
      assert.equal((await findAnalysis(store, analysis.id))!.status, 'promoting');

      await runner.tick();
      const ended = (await findAnalysis(store, analysis.id))!;
      assert.equal(ended.status, 'cancelled');
      assert.match(ended.reason ?? '', /canary gone before the promotion/);
      assert.equal((await upgradesOf(canary.version)).length, 1, 'the manual promote only');
      const { rows } = await store.query(`select 1 from events where source like '%analysis%'`);
      assert.equal(rows.length, 0, 'the analysis emitted nothing');
    });
  });
}
