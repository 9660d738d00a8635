/**
 * server — the HTTP shell: Fastify routes over the domain modules, the problem+json error
 * handler, and the start-up wiring. No domain rules live here.
 */
export { startServer } from './start-server.js';
