import type { FastifyInstance } from 'fastify';
import { cadenceVersion } from '../../version/index.js';
import { openApiDocument, operationKey } from '../openapi.js';

/**
 * `GET /openapi.json`: the API's OpenAPI 3.1 document, built once at the first request, when
 * every route has registered: each operation's security comes from the action its route declared.
 */
export function registerOpenApiRoutes(
  app: FastifyInstance,
  routes: () => readonly { method: string; url: string; action: string }[] = () => [],
): void {
  let document: ReturnType<typeof openApiDocument> | undefined;
  app.get('/openapi.json', { config: { auth: { action: 'public' } } }, async () => {
    document ??= openApiDocument(
      cadenceVersion(),
      undefined,
      new Map(routes().map((route) => [operationKey(route.method, route.url), route.action])),
    );
    return document;
  });
}
