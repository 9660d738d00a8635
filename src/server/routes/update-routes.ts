import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authorize } from '../../auth/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import {
  approveUpdate,
  getUpdate,
  listUpdates,
  type Update,
  type UpdateWatcher,
} from '../../updates/index.js';
import { updateListSchema, updateSchema } from '../api-schemas.js';
import { badQuery, forbidden, problem, unauthorized } from '../openapi.js';
import { parseInput } from './parse-input.js';

export const updateListQuery = z.strictObject({
  service: z.string().min(1).max(63).optional(),
  all: z.enum(['true', 'false']).optional(),
});
const updateParams = z.strictObject({ id: z.string().regex(/^[0-9]{1,15}$/, 'must be a number') });

const iso = (value: Date | null) => (value === null ? null : value.toISOString());

/** An update as the API shows it; the lead time runs from the tag's first sighting. */
export function updateJson(update: Update) {
  return {
    ...update,
    firstSeenAt: update.firstSeenAt.toISOString(),
    approvedAt: iso(update.approvedAt),
    startedAt: iso(update.startedAt),
    finishedAt: iso(update.finishedAt),
    leadTimeFrom: 'first-seen' as const,
  };
}

/**
 * Continuous updates over HTTP: the updates in flight and each service's freshness, and the
 * approval of a pending update (a deployer token allowed to start a canary of that service).
 */
export function registerUpdateRoutes(
  app: FastifyInstance,
  deps: { store: Store; watcher: UpdateWatcher; insecureDev: boolean },
): void {
  app.get(
    '/api/v1/updates',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'canary',
          summary:
            'Continuous updates not finished (all with all=true), and per service its freshness: current version, newest tag, versions behind',
          query: updateListQuery,
          responses: { 200: { description: 'updates', schema: updateListSchema }, 400: badQuery },
        },
      },
    },
    async (request) => {
      const { service, all } = parseInput(updateListQuery, request.query, 'query');
      const updates = await listUpdates(deps.store, {
        ...(service ? { service } : {}),
        open: all !== 'true',
      });
      return {
        updates: updates.map(updateJson),
        services: deps.watcher
          .freshness()
          .filter((entry) => !service || entry.service === service)
          .map((entry) => ({ ...entry, update: entry.update ?? null })),
      };
    },
  );

  app.post(
    '/api/v1/updates/:id/approve',
    {
      config: {
        auth: { action: 'canary' },
        api: {
          tag: 'canary',
          summary:
            "Approve a pending update: its canary starts (a token with the service's canary action)",
          params: updateParams,
          responses: {
            200: { description: 'approved (or already approved)', schema: updateSchema },
            400: badQuery,
            401: unauthorized,
            403: forbidden,
            404: problem('no such update'),
            409: problem('the update is finished (superseded, promoted or rolled back)'),
          },
        },
      },
    },
    async (request: FastifyRequest) => {
      const params = parseInput(updateParams, request.params, 'id');
      // The authorization hook authenticated the caller (config.auth); the service is known here.
      const caller = request.principal!;
      const id = Number(params.id);
      const update = await getUpdate(deps.store, id);
      if (!update) {
        throw new CadenceError('not-found', { field: 'id', detail: `no update ${id}` });
      }
      authorize(caller, 'canary', update.service);
      const approved = await approveUpdate(deps.store, id, caller.name, new Date());
      if (!approved || (approved.state !== 'approved' && approved.approvedBy === null)) {
        throw new CadenceError('conflict', {
          field: 'id',
          detail: `update ${id} is ${approved?.state ?? 'gone'}, not pending`,
        });
      }
      // Start its canary now rather than at the next interval (the watcher catches its errors).
      void deps.watcher.tick({ force: true });
      return updateJson(approved);
    },
  );
}
