import type { FastifyInstance } from 'fastify';
import { cadenceVersion } from '../../version/index.js';
import { openApiDocument } from '../openapi.js';

/** `GET /openapi.json`: the API's OpenAPI 3.1 document, built once. */
export function registerOpenApiRoutes(app: FastifyInstance): void {
  const document = openApiDocument(cadenceVersion());
  app.get('/openapi.json', async () => document);
}
