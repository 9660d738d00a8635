import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { CadenceError } from '../../problem/index.js';
import {
  latestRollouts,
  ROLLOUT_PHASES,
  rolloutHistory,
  rolloutsUpdatedSince,
  type Rollout,
} from '../../rollouts/index.js';
import type { Store } from '../../store/index.js';
import { parseQuery } from './query.js';

const name = z.string().min(1).max(253);

export const rolloutFilterQuery = z.strictObject({
  namespace: name.optional(),
  deployment: name.optional(),
  phase: z.enum(ROLLOUT_PHASES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const READ = { config: { auth: { action: 'read' } } } as const;

export const rolloutStreamQuery = rolloutFilterQuery.omit({ limit: true });

/**
 * Rollouts as the watcher recorded them: `GET /api/v1/rollouts` (the latest of each Deployment:
 * live progress), `GET /api/v1/rollouts/{namespace}/{name}` (one Deployment's history) and
 * `GET /api/v1/rollouts/stream`, server-sent events (`event: rollout`, the rollout as JSON) with
 * the current state first, then every change. They read the store, so any replica serves them,
 * whichever replica's watcher recorded the rollout.
 */
export function registerRolloutRoutes(
  app: FastifyInstance,
  deps: { store: Store; streamPollMs?: number | undefined },
): void {
  const streams = new Set<ServerResponse>();
  // Open streams would hold a graceful shutdown until its timeout.
  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.end();
    done();
  });

  app.get('/api/v1/rollouts', READ, async (request) => {
    const query = parseQuery(rolloutFilterQuery, request.query);
    return { rollouts: await latestRollouts(deps.store, query) };
  });

  app.get('/api/v1/rollouts/stream', READ, async (request, reply) => {
    const query = parseQuery(rolloutStreamQuery, request.query);
    const matches = (rollout: Rollout) =>
      (!query.namespace || rollout.namespace === query.namespace) &&
      (!query.deployment || rollout.deployment === query.deployment) &&
      (!query.phase || rollout.phase === query.phase);
    const snapshotAt = new Date();
    const current = await latestRollouts(deps.store, { ...query, limit: 1000 });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    streams.add(raw);
    const sent = new Map<number, string>();
    const send = (rollout: Rollout) => {
      if (sent.get(rollout.id) === rollout.updatedAt) return;
      sent.set(rollout.id, rollout.updatedAt);
      raw.write(`event: rollout\nid: ${rollout.id}\ndata: ${JSON.stringify(rollout)}\n\n`);
    };
    // Changes from the snapshot on are polled; one sent already is not sent twice.
    let since = snapshotAt;
    for (const rollout of current.reverse()) send(rollout);
    raw.write(': current state sent\n\n');
    let polling = false;
    let beats = 0;
    const timer = setInterval(() => {
      if (polling) return;
      polling = true;
      // Rows written in the same millisecond as the last one sent are asked for again (>=).
      rolloutsUpdatedSince(deps.store, new Date(since.getTime() - 1))
        .then((rows) => {
          for (const rollout of rows) {
            if (new Date(rollout.updatedAt) > since) since = new Date(rollout.updatedAt);
            if (matches(rollout)) send(rollout);
          }
          // A comment now and then keeps proxies from closing an idle stream.
          if (++beats % 60 === 0) raw.write(': keep-alive\n\n');
        })
        .catch((error: unknown) => request.log.warn({ error }, 'rollout stream poll failed'))
        .finally(() => {
          polling = false;
        });
    }, deps.streamPollMs ?? 250);
    raw.on('close', () => {
      clearInterval(timer);
      streams.delete(raw);
    });
  });

  app.get('/api/v1/rollouts/:namespace/:name', READ, async (request) => {
    const params = parseQuery(z.object({ namespace: name, name }), request.params);
    const { limit } = parseQuery(rolloutFilterQuery.pick({ limit: true }), request.query);
    const rollouts = await rolloutHistory(deps.store, params.namespace, params.name, limit);
    if (rollouts.length === 0) {
      throw new CadenceError('not-found', {
        field: 'name',
        detail: `no rollouts recorded for deployment ${params.namespace}/${params.name}`,
      });
    }
    return { namespace: params.namespace, deployment: params.name, rollouts };
  });
}
