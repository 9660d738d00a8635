import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { rolloutFeed, type LiveRollout } from '../../src/rollouts/index.js';
import { recordDeletion, recordObservation } from '../../src/rollouts/rollout-rows.js';
import { type RolloutObservation } from '../../src/rollouts/rollout-phase.js';
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
  conditions: [
    {
      type: 'Progressing',
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: null,
      lastTransitionTime: null,
    },
  ],
};

interface StreamEvent {
  event: string;
  id: number;
  data: LiveRollout;
}

/** An open stream's events (`rollout`, `deleted`), read as they come. */
function openStream(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: StreamEvent[] = [];
  /** Every `id:` on the wire, data or not: what a reconnecting client would resume from. */
  const ids: number[] = [];
  let buffer = '';
  const next = async (count: number) => {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
        const id = field('id');
        if (id !== undefined) ids.push(Number(id));
        const data = field('data');
        if (data === undefined) continue;
        events.push({ event: field('event')!, id: Number(field('id')), data: JSON.parse(data) });
      }
    }
    return events.slice(0, count);
  };
  return { next, ids, close: () => reader.cancel() };
}

const label = (e: StreamEvent) =>
  `${e.event} ${e.data.deployment}@${e.data.revision}:${e.data.progress}`;

for (const engine of engines) {
  describe(`rollout routes on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let dispose: () => Promise<void>;
    let address: string;
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
    // As the watcher does after each write.
    const record = async (o: RolloutObservation, when: Date) => {
      await recordObservation(store, o, when);
      rolloutFeed(store).poke();
    };

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app } = testApp(store, { rolloutStreams: 25 }));
      await recordObservation(store, observation, at(0));
      await recordObservation(
        store,
        { ...observation, revision: '2', phase: 'progressing', updated: 1, progress: 0.25 },
        at(10),
      );
      await recordObservation(
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
      address = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('lists the live state of each Deployment, filtered', async () => {
      const all = await app.inject({ url: '/api/v1/rollouts' });
      assert.equal(all.statusCode, 200);
      const body = all.json<{ rollouts: LiveRollout[] }>();
      assert.deepEqual(
        body.rollouts.map(
          (rollout) => `${rollout.deployment}@${rollout.revision}:${rollout.progress}`,
        ),
        ['web@2:0.25', 'api@1:0.5'],
      );
      assert.equal(body.rollouts[0]!.conditions[0]!.reason, 'NewReplicaSetAvailable');
      const failed = await app.inject({ url: '/api/v1/rollouts?phase=failed&namespace=shop' });
      assert.deepEqual(
        failed.json<{ rollouts: { deployment: string }[] }>().rollouts.map((r) => r.deployment),
        ['api'],
      );
      const limited = await app.inject({ url: '/api/v1/rollouts?limit=1' });
      assert.equal(limited.json<{ rollouts: unknown[] }>().rollouts.length, 1);
    });

    it('refuses a bad filter or Last-Event-ID with a problem naming the field', async () => {
      for (const [url, field, headers] of [
        ['/api/v1/rollouts?phase=exploded', 'phase', {}],
        ['/api/v1/rollouts?limit=0', 'limit', {}],
        ['/api/v1/rollouts?color=red', 'color', {}],
        ['/api/v1/rollouts/stream', 'last-event-id', { 'last-event-id': 'yesterday' }],
      ] as const) {
        const response = await app.inject({ url, headers });
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

    it('exports the rollout series on /metrics', async () => {
      const text = (await app.inject({ url: '/metrics' })).body;
      assert.match(
        text,
        /cadence_rollout_progress_ratio\{namespace="shop",deployment="web"\} 0\.25/,
      );
      assert.match(text, /cadence_rollout_progress\{namespace="shop",deployment="api"\} 0\.5/);
      assert.match(
        text,
        /cadence_deployment_replicas\{namespace="shop",deployment="api",kind="desired"\} 2/,
      );
      assert.match(
        text,
        /cadence_rollout_phase\{namespace="shop",deployment="api",phase="failed"\} 1/,
      );
      assert.match(
        text,
        /cadence_rollout_phase\{namespace="shop",deployment="api",phase="complete"\} 0/,
      );
      // web@1 completed on first sight (duration 0): one observation in the histogram.
      assert.match(
        text,
        /cadence_rollout_duration_seconds_count\{namespace="shop",deployment="web"\} 1/,
      );
    });

    it('streams the current state, then each change with increasing ids; resumes from Last-Event-ID', async () => {
      const response = await fetch(`${address}/api/v1/rollouts/stream?deployment=web`);
      assert.equal(response.status, 200);
      assert.match(String(response.headers.get('content-type')), /text\/event-stream/);
      const stream = openStream(response);
      const [current] = await stream.next(1);
      assert.equal(label(current!), 'rollout web@2:0.25');
      await record(
        { ...observation, revision: '2', phase: 'progressing', updated: 3, progress: 0.75 },
        at(11),
      );
      const [, change] = await stream.next(2);
      assert.equal(label(change!), 'rollout web@2:0.75');
      assert.ok(change!.id > current!.id, 'ids increase');
      await stream.close();

      // Missed while away: a change, then a deletion. A resuming client gets only what changed
      // since its id, each Deployment once, as it is now: here, deleted (as it last was).
      await record({ ...observation, revision: '2', updated: 4, progress: 1 }, at(12));
      await recordDeletion(store, 'uid-web', at(13));
      // …and, last, a change to another Deployment this stream does not show.
      await record(
        {
          ...observation,
          deployment: 'api',
          uid: 'uid-api',
          phase: 'failed',
          updated: 1,
          ready: 2,
          progress: 0.5,
          desired: 2,
          reason: 'ProgressDeadlineExceeded',
        },
        at(14),
      );
      const resumed = await fetch(`${address}/api/v1/rollouts/stream?deployment=web`, {
        headers: { 'last-event-id': String(change!.id) },
      });
      const again = openStream(resumed);
      const events = await again.next(1);
      assert.deepEqual(events.map(label), ['deleted web@2:1']);
      assert.ok(events[0]!.id > change!.id);
      assert.deepEqual(
        again.ids,
        [...again.ids].sort((a, b) => a - b),
        'ids never go back',
      );
      await again.close();

      const fresh = await fetch(`${address}/api/v1/rollouts/stream?deployment=api`);
      const third = openStream(fresh);
      const [api] = await third.next(1);
      assert.equal(label(api!), 'rollout api@1:0.5', 'a deleted Deployment is not current state');
      await third.close();
    });

    it('feeds every stream from one shared query, and refuses streams past the cap', async () => {
      const feed = rolloutFeed(store);
      feed.setPollInterval(3_600_000); // only the pokes drive it here
      const streams = await Promise.all(
        Array.from({ length: 25 }, () =>
          fetch(`${address}/api/v1/rollouts/stream?deployment=cart`),
        ),
      );
      assert.ok(streams.every((response) => response.status === 200));
      const full = await fetch(`${address}/api/v1/rollouts/stream`);
      assert.equal(full.status, 503);
      assert.match(String(full.headers.get('content-type')), /application\/problem\+json/);
      assert.equal(((await full.json()) as { field: string }).field, 'stream');
      assert.equal(feed.listeners, 25);
      const before = feed.queries;
      await record({ ...observation, deployment: 'cart', uid: 'uid-cart' }, at(20));
      const readers = streams.map(openStream);
      const received = await Promise.all(readers.map((reader) => reader.next(1)));
      assert.ok(received.every(([event]) => event?.data.deployment === 'cart'));
      assert.ok(feed.queries - before <= 2, `${feed.queries - before} queries for 25 streams`);
      await Promise.all(readers.map((reader) => reader.close()));
      feed.setPollInterval(250);
    });
  });
}
