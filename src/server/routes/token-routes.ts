import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listTokens, revokeToken } from '../../auth/index.js';
import type { Store } from '../../store/index.js';
import { parseQuery } from './query.js';

const ADMIN = { config: { auth: { action: 'admin' } } } as const;
const iso = (value: Date | null) => (value === null ? null : value.toISOString());

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

  app.delete('/api/v1/tokens/:name', ADMIN, async (request, reply) => {
    const { name } = parseQuery(z.object({ name: z.string().min(1).max(64) }), request.params);
    await revokeToken(deps.store, name);
    return reply.code(204).send();
  });
}
