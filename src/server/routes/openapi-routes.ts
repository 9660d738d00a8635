import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { openApiDocument, operationKey } from '../openapi.js';

// package.json sits at the package root: above src/server/routes, and above dist/src/server/routes.
function packageVersion(): string {
  for (const up of ['../../../package.json', '../../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === 'cadence' && json.version) return json.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
}

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
      packageVersion(),
      undefined,
      new Map(routes().map((route) => [operationKey(route.method, route.url), route.action])),
    );
    return document;
  });
}
