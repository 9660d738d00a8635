import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../openapi.js';

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

/** `GET /openapi.json`: the API's OpenAPI 3.1 document, built once. */
export function registerOpenApiRoutes(app: FastifyInstance): void {
  const document = openApiDocument(packageVersion());
  app.get('/openapi.json', async () => document);
}
