import type { FastifyInstance } from 'fastify';
import { cadenceVersion } from '../../version/index.js';
import { openApiDocument, type DocumentedRoute, type RouteApi } from '../openapi.js';

/**
 * `GET /openapi.json`: the API's OpenAPI 3.1 document, built once at the first request, when
 * every route has registered, from what each route declared: its operation (`config.api`) and
 * the action its caller needs (`config.auth`).
 */
export function registerOpenApiRoutes(
  app: FastifyInstance,
  routes: () => readonly { method: string; url: string; action: string; api: RouteApi }[],
): void {
  let document: ReturnType<typeof openApiDocument> | undefined;
  app.get(
    '/openapi.json',
    {
      config: {
        auth: { action: 'public' },
        api: {
          tag: 'health',
          summary: 'This document',
          responses: { 200: { description: 'OpenAPI 3.1' } },
        },
      },
    },
    async () => {
      document ??= openApiDocument(
        cadenceVersion(),
        routes().flatMap(({ api, ...route }): DocumentedRoute[] =>
          api === 'undocumented' ? [] : [{ ...route, operation: api }],
        ),
      );
      return document;
    },
  );
}
