import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { CadenceError } from '../../problem/index.js';
import {
  latestRollouts,
  liveChangesSince,
  ROLLOUT_PHASES,
  rolloutFeed,
  rolloutHistory,
  type LiveRollout,
} from '../../rollouts/index.js';
import type { Store } from '../../store/index.js';
import { rolloutHistorySchema, rolloutListSchema } from '../api-schemas.js';
import { badQuery, problem } from '../openapi.js';
import { parseQuery } from './parse-input.js';

const name = z.string().min(1).max(253);

export const rolloutFilterQuery = z.strictObject({
  namespace: name.optional(),
  deployment: name.optional(),
  phase: z.enum(ROLLOUT_PHASES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const READ = { action: 'read' } as const;
const historyParams = z.object({ namespace: name, name });
const historyQuery = rolloutFilterQuery.pick({ limit: true });

export const rolloutStreamQuery = rolloutFilterQuery.omit({ limit: true });

/** The `Last-Event-ID` a reconnecting client sends (EventSource does it by itself). */
const lastEventId = z.coerce.number().int().min(0);

/**
 * Rollouts as the watcher recorded them: `GET /api/v1/rollouts` (the live view: every watched
 * Deployment as the cluster has it now), `GET /api/v1/rollouts/{namespace}/{name}` (one
 * Deployment's rollout history, deleted ones' too) and `GET /api/v1/rollouts/stream`,
 * server-sent events: `event: rollout` (a live Deployment as JSON) and `event: deleted` (one
 * gone from the cluster), each with a monotonic `id:` (the store's change sequence, shared by
 * replicas and kept across restarts). A fresh stream gets the current state first; one sent
 * `Last-Event-ID` gets only what changed after that id. Every stream is fed by one shared
 * feed (`rolloutFeed`), and at most `maxStreams` are open at once (503 after that).
 */
export function registerRolloutRoutes(
  app: FastifyInstance,
  deps: { store: Store; streamPollMs?: number | undefined; maxStreams?: number | undefined },
): void {
  const streams = new Set<ServerResponse>();
  const feed = rolloutFeed(deps.store);
  if (deps.streamPollMs !== undefined) feed.setPollInterval(deps.streamPollMs);
  const maxStreams = deps.maxStreams ?? 100;
  // One keep-alive comment for every stream, now and then, so proxies keep idle ones open.
  let heartbeat: NodeJS.Timeout | undefined;
  const beat = () => {
    for (const stream of streams) stream.write(': keep-alive\n\n');
  };
  // Open streams would hold a graceful shutdown until its timeout.
  app.addHook('preClose', (done) => {
    clearInterval(heartbeat);
    for (const stream of streams) stream.end();
    done();
  });

  app.get(
    '/api/v1/rollouts',
    {
      config: {
        auth: READ,
        api: {
          tag: 'rollouts',
          summary:
            'Every watched Deployment as the cluster has it now: replicas, phase, conditions',
          query: rolloutFilterQuery,
          responses: { 200: { description: 'rollouts', schema: rolloutListSchema }, 400: badQuery },
        },
      },
    },
    async (request) => {
      const query = parseQuery(rolloutFilterQuery, request.query);
      return { rollouts: await latestRollouts(deps.store, query) };
    },
  );

  app.get(
    '/api/v1/rollouts/stream',
    {
      config: {
        auth: READ,
        api: {
          tag: 'rollouts',
          summary:
            'Server-sent events `rollout` and `deleted` with monotonic ids: current state first, or what changed after `Last-Event-ID`',
          query: rolloutStreamQuery,
          responses: {
            200: { description: 'an event stream', contentType: 'text/event-stream' },
            400: badQuery,
            503: problem('as many streams are open as the server serves (kube.rolloutStreams)'),
          },
        },
      },
    },
    async (request, reply) => {
      const query = parseQuery(rolloutStreamQuery, request.query);
      const header = request.headers['last-event-id'];
      const resumeFrom =
        header === undefined
          ? undefined
          : parseQuery(z.object({ 'last-event-id': lastEventId }), { 'last-event-id': header })[
              'last-event-id'
            ];
      if (streams.size >= maxStreams) {
        void reply.header('retry-after', '5');
        throw new CadenceError('unavailable', {
          field: 'stream',
          detail: `${streams.size} rollout streams are open, the most this server serves (kube.rolloutStreams); try again later`,
        });
      }
      const matches = (rollout: LiveRollout) =>
        (!query.namespace || rollout.namespace === query.namespace) &&
        (!query.deployment || rollout.deployment === query.deployment) &&
        (!query.phase || rollout.phase === query.phase || rollout.deletedAt !== null);

      // Listen first, then read: nothing written in between is missed, and what both bring is
      // sent once (each Deployment's last sent id).
      const pending: LiveRollout[][] = [];
      let live = false;
      const sentIds = new Map<string, number>();
      // `send` exists once the stream is open (below); until then changes wait in `pending`.
      const subscription = await feed.subscribe((changes) => {
        if (live) for (const rollout of changes) send(rollout);
        else pending.push(changes);
      });
      let first: LiveRollout[];
      try {
        first =
          resumeFrom === undefined
            ? (await latestRollouts(deps.store, { ...query, limit: 1000 })).sort(
                (a, b) => a.eventId - b.eventId,
              )
            : await catchUp(deps.store, resumeFrom, subscription.eventId);
      } catch (error) {
        subscription.unsubscribe();
        throw error;
      }
      reply.hijack();
      const raw = reply.raw;
      const send = (rollout: LiveRollout) => {
        if ((sentIds.get(rollout.uid) ?? 0) >= rollout.eventId || !matches(rollout)) return;
        sentIds.set(rollout.uid, rollout.eventId);
        const event = rollout.deletedAt ? 'deleted' : 'rollout';
        raw.write(`event: ${event}\nid: ${rollout.eventId}\ndata: ${JSON.stringify(rollout)}\n\n`);
      };
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      streams.add(raw);
      heartbeat ??= setInterval(beat, 15_000).unref();
      raw.write('retry: 1000\n\n');
      for (const rollout of first) send(rollout);
      // Where this stream is now, after what it sent: a client reconnecting before any change
      // resumes from here. Written after the events, so ids on the wire only ever increase.
      raw.write(
        `: current state sent\nid: ${Math.max(subscription.eventId, ...first.map((r) => r.eventId))}\n\n`,
      );
      for (const changes of pending.splice(0)) for (const rollout of changes) send(rollout);
      live = true;
      raw.on('close', () => {
        subscription.unsubscribe();
        streams.delete(raw);
        if (streams.size === 0) {
          clearInterval(heartbeat);
          heartbeat = undefined;
        }
      });
    },
  );

  app.get(
    '/api/v1/rollouts/:namespace/:name',
    {
      config: {
        auth: READ,
        api: {
          tag: 'rollouts',
          summary: "One Deployment's rollouts, newest first",
          params: historyParams,
          query: historyQuery,
          responses: {
            200: { description: 'its history', schema: rolloutHistorySchema },
            400: badQuery,
            404: problem('no rollout recorded for that Deployment'),
          },
        },
      },
    },
    async (request) => {
      const params = parseQuery(historyParams, request.params);
      const { limit } = parseQuery(historyQuery, request.query);
      const rollouts = await rolloutHistory(deps.store, params.namespace, params.name, limit);
      if (rollouts.length === 0) {
        throw new CadenceError('not-found', {
          field: 'name',
          detail: `no rollouts recorded for deployment ${params.namespace}/${params.name}`,
        });
      }
      return { namespace: params.namespace, deployment: params.name, rollouts };
    },
  );
}

/** Changes after `from` up to `until` (the feed brings the rest), oldest first. */
async function catchUp(store: Store, from: number, until: number): Promise<LiveRollout[]> {
  const changes: LiveRollout[] = [];
  let cursor = from;
  while (cursor < until) {
    const batch = await liveChangesSince(store, cursor);
    if (batch.length === 0) break;
    changes.push(...batch);
    cursor = batch[batch.length - 1]!.eventId;
    if (batch.length < 500) break;
  }
  return changes;
}
