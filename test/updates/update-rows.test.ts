/**
 * The updates table on both engines: a tag is recorded once whoever sees it first, only one
 * claim of an approved update wins (the replica that starts its canary), and a promotion's lead
 * time is counted from the first sighting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/store/index.js';
import { approveUpdate, getUpdate, listUpdates } from '../../src/updates/index.js';
import {
  claimUpdate,
  finishUpdate,
  recordUpdate,
  supersedeUpdates,
} from '../../src/updates/update-rows.js';
import { engines, openTestStore } from '../support/engines.js';

const seenAt = new Date('2026-12-01T10:00:00Z');
const input = (tag: string, approvalRequired = false) => ({
  service: 'web',
  tag,
  fromVersion: '1.0.0',
  approvalRequired,
  seenAt,
});

for (const engine of engines) {
  describe(`updates table (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => ({ store, dispose } = await openTestStore(engine)));
    after(() => dispose());

    it('records a tag once, however many replicas see it at the same time', async () => {
      const results = await Promise.all(
        Array.from({ length: 4 }, () => recordUpdate(store, input('1.0.1'))),
      );
      assert.equal(results.filter((r) => r.inserted).length, 1);
      assert.equal(new Set(results.map((r) => r.update.id)).size, 1);
      assert.equal(results[0]!.update.state, 'approved');
      assert.equal((await listUpdates(store)).length, 1);
    });

    it('lets exactly one claim start an approved update', async () => {
      const { update } = await recordUpdate(store, input('1.0.2'));
      const claims = await Promise.all(
        Array.from({ length: 4 }, () => claimUpdate(store, update.id, seenAt)),
      );
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal((await getUpdate(store, update.id))?.state, 'started');
    });

    it('needs an approval when asked, and an approval only moves a pending update', async () => {
      const { update } = await recordUpdate(store, input('2.0.0', true));
      assert.equal(update.state, 'pending');
      assert.equal(await claimUpdate(store, update.id, seenAt), false);
      const approved = await approveUpdate(store, update.id, 'alice', seenAt);
      assert.equal(approved?.state, 'approved');
      assert.equal(approved.approvedBy, 'alice');
      assert.equal(await claimUpdate(store, update.id, seenAt), true);
      const again = await approveUpdate(store, update.id, 'bob', seenAt);
      assert.equal(again?.state, 'started');
      assert.equal(again.approvedBy, 'alice');
    });

    it('counts the lead time from first sighting to promotion; finished stays finished', async () => {
      const { update } = await recordUpdate(store, input('1.0.3'));
      await claimUpdate(store, update.id, seenAt);
      await finishUpdate(store, update.id, 'promoted', new Date(seenAt.getTime() + 3_600_500));
      await finishUpdate(store, update.id, 'rolled-back', new Date());
      const promoted = await getUpdate(store, update.id);
      assert.equal(promoted?.state, 'promoted');
      assert.equal(promoted.leadTimeSeconds, 3600.5);
    });

    it('supersedes open updates other than the one kept, never started or finished ones', async () => {
      await recordUpdate(store, input('1.0.4', true));
      await recordUpdate(store, input('1.0.5', true));
      // 1.0.4 (pending) and 1.0.1 (approved, never claimed) are replaced by 1.0.5.
      assert.equal(await supersedeUpdates(store, 'web', '1.0.5', seenAt), 2);
      const states = new Map((await listUpdates(store)).map((u) => [u.tag, u.state]));
      assert.equal(states.get('1.0.1'), 'superseded');
      assert.equal(states.get('1.0.4'), 'superseded');
      assert.equal(states.get('1.0.5'), 'pending');
      assert.equal(states.get('1.0.2'), 'started');
      assert.equal(states.get('1.0.3'), 'promoted');
      assert.deepEqual((await listUpdates(store, { open: true })).map((u) => u.tag).sort(), [
        '1.0.2',
        '1.0.5',
        '2.0.0',
      ]);
    });
  });
}
