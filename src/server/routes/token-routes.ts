import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createToken, listTokens, revokeToken, type Action } from '../../auth/index.js';
import type { Store } from '../../store/index.js';
import { parseJsonBody } from './git-routes.js';
import { parseQuery } from './query.js';

const ADMIN = { config: { auth: { action: 'admin' } } } as const;
const iso = (value: Date | null) => (value === null ? null : value.toISOString());

/** `POST /api/v1/tokens`: what `cadence token create` sends; the domain checks the rest. */
export const tokenCreateRequest = z.strictObject({
  name: z.string(),
  services: z.array(z.string()),
  actions: z.array(z.string()),
  sources: z.array(z.string()).optional(),
  expiresAt: z.iso.datetime().optional(),
});

/** Tokens for an `admin` token: the list (never a secret) and revocation. */
export function registerTokenRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get('/api/v1/tokens', ADMIN, async () => ({
    tokens: (await listTokens(deps.store)).map((token) => ({
      ...token,
      createdAt: token.createdAt.toISOString(),
      expiresAt: iso(token.expiresAt),
      lastUsedAt: iso(token.lastUsedAt),
    })),
  }));

  app.post('/api/v1/tokens', ADMIN, async (request, reply) => {
    const body = parseJsonBody(tokenCreateRequest, request.body);
    const created = await createToken(deps.store, {
      name: body.name,
      services: body.services,
      actions: body.actions as Action[],
      sources: body.sources ?? [],
      ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
    });
    return reply.code(201).send(created);
  });

  app.delete('/api/v1/tokens/:name', ADMIN, async (request, reply) => {
    const { name } = parseQuery(z.object({ name: z.string().min(1).max(64) }), request.params);
    await revokeToken(deps.store, name);
    return reply.code(204).send();
  });
}
