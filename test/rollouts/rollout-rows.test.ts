import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latestRollouts, liveChangesSince, rolloutHistory } from '../../src/rollouts/index.js';
import {
  dueRolloutEvents,
  markRolloutEmitted,
  recordDeletion,
  recordObservation,
} from '../../src/rollouts/rollout-rows.js';
import { type RolloutObservation } from '../../src/rollouts/rollout-phase.js';
import type { Store } from '../../src/store/index.js';
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
  conditions: [],
};
const complete: RolloutObservation = {
  ...base,
  updated: 4,
  ready: 4,
  available: 4,
  replicas: 4,
  progress: 1,
  phase: 'complete',
};
const failed: RolloutObservation = {
  ...base,
  phase: 'failed',
  reason: 'ProgressDeadlineExceeded',
  message: 'ReplicaSet "web-1" has timed out progressing.',
};
const HOUR = 3_600_000;
const due = async (store: Store, now: Date, graceMs = HOUR) =>
  (await dueRolloutEvents(store, now, graceMs)).map(
    (event) => `${event.rollout.deployment}@${event.rollout.revision}:${event.outcome}`,
  );
const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second));

for (const engine of engines) {
  describe(`rollout rows on ${engine}`, () => {
    it('records a rollout from start to end, with its duration, and one CDEvent due', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const first = await recordObservation(store, base, at(0));
        assert.equal(first.rollout?.phase, 'progressing');
        assert.equal(first.liveChanged, true);
        assert.deepEqual(await due(store, at(0)), []);
        await recordObservation(store, { ...base, updated: 2, progress: 0.5 }, at(2));
        const done = await recordObservation(store, complete, at(5));
        assert.equal(done.rollout?.phase, 'complete');
        assert.equal(done.rollout?.startedAt, at(0).toISOString());
        assert.equal(done.rollout?.endedAt, at(5).toISOString());
        assert.equal(done.rollout?.durationMs, 5000);
        assert.deepEqual(done.rollout?.images, ['registry.example/web:1.0']);
        assert.deepEqual(await due(store, at(5)), ['web@1:success']);
        await markRolloutEmitted(store, done.rollout!.id);
        assert.deepEqual(await due(store, at(5)), []);
      } finally {
        await dispose();
      }
    });

    it('keeps a completed rollout final and ignores repeats (replicas, re-lists)', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const first = await recordObservation(store, complete, at(1));
        assert.equal(first.rollout?.phase, 'complete');
        assert.deepEqual(
          await due(store, at(1)),
          [],
          'finished before it was seen: nothing to send',
        );
        const again = await recordObservation(store, complete, at(2));
        assert.deepEqual(again, { rollout: undefined, liveChanged: false }, 'a second replica');
        assert.equal((await recordObservation(store, base, at(3))).rollout, undefined);
        const [row] = await rolloutHistory(store, 'shop', 'web');
        assert.equal(row?.phase, 'complete');
        assert.equal(row?.endedAt, at(1).toISOString());
        assert.equal((await rolloutHistory(store, 'shop', 'web')).length, 1);
      } finally {
        await dispose();
      }
    });

    it('a scale after completion changes the live view, not the finished record', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await recordObservation(store, base, at(0));
        await recordObservation(store, complete, at(4));
        const scaling = { ...complete, generation: 2, observedGeneration: 2, desired: 9 };
        const progressing = { ...scaling, phase: 'progressing' as const, progress: 4 / 9 };
        assert.equal((await recordObservation(store, progressing, at(6))).liveChanged, true);
        let [live] = await latestRollouts(store);
        assert.equal(live?.phase, 'progressing');
        assert.equal(`${live?.updated}/${live?.desired}`, '4/9');
        const scaled = { ...scaling, updated: 9, ready: 9, available: 9, replicas: 9 };
        await recordObservation(store, scaled, at(8));
        [live] = await latestRollouts(store);
        assert.deepEqual(
          [live?.phase, live?.desired, live?.updated, live?.ready, live?.available, live?.progress],
          ['complete', 9, 9, 9, 9, 1],
        );
        assert.equal(live?.durationMs, 4000, 'the rollout took 4 s; the scale is not a rollout');
        const history = await rolloutHistory(store, 'shop', 'web');
        assert.equal(history.length, 1);
        assert.equal(`${history[0]?.updated}/${history[0]?.desired}`, '4/4');
      } finally {
        await dispose();
      }
    });

    it('a late completion after the deadline is complete, with the miss kept', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await recordObservation(store, base, at(0));
        const missed = await recordObservation(store, failed, at(10));
        assert.equal(missed.rollout?.phase, 'failed');
        assert.equal(missed.rollout?.deadlineExceededAt, at(10).toISOString());
        assert.deepEqual((await latestRollouts(store, { phase: 'failed' })).length, 1);
        assert.deepEqual(await due(store, at(20)), [], 'within the grace: not a failure yet');
        const late = await recordObservation(store, complete, at(30));
        assert.equal(late.rollout?.phase, 'complete');
        assert.equal(late.rollout?.deadlineExceededAt, at(10).toISOString());
        assert.equal(late.rollout?.reason, 'ProgressDeadlineExceeded');
        assert.equal(late.rollout?.durationMs, 30_000);
        const [live] = await latestRollouts(store);
        assert.equal(live?.phase, 'complete');
        assert.equal(live?.progress, 1);
        assert.deepEqual(await due(store, at(30)), ['web@1:success']);
      } finally {
        await dispose();
      }
    });

    it('when a deadline miss counts as a failure (the late-completion rule)', async () => {
      const cases: {
        name: string;
        graceMs: number;
        now: Date;
        then?: (store: Store, o: RolloutObservation) => Promise<unknown>;
        expected: string[];
      }[] = [
        { name: 'grace 0: at once', graceMs: 0, now: at(10), expected: ['failure'] },
        { name: 'within the grace: not yet', graceMs: HOUR, now: at(40), expected: [] },
        { name: 'grace passed', graceMs: 20_000, now: at(31), expected: ['failure'] },
        {
          name: 'replaced by a newer revision (a rollback or a fix)',
          graceMs: HOUR,
          now: at(20),
          then: (store, o) => recordObservation(store, { ...o, revision: '2' }, at(20)),
          expected: ['failure'],
        },
        {
          name: 'deleted before completing',
          graceMs: HOUR,
          now: at(20),
          then: (store, o) => recordDeletion(store, o.uid, at(20)),
          expected: ['failure'],
        },
        {
          name: 'completed within the grace: a success only',
          graceMs: HOUR,
          now: at(20),
          then: (store, o) => recordObservation(store, { ...complete, ...pick(o) }, at(20)),
          expected: ['success'],
        },
      ];
      const pick = (o: RolloutObservation) => ({ uid: o.uid, deployment: o.deployment });
      const { store, dispose } = await openTestStore(engine);
      try {
        for (const [index, entry] of cases.entries()) {
          const named = { deployment: `web${index}`, uid: `uid-${index}` };
          await recordObservation(store, { ...base, ...named }, at(0));
          await recordObservation(store, { ...failed, ...named }, at(10));
          await entry.then?.(store, { ...base, ...named });
          const events = await dueRolloutEvents(store, entry.now, entry.graceMs);
          assert.deepEqual(
            events
              .filter((event) => event.rollout.uid === named.uid && event.rollout.revision === '1')
              .map((event) => event.outcome),
            entry.expected,
            entry.name,
          );
        }
      } finally {
        await dispose();
      }
    });

    it('a deletion leaves the live view, keeps the history, and is a change', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await recordObservation(store, complete, at(0));
        const [before] = await latestRollouts(store);
        assert.equal(await recordDeletion(store, 'uid-web', at(5)), true);
        assert.equal(await recordDeletion(store, 'uid-web', at(6)), false, 'once');
        assert.deepEqual(await latestRollouts(store), []);
        const [kept] = await rolloutHistory(store, 'shop', 'web');
        assert.equal(kept?.deletedAt, at(5).toISOString());
        const changes = await liveChangesSince(store, before!.eventId);
        assert.deepEqual(
          changes.map((change) => [change.deployment, change.deletedAt]),
          [['web', at(5).toISOString()]],
        );
        assert.ok(changes[0]!.eventId > before!.eventId);
        // Created again (a new uid): live again, a new history.
        await recordObservation(store, { ...base, uid: 'uid-web-2' }, at(9));
        assert.deepEqual(
          (await latestRollouts(store)).map((rollout) => rollout.uid),
          ['uid-web-2'],
        );
      } finally {
        await dispose();
      }
    });

    it('two writers racing on one rollout leave one row, increasing event ids', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await recordObservation(store, base, at(0));
        const results = await Promise.all([
          recordObservation(store, complete, at(4)),
          recordObservation(store, complete, at(4)),
          recordObservation(store, { ...base, uid: 'uid-api', deployment: 'api' }, at(4)),
        ]);
        assert.equal(results.filter((result) => result.rollout?.deployment === 'web').length, 1);
        assert.equal((await rolloutHistory(store, 'shop', 'web')).length, 1);
        const ids = (await liveChangesSince(store, 0)).map((change) => change.eventId);
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
        );
        assert.equal(new Set(ids).size, 2);
      } finally {
        await dispose();
      }
    });

    it('lists the live view with filters, and history newest first', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await recordObservation(store, complete, at(0));
        await recordObservation(
          store,
          { ...base, revision: '2', images: ['registry.example/web:2.0'] },
          at(10),
        );
        await recordObservation(store, { ...failed, deployment: 'api', uid: 'uid-api' }, at(5));
        await recordObservation(store, { ...base, namespace: 'other', uid: 'uid-other' }, at(1));
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
      } finally {
        await dispose();
      }
    });
  });
}
