import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { postEvent, runCadence, startCadence } from '../support/cadence-process.js';
import { createThrowawayDatabase, engines } from '../support/engines.js';

/**
 * kill -9 the server while clients are writing, restart it, and check that every event that was
 * acknowledged (202) is there. Unacknowledged ones may or may not be: that is the contract.
 */
async function loadUntilKilled(url: string, kill: () => void): Promise<Set<string>> {
  const acked = new Set<string>();
  let stop = false;
  let next = 0;
  // Killed once enough events are acknowledged (not after a fixed time: on a loaded machine
  // a time gives too few), with 16 writers still in flight.
  const killAt = 60;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!stop) {
        const id = `load-${next++}`;
        try {
          const response = await postEvent(url, {
            specversion: '1.0',
            id,
            source: '/load',
            type: 'com.example.load',
            data: { n: id },
          });
          if (response.status === 202) acked.add(id);
          if (acked.size >= killAt && !stop) {
            stop = true;
            kill();
          }
        } catch {
          return; // connection refused or reset: the server is gone
        }
      }
    }),
  );
  return acked;
}

for (const engine of engines) {
  describe(`kill -9 under load on ${engine}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cadence-kill-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it('loses no acknowledged event', async () => {
      const database = engine === 'postgres' ? await createThrowawayDatabase() : undefined;
      const args =
        engine === 'postgres' ? ['--database-url', database!.url] : ['--data-dir', dataDir];
      try {
        const server = await startCadence(args);
        const acked = await loadUntilKilled(server.url, () => server.child.kill('SIGKILL'));
        await server.exited;
        assert.ok(acked.size > 50, `enough load before the kill (${acked.size} acknowledged)`);

        const restarted = await startCadence(args);
        try {
          const stored = new Set<string>();
          let after = 0;
          for (;;) {
            const page = runCadence([
              'events',
              'list',
              '--server',
              restarted.url,
              '--json',
              '--limit',
              '1000',
              '--after',
              String(after),
            ]);
            assert.equal(page.status, 0, page.stderr);
            const events = JSON.parse(page.stdout) as { seq: number; id: string }[];
            if (events.length === 0) break;
            for (const event of events) stored.add(event.id);
            after = events.at(-1)!.seq;
          }
          const lost = [...acked].filter((id) => !stored.has(id));
          assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged events lost`);
        } finally {
          restarted.child.kill('SIGTERM');
          await restarted.exited;
        }
      } finally {
        await database?.drop();
      }
    });
  });
}
