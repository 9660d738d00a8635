/**
 * server — the HTTP shell: Fastify routes over the domain modules, the problem+json error
 * handler, and the start-up wiring. No domain rules live here.
 */
export { buildApp, type AppDeps } from './app.js';
export { startServer, type RunningServer } from './start-server.js';
