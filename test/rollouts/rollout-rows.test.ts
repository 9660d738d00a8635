import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  latestRollouts,
  markRolloutEmitted,
  recordRollout,
  rolloutHistory,
  rolloutsUpdatedSince,
  unsentRollouts,
  type RolloutObservation,
} from '../../src/rollouts/index.js';
import { engines, openTestStore } from '../support/engines.js';

const base: RolloutObservation = {
  namespace: 'shop',
  deployment: 'web',
  uid: 'uid-web',
  revision: '1',
  images: ['registry.example/web:1.0'],
  generation: 1,
  observedGeneration: 1,
  desired: 4,
  replicas: 1,
  updated: 1,
  ready: 1,
  available: 1,
  phase: 'progressing',
  progress: 0.25,
  observed: true,
  reportedByDeployer: false,
};
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second));

for (const engine of engines) {
  describe(`rollout rows on ${engine}`, () => {
    it('records a rollout from start to end, with its duration', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const first = await recordRollout(store, base, at(0));
        assert.equal(first?.rollout.phase, 'progressing');
        assert.equal(first?.needsEvent, false);
        await recordRollout(store, { ...base, updated: 2, progress: 0.5 }, at(2));
        const done = await recordRollout(
          store,
          {
            ...base,
            updated: 4,
            ready: 4,
            available: 4,
            replicas: 4,
            progress: 1,
            phase: 'complete',
          },
          at(5),
        );
        assert.equal(done?.rollout.phase, 'complete');
        assert.equal(done?.rollout.startedAt, at(0).toISOString());
        assert.equal(done?.rollout.endedAt, at(5).toISOString());
        assert.equal(done?.rollout.durationMs, 5000);
        assert.deepEqual(done?.rollout.images, ['registry.example/web:1.0']);
        assert.equal(done?.needsEvent, true);
        assert.deepEqual(
          (await unsentRollouts(store)).map((rollout) => rollout.id),
          [done!.rollout.id],
        );
        await markRolloutEmitted(store, done!.rollout.id);
        assert.deepEqual(await unsentRollouts(store), []);
      } finally {
        await dispose();
      }
    });

    it('keeps a finished rollout final and ignores repeats (replicas, re-lists)', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const complete = {
          ...base,
          updated: 4,
          available: 4,
          replicas: 4,
          progress: 1,
          phase: 'complete' as const,
        };
        const first = await recordRollout(store, complete, at(1));
        assert.equal(first?.rollout.phase, 'complete');
        assert.equal(first?.needsEvent, false, 'finished before it was seen: nothing to send');
        assert.deepEqual(await unsentRollouts(store), []);
        assert.equal(
          await recordRollout(store, complete, at(2)),
          undefined,
          'a second replica records nothing',
        );
        assert.equal(
          await recordRollout(store, base, at(3)),
          undefined,
          'a stale state does not reopen it',
        );
        assert.equal(await recordRollout(store, { ...base, updated: 1 }, at(0)), undefined);
        const [row] = await rolloutHistory(store, 'shop', 'web');
        assert.equal(row?.phase, 'complete');
        assert.equal(row?.endedAt, at(1).toISOString());
        assert.equal((await rolloutHistory(store, 'shop', 'web')).length, 1);
      } finally {
        await dispose();
      }
    });

    it('two writers racing on one rollout leave one row and one pending CDEvent', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const complete = {
          ...base,
          updated: 4,
          available: 4,
          replicas: 4,
          progress: 1,
          phase: 'complete' as const,
        };
        await recordRollout(store, base, at(0));
        const results = await Promise.all([
          recordRollout(store, complete, at(4)),
          recordRollout(store, complete, at(4)),
        ]);
        assert.equal(results.filter((result) => result?.needsEvent).length, 1);
        assert.equal((await rolloutHistory(store, 'shop', 'web')).length, 1);
      } finally {
        await dispose();
      }
    });

    it('lists the latest rollout per Deployment with filters, and history newest first', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await recordRollout(
          store,
          { ...base, phase: 'complete', updated: 4, available: 4, replicas: 4, progress: 1 },
          at(0),
        );
        await recordRollout(
          store,
          { ...base, revision: '2', images: ['registry.example/web:2.0'] },
          at(10),
        );
        await recordRollout(
          store,
          {
            ...base,
            deployment: 'api',
            uid: 'uid-api',
            phase: 'failed',
            reason: 'ProgressDeadlineExceeded',
          },
          at(5),
        );
        await recordRollout(store, { ...base, namespace: 'other', uid: 'uid-other' }, at(1));
        const latest = await latestRollouts(store);
        assert.deepEqual(
          latest.map((rollout) => `${rollout.namespace}/${rollout.deployment}@${rollout.revision}`),
          ['shop/web@2', 'shop/api@1', 'other/web@1'],
        );
        assert.deepEqual(
          (await latestRollouts(store, { phase: 'failed' })).map((rollout) => rollout.deployment),
          ['api'],
        );
        assert.equal((await latestRollouts(store, { namespace: 'shop' })).length, 2);
        assert.equal((await latestRollouts(store, { deployment: 'web' })).length, 2);
        assert.equal((await latestRollouts(store, { limit: 1 })).length, 1);
        assert.deepEqual(
          (await rolloutHistory(store, 'shop', 'web')).map((rollout) => rollout.revision),
          ['2', '1'],
        );
        assert.deepEqual(
          (await rolloutsUpdatedSince(store, at(4))).map((rollout) => rollout.deployment),
          ['api', 'web'],
        );
      } finally {
        await dispose();
      }
    });
  });
}
