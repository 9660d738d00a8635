/**
 * server — the HTTP shell: Fastify routes over the domain modules, the problem+json error
 * handler, and the start-up wiring. No domain rules live here.
 */
export { buildApp, routesOf, type AppDeps, type RegisteredRoute } from './app.js';
export { openApiDocument, OPERATIONS, type ApiOperation } from './openapi.js';
export { startServer, type RunningServer } from './start-server.js';
