import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { recordRollout, type RolloutObservation } from '../../src/rollouts/index.js';
import type { Store } from '../../src/store/index.js';
import { testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

const observation: RolloutObservation = {
  namespace: 'shop',
  deployment: 'web',
  uid: 'uid-web',
  revision: '1',
  images: ['registry.example/web:1.0'],
  generation: 1,
  observedGeneration: 1,
  desired: 4,
  replicas: 4,
  updated: 4,
  ready: 4,
  available: 4,
  phase: 'complete',
  progress: 1,
  observed: true,
  reportedByDeployer: false,
};

/** Reads server-sent events from a stream until `count` `rollout` events arrived. */
async function readEvents(response: Response, count: number): Promise<Record<string, unknown>[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      if (!lines.includes('event: rollout')) continue;
      const data = lines.find((line) => line.startsWith('data: '));
      events.push(JSON.parse(data!.slice('data: '.length)) as Record<string, unknown>);
    }
  }
  await reader.cancel();
  return events;
}

for (const engine of engines) {
  describe(`rollout routes on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app } = testApp(store));
      const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
      await recordRollout(store, observation, at(0));
      await recordRollout(
        store,
        { ...observation, revision: '2', phase: 'progressing', updated: 1, progress: 0.25 },
        at(10),
      );
      await recordRollout(
        store,
        {
          ...observation,
          deployment: 'api',
          uid: 'uid-api',
          phase: 'failed',
          updated: 1,
          progress: 0.5,
          desired: 2,
          reason: 'ProgressDeadlineExceeded',
        },
        at(5),
      );
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('lists the live rollout of each Deployment, filtered', async () => {
      const all = await app.inject({ url: '/api/v1/rollouts' });
      assert.equal(all.statusCode, 200);
      const body = all.json<{
        rollouts: { deployment: string; revision: string; progress: number }[];
      }>();
      assert.deepEqual(
        body.rollouts.map(
          (rollout) => `${rollout.deployment}@${rollout.revision}:${rollout.progress}`,
        ),
        ['web@2:0.25', 'api@1:0.5'],
      );
      const failed = await app.inject({ url: '/api/v1/rollouts?phase=failed&namespace=shop' });
      assert.deepEqual(
        failed.json<{ rollouts: { deployment: string }[] }>().rollouts.map((r) => r.deployment),
        ['api'],
      );
      const limited = await app.inject({ url: '/api/v1/rollouts?limit=1' });
      assert.equal(limited.json<{ rollouts: unknown[] }>().rollouts.length, 1);
    });

    it('refuses a bad filter with a problem naming the field', async () => {
      for (const [url, field] of [
        ['/api/v1/rollouts?phase=exploded', 'phase'],
        ['/api/v1/rollouts?limit=0', 'limit'],
        ['/api/v1/rollouts?color=red', 'color'],
      ] as const) {
        const response = await app.inject({ url });
        assert.equal(response.statusCode, 400, url);
        assert.match(String(response.headers['content-type']), /application\/problem\+json/);
        assert.equal(response.json<{ field: string }>().field, field);
      }
    });

    it("shows one Deployment's history, and 404 for one never seen", async () => {
      const history = await app.inject({ url: '/api/v1/rollouts/shop/web' });
      assert.equal(history.statusCode, 200);
      const body = history.json<{ rollouts: { revision: string; durationMs: number | null }[] }>();
      assert.deepEqual(
        body.rollouts.map((rollout) => rollout.revision),
        ['2', '1'],
      );
      assert.equal(body.rollouts[0]!.durationMs, null, 'still progressing');
      const missing = await app.inject({ url: '/api/v1/rollouts/shop/nothing' });
      assert.equal(missing.statusCode, 404);
      assert.match(String(missing.headers['content-type']), /application\/problem\+json/);
    });

    it('exports cadence_rollout_progress on /metrics', async () => {
      const text = (await app.inject({ url: '/metrics' })).body;
      assert.match(text, /cadence_rollout_progress\{namespace="shop",deployment="web"\} 0\.25/);
      assert.match(text, /cadence_rollout_progress\{namespace="shop",deployment="api"\} 0\.5/);
    });

    it('streams the current rollouts, then each change, as server-sent events', async () => {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${address}/api/v1/rollouts/stream?deployment=web`);
      assert.equal(response.status, 200);
      assert.match(String(response.headers.get('content-type')), /text\/event-stream/);
      // The headers come after the snapshot was read, so this change is one the stream polls.
      const reading = readEvents(response, 2);
      await recordRollout(
        store,
        { ...observation, revision: '2', phase: 'progressing', updated: 3, progress: 0.75 },
        new Date(),
      );
      const events = await reading;
      assert.deepEqual(
        events.map((event) => `${event.deployment}@${event.revision}:${event.progress}`),
        ['web@2:0.25', 'web@2:0.75'],
      );
    });
  });
}
