import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createToken, listTokens, revokeToken, type Action } from '../../auth/index.js';
import type { Store } from '../../store/index.js';
import { tokenCreatedSchema, tokenListSchema } from '../api-schemas.js';
import { badQuery, problem } from '../openapi.js';
import { parseJsonBody, parseQuery } from './parse-input.js';

const ADMIN = { action: 'admin' } as const;
const tokenParams = z.object({ name: z.string().min(1).max(64) });
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
  app.get(
    '/api/v1/tokens',
    {
      config: {
        auth: ADMIN,
        api: {
          tag: 'auth',
          summary: 'Every token: scope, expiry and last use (never a secret); an admin token',
          responses: { 200: { description: 'tokens', schema: tokenListSchema } },
        },
      },
    },
    async () => ({
      tokens: (await listTokens(deps.store)).map((token) => ({
        ...token,
        createdAt: token.createdAt.toISOString(),
        expiresAt: iso(token.expiresAt),
        lastUsedAt: iso(token.lastUsedAt),
      })),
    }),
  );

  app.post(
    '/api/v1/tokens',
    {
      config: {
        auth: ADMIN,
        api: {
          tag: 'auth',
          summary:
            'Mint a token (stored hashed; the secret is in this answer only); an admin token',
          body: {
            description: 'name, services, actions, and sources (ingest) and expiresAt (optional)',
            contentTypes: ['application/json'],
            schema: tokenCreateRequest,
          },
          responses: {
            201: { description: 'the name and the secret', schema: tokenCreatedSchema },
            400: problem('the request is invalid (field names it)'),
          },
        },
      },
    },
    async (request, reply) => {
      const body = parseJsonBody(tokenCreateRequest, request.body);
      const created = await createToken(deps.store, {
        name: body.name,
        services: body.services,
        actions: body.actions as Action[],
        sources: body.sources ?? [],
        ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
      });
      return reply.code(201).send(created);
    },
  );

  app.delete(
    '/api/v1/tokens/:name',
    {
      config: {
        auth: ADMIN,
        api: {
          tag: 'auth',
          summary: 'Revoke a token: its secret stops working at once; an admin token',
          params: tokenParams,
          responses: {
            204: { description: 'revoked' },
            400: badQuery,
            404: problem('no such token'),
          },
        },
      },
    },
    async (request, reply) => {
      const { name } = parseQuery(tokenParams, request.params);
      await revokeToken(deps.store, name);
      return reply.code(204).send();
    },
  );
}
