import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { CadenceError } from '../../problem/index.js';
import { declareScopeAuth } from '../authorization.js';
import { declareScopeApi, problem, type ApiOperation } from '../openapi.js';

/**
 * Where `npm run build` puts the dashboard (Vite, from `web/`). This file is three folders deep
 * both as source (src/server/routes) and as built code (dist/server/routes), so one relative
 * path finds the same `dist/web` from either.
 */
const dashboard: ApiOperation = {
  tag: 'dashboard',
  summary: 'The web dashboard (its assets are served beside it)',
  responses: {
    200: { description: 'the dashboard', contentType: 'text/html' },
    404: problem('the dashboard was not built (npm run build)'),
  },
};

export const builtDashboardDir = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/**
 * The dashboard at `/`: the built files, each registered as its own route (no wildcard), so API
 * and webhook routes keep priority and an unknown path is the usual problem+json 404. Hashed
 * assets are cached for good; index.html is revalidated so a new build is picked up at once.
 */
export function registerDashboardRoutes(
  app: FastifyInstance,
  dashboardDir: string = builtDashboardDir,
): void {
  if (!existsSync(`${dashboardDir}/index.html`)) {
    // A source checkout that was never built: say so instead of a bare 404.
    app.get('/', { config: { auth: { action: 'public' }, api: dashboard } }, async () => {
      throw new CadenceError('not-found', {
        field: 'dashboard',
        detail: 'the dashboard is not built: run npm run build',
      });
    });
    return;
  }
  // The built files are public: the data they show comes from the API, which checks its callers.
  void app.register(async (scope) => {
    declareScopeAuth(scope, { action: 'public' });
    // `/` is the dashboard in the document; its files (index.html, hashed assets) are not API.
    declareScopeApi(scope, (url) => (url === '/' ? dashboard : 'undocumented'));
    await scope.register(fastifyStatic, {
      root: dashboardDir,
      prefix: '/',
      wildcard: false,
      index: 'index.html',
      cacheControl: false,
      setHeaders(reply, path) {
        reply.header(
          'cache-control',
          path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  });
}
