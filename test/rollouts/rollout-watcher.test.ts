/**
 * The rollout watcher against the test Kubernetes API server, through @kubernetes/client-node
 * and a kubeconfig, as against a real cluster: rollouts recorded, CDEvents in the intake, a
 * dropped watch (and a 410 Gone) survived, two replicas recording once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  createEventWriter,
  createIntake,
  listEvents,
  type Intake,
} from '../../src/events/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { silentLogger } from '../../src/log/index.js';
import {
  createRolloutWatcher,
  latestRollouts,
  rolloutHistory,
  type RolloutWatcher,
} from '../../src/rollouts/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { pollUntil } from '../support/poll-until.js';

const eventually = <T>(check: () => Promise<T | undefined>, what: string) =>
  pollUntil(check, what, { timeoutMs: 20_000, intervalMs: 25 });

function deploymentBody(name: string, image: string, replicas = 3) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image }] },
      },
    },
  };
}

async function rolloutEvents(store: Store) {
  const events = await listEvents(store, { limit: 100 });
  return events.filter((event) => event.type.startsWith('dev.cdevents.service.'));
}

for (const engine of engines) {
  describe(`rollout watcher on ${engine}`, () => {
    let kube: KubeApiServer;
    let store: Store;
    let dispose: () => Promise<void>;
    let intake: Intake;
    let apps: AppsV1Api;
    const watchers: RolloutWatcher[] = [];
    const watcher = async (namespaces: string[] = ['shop']) => {
      const created = createRolloutWatcher({
        kubeConfig: loadKubeConfig({ kubeconfig: kube.kubeconfigPath }),
        namespaces,
        store,
        intake,
        logger: silentLogger,
        retryMs: 50,
      });
      watchers.push(created);
      await created.start();
      return created;
    };
    const apply = (body: ReturnType<typeof deploymentBody>) =>
      apps.patchNamespacedDeployment(
        { name: body.metadata.name, namespace: 'shop', body, fieldManager: 'test', force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    const rollouts = (name: string) => rolloutHistory(store, 'shop', name);
    const live = async (name: string) =>
      (await latestRollouts(store, { namespace: 'shop', deployment: name }))[0];
    const eventsOf = async (name: string) =>
      (await rolloutEvents(store)).filter(
        (event) => (event.data as { subject: { id: string } }).subject.id === name,
      );

    before(async () => {
      kube = await startKubeApiServer({ stepIntervalMs: 20 });
      ({ store, dispose } = await openTestStore(engine));
      intake = createIntake({ writer: createEventWriter(store) });
      const config = loadKubeConfig({ kubeconfig: kube.kubeconfigPath });
      apps = config.makeApiClient(AppsV1Api);
      kube.store.create(
        kube.store.kind('', 'namespaces'),
        undefined,
        { metadata: { name: 'shop' } },
        { manager: 'test' },
      );
    });
    after(async () => {
      for (const running of watchers) await running.stop();
      await kube.close();
      await dispose();
    });

    it('records a first rollout and an upgrade, each with one CDEvent', async () => {
      const running = await watcher();
      await apply(deploymentBody('web', 'registry.example/web:1.0'));
      const [first] = await eventually(async () => {
        const rows = await rollouts('web');
        return rows[0]?.phase === 'complete' ? rows : undefined;
      }, 'first rollout complete');
      assert.equal(first!.revision, '1');
      assert.deepEqual(first!.images, ['registry.example/web:1.0']);
      assert.equal(first!.progress, 1);
      assert.ok(first!.durationMs! >= 0);

      await apply(deploymentBody('web', 'registry.example/web:2.0'));
      await eventually(async () => {
        const rows = await rollouts('web');
        return rows.length === 2 && rows[0]!.phase === 'complete' ? rows : undefined;
      }, 'upgrade complete');
      await running.settled();
      const events = await rolloutEvents(store);
      assert.deepEqual(
        events.map((event) => event.type),
        ['dev.cdevents.service.deployed.0.3.0', 'dev.cdevents.service.upgraded.0.3.0'],
      );
      const upgraded = events[1]!.data as {
        subject: { id: string; content: { environment: { id: string }; artifactId: string } };
        customData: { cadence: { outcome: string }; rollout: { revision: string } };
      };
      assert.equal(upgraded.subject.id, 'web');
      assert.equal(upgraded.subject.content.environment.id, 'shop');
      assert.match(upgraded.subject.content.artifactId, /^pkg:oci\/web\?.*tag=2\.0/);
      assert.equal(upgraded.customData.cadence.outcome, 'success');
      assert.equal(upgraded.customData.rollout.revision, '2');
    });

    it("records a rollout Cadence's deployer applied, but leaves its CDEvent to the deployer", async () => {
      const body = deploymentBody('checkout', 'registry.example/checkout:1.0', 2);
      await apps.patchNamespacedDeployment(
        { name: 'checkout', namespace: 'shop', body, fieldManager: 'cadence', force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
      await eventually(async () => {
        const rows = await rollouts('checkout');
        return rows[0]?.phase === 'complete' ? rows : undefined;
      }, 'deployer rollout complete');
      await watchers[0]!.settled();
      const sent = (await rolloutEvents(store)).filter(
        (event) => (event.data as { subject: { id: string } }).subject.id === 'checkout',
      );
      assert.deepEqual(sent, []);
    });

    it('a rollout past its deadline that completes late is complete, sent once as a success', async () => {
      kube.controller.failNextRollout('shop', 'api');
      await apply(deploymentBody('api', 'registry.example/api:1.0', 2));
      const [failed] = await eventually(async () => {
        const rows = await rollouts('api');
        return rows[0]?.phase === 'failed' ? rows : undefined;
      }, 'failed rollout');
      assert.equal(failed!.reason, 'ProgressDeadlineExceeded');
      assert.equal(failed!.progress, 0.5);
      assert.equal((await live('api'))?.phase, 'failed');
      await watchers[0]!.settled();
      assert.deepEqual(await eventsOf('api'), [], 'within the grace: no failure counted yet');

      assert.ok(kube.controller.completeStalledRollout('shop', 'api'));
      const [late] = await eventually(async () => {
        const rows = await rollouts('api');
        return rows[0]?.phase === 'complete' ? rows : undefined;
      }, 'late completion');
      assert.equal(late!.deadlineExceededAt, failed!.deadlineExceededAt);
      assert.equal(late!.updated, 2);
      const now = await live('api');
      assert.deepEqual([now?.phase, now?.progress, now?.available], ['complete', 1, 2]);
      assert.equal(
        now?.conditions.find((condition) => condition.type === 'Progressing')?.reason,
        'NewReplicaSetAvailable',
      );
      await watchers[0]!.settled();
      const sent = await eventsOf('api');
      assert.equal(sent.length, 1);
      const data = sent[0]!.data as {
        customData: { cadence: { outcome: string }; rollout: { deadlineExceededAt?: string } };
      };
      assert.equal(data.customData.cadence.outcome, 'success');
      assert.equal(data.customData.rollout.deadlineExceededAt, failed!.deadlineExceededAt);
    });

    it('follows a scale after completion within one watch event, and a deletion', async () => {
      await apply(deploymentBody('search', 'registry.example/search:1.0', 2));
      await eventually(
        async () => ((await live('search'))?.phase === 'complete' ? true : undefined),
        'search complete',
      );
      kube.controller.pause();
      try {
        await apps.patchNamespacedDeploymentScale(
          { name: 'search', namespace: 'shop', body: { spec: { replicas: 5 } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        kube.controller.step(); // one watch event: the status with the new desired count
        const scaling = await eventually(async () => {
          const now = await live('search');
          return now?.desired === 5 ? now : undefined;
        }, 'the new desired count');
        assert.equal(scaling.phase, 'progressing');
      } finally {
        kube.controller.resume();
      }
      const scaled = await eventually(async () => {
        const now = await live('search');
        return now?.available === 5 && now.phase === 'complete' ? now : undefined;
      }, 'scaled to 5');
      assert.equal(scaled.updated, 5);
      const history = await rollouts('search');
      assert.equal(history.length, 1, 'a scale is not a rollout');
      assert.equal(history[0]!.desired, 2, 'the finished record stays as it finished');

      await apps.deleteNamespacedDeployment({ name: 'search', namespace: 'shop' });
      await eventually(
        async () => ((await live('search')) ? undefined : true),
        'gone from the live view',
      );
      const kept = await rollouts('search');
      assert.equal(kept.length, 1);
      assert.ok(kept[0]!.deletedAt);
    });

    it('a watcher restarted mid-rollout records it once and sees what it missed', async () => {
      await watchers[0]!.stop();
      kube.controller.pause();
      let restarted: RolloutWatcher;
      try {
        await apply(deploymentBody('ledger', 'registry.example/ledger:1.0', 3));
        await apply(deploymentBody('gone', 'registry.example/gone:1.0', 1));
        const first = await watcher();
        kube.controller.step();
        kube.controller.step();
        kube.controller.step();
        await eventually(async () => {
          const rows = await rollouts('ledger');
          return rows[0]?.phase === 'progressing' && rows[0].updated >= 1 ? rows : undefined;
        }, 'ledger in progress');
        await eventually(async () => ((await live('gone')) ? true : undefined), 'gone recorded');
        await first.stop();
        // While no watcher runs: the rollout goes on to completion and `gone` is deleted.
        for (let step = 0; step < 8; step += 1) kube.controller.step();
        await apps.deleteNamespacedDeployment({ name: 'gone', namespace: 'shop' });
        restarted = await watcher();
      } finally {
        kube.controller.resume();
      }
      const rows = await eventually(async () => {
        const history = await rollouts('ledger');
        return history[0]?.phase === 'complete' ? history : undefined;
      }, 'ledger complete after the restart');
      assert.equal(rows.length, 1, 'no duplicate');
      await eventually(async () => ((await live('gone')) ? undefined : true), 'gone noticed');
      await restarted.settled();
      assert.equal((await eventsOf('ledger')).length, 1, 'the completion sent once');
      // The restarted watcher is the first one from here on.
      watchers.unshift(restarted);
    });

    it('survives watches dropped mid-rollout and a 410 Gone: no duplicate, no missed completion', async () => {
      let seenBeforeCompaction: number;
      kube.controller.pause();
      try {
        await apply(deploymentBody('web', 'registry.example/web:3.0', 4));
        kube.controller.step(); // new ReplicaSet observed
        kube.controller.step(); // one pod of the new revision
        await eventually(async () => {
          const rows = await rollouts('web');
          return rows[0]?.revision === '3' && rows[0].updated >= 1 ? rows : undefined;
        }, 'rollout in progress');
        const watches = () =>
          kube.requests.filter((request) => request.query.watch === 'true').length;
        const before = watches();
        assert.ok(kube.dropWatches() >= 1, 'a watch was open');
        await eventually(async () => (watches() > before ? true : undefined), 'a new watch');
        kube.controller.step();
        // Dropped again, and changes made and the history forgotten before the client is back
        // (all synchronous): its re-watch from its last resourceVersion gets 410 and it re-lists.
        seenBeforeCompaction = kube.requests.length;
        kube.dropWatches();
        kube.controller.step();
        kube.controller.step();
        kube.compact();
        for (let step = 0; step < 4; step += 1) kube.controller.step();
      } finally {
        kube.controller.resume();
      }
      const rows = await eventually(async () => {
        const history = await rollouts('web');
        return history[0]?.revision === '3' && history[0].phase === 'complete'
          ? history
          : undefined;
      }, 'rollout complete after the dropped watches');
      assert.deepEqual(
        rows.map((row) => `${row.revision}:${row.phase}`),
        ['3:complete', '2:complete', '1:complete'],
      );
      const relisted = kube.requests
        .slice(seenBeforeCompaction)
        .some(
          (request) =>
            request.method === 'GET' &&
            request.path === '/apis/apps/v1/namespaces/shop/deployments' &&
            request.query.watch === undefined,
        );
      assert.ok(relisted, 'the watcher listed again after 410 Gone');
      await watchers[0]!.settled();
      const upgrades = (await rolloutEvents(store)).filter(
        (event) =>
          (event.data as { customData: { rollout: { revision: string } } }).customData.rollout
            .revision === '3',
      );
      assert.equal(upgrades.length, 1);
    });

    it('a second replica watching the same cluster records nothing twice', async () => {
      const second = await watcher([]); // all namespaces
      await apply(deploymentBody('cart', 'registry.example/cart:1.0', 2));
      await eventually(async () => {
        const rows = await rollouts('cart');
        return rows[0]?.phase === 'complete' ? rows : undefined;
      }, 'cart rollout complete');
      await second.settled();
      await watchers[0]!.settled();
      assert.equal((await rollouts('cart')).length, 1);
      const cartEvents = (await rolloutEvents(store)).filter(
        (event) => (event.data as { subject: { id: string } }).subject.id === 'cart',
      );
      assert.equal(cartEvents.length, 1);
      // The second replica saw the earlier rollouts on its first list: all final, none re-sent.
      const all = await rolloutEvents(store);
      const keys = all.map((event) => {
        const data = event.data as {
          subject: { id: string };
          customData: { rollout: { revision: string } };
        };
        return `${data.subject.id}@${data.customData.rollout.revision}`;
      });
      assert.equal(new Set(keys).size, keys.length, keys.join(' '));
      for (const key of ['web@1', 'web@2', 'web@3', 'api@1', 'search@1', 'ledger@1', 'cart@1']) {
        assert.ok(keys.includes(key), key);
      }
    });
  });
}
