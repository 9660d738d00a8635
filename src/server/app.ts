import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AnalysisSettings } from '../analysis/index.js';
import type { Deployer } from '../deploy/index.js';
import type { DoraSettings } from '../dora/index.js';
import type { Intake } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { WebhookReceiver } from '../sources/index.js';
import type { Store } from '../store/index.js';
import type { UpdateWatcher } from '../updates/index.js';
import { enforceAuthorization, type AuthSettings, type RouteAction } from './authorization.js';
import { declaredApi, type RouteApi } from './openapi.js';
import {
  handleClientError,
  handleError,
  handleFrameworkError,
  sendNotFound,
} from './problem-handler.js';
import { checkRequestLimits } from './request-limits.js';
import { registerAnalysisRoutes } from './routes/analysis-routes.js';
import { registerCadenceRoutes } from './routes/cadence-routes.js';
import { registerDashboardRoutes } from './routes/dashboard-routes.js';
import { registerDeployRoutes } from './routes/deploy-routes.js';
import { registerTrafficRoutes } from './routes/traffic-routes.js';
import { registerGitRoutes } from './routes/git-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { registerOpenApiRoutes } from './routes/openapi-routes.js';
import { registerPrometheusRoutes } from './routes/prometheus-routes.js';
import { registerRolloutRoutes } from './routes/rollout-routes.js';
import { registerTimelineRoutes } from './routes/timeline-routes.js';
import { registerTokenRoutes } from './routes/token-routes.js';
import { registerUpdateRoutes } from './routes/update-routes.js';
import { registerWebhookRoutes } from './routes/webhook-routes.js';

export interface AppDeps {
  store: Store;
  intake: Intake;
  logger: Logger;
  bodyLimitBytes: number;
  /** Request, headers and keep-alive timeouts (the config's `server` section); Node's when absent. */
  timeouts?: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number };
  /** Receivers for `POST /webhooks/{source}`, by name; none when absent. */
  webhookReceivers?: ReadonlyMap<string, WebhookReceiver>;
  /** DORA settings from the config; defaults when absent. */
  dora?: DoraSettings;
  /** The built dashboard's folder; `dist/web` when absent. */
  dashboardDir?: string;
  /** The deployer's routes, when the deployer is enabled. */
  deployer?: { deployer: Deployer; insecureDev: boolean };
  /** How often the rollouts streams' shared feed looks for changes (default 250 ms). */
  rolloutStreamPollMs?: number;
  /** Most rollouts streams open at once (`kube.rolloutStreams`, default 100). */
  rolloutStreams?: number;
  /** Canary analysis settings from the config; defaults when absent. */
  analysis?: AnalysisSettings;
  /** Told when an analysis is started over the API (wakes the runner). */
  onAnalysisStarted?: () => void;
  /** The continuous-updates routes and freshness gauge, when updates are enabled. */
  updates?: { watcher: UpdateWatcher; insecureDev: boolean };
  /**
   * `server.auth`: whether reads and intake need a token (both open when absent). The other
   * actions always do, unless the deployer runs with `--insecure-dev`.
   */
  auth?: { read: boolean; ingest: boolean };
  /** Sources whose webhook receiver checks a configured secret (see securedSources). */
  securedSources?: ReadonlySet<string>;
  /** The discovery file's credential, accepted from loopback only (embedded store). */
  localCredential?: string;
  /** Where `POST /api/v1/cadence/imports` mirrors URL sources (the data directory's). */
  gitMirrorDir?: string;
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** The action the route declared (config.auth): the authorization table. */
  action: RouteAction;
  /** Its operation in the OpenAPI document (config.api), or `undocumented` (a dashboard file). */
  api: RouteApi;
}

const registeredRoutes = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route an app built by buildApp registered, as the OpenAPI document is built from them. */
export function routesOf(app: FastifyInstance): RegisteredRoute[] {
  return registeredRoutes.get(app) ?? [];
}

/**
 * The HTTP shell: routes only, each a thin call into a domain module. Bodies reach the routes
 * as raw bytes; the domain decodes them (CloudEvents needs the bytes and headers together).
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    // One log line per request would dominate the log at intake rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Idle keep-alive connections are closed on shutdown; in-flight requests are let finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    ...(deps.timeouts
      ? {
          requestTimeout: deps.timeouts.requestTimeoutMs,
          keepAliveTimeout: deps.timeouts.keepAliveTimeoutMs,
          http: {
            headersTimeout: deps.timeouts.headersTimeoutMs,
            // Node checks the two timeouts this often (default 30 s, which would double them).
            connectionsCheckingInterval: Math.min(1000, deps.timeouts.headersTimeoutMs),
          },
        }
      : {}),
    // Errors before a route runs (an undecodable URL, broken HTTP) are problem+json as well.
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(sendNotFound);
  app.addHook('preValidation', checkRequestLimits);
  const routes: RegisteredRoute[] = [];
  registeredRoutes.set(app, routes);
  const authSettings: AuthSettings = {
    read: deps.auth?.read ?? false,
    ingest: deps.auth?.ingest ?? false,
    insecureDev: deps.deployer?.insecureDev ?? false,
  };
  // Before any route: every route registered after this must declare its action.
  enforceAuthorization(app, {
    store: deps.store,
    settings: authSettings,
    localCredential: deps.localCredential,
  });
  // Every route registered after this must describe its operation too (config.api): the
  // OpenAPI document is made of these declarations, so a route without one stops start-up.
  app.addHook('onRoute', function (this: FastifyInstance, route) {
    const action = (route.config as { auth?: { action: RouteAction } }).auth!.action;
    const api = declaredApi(route, this);
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, action, api });
    }
  });
  registerHealthRoutes(app, deps.store);
  const { eventsAccepted } = registerPrometheusRoutes(app, deps);
  registerEventRoutes(app, {
    ...deps,
    onAccepted: (endpoint, count) => eventsAccepted.inc({ endpoint }, count),
  });
  registerWebhookRoutes(app, {
    intake: deps.intake,
    receivers: deps.webhookReceivers ?? new Map(),
    secured: deps.securedSources ?? new Set(),
    onAccepted: (endpoint, count) => eventsAccepted.inc({ endpoint }, count),
  });
  registerMetricsRoutes(app, deps);
  registerCadenceRoutes(app, deps);
  registerGitRoutes(app, {
    store: deps.store,
    mirrorDir: deps.gitMirrorDir ?? join('.cadence', 'git-mirrors'),
  });
  registerTimelineRoutes(app, deps);
  registerRolloutRoutes(app, {
    store: deps.store,
    streamPollMs: deps.rolloutStreamPollMs,
    maxStreams: deps.rolloutStreams,
  });
  if (deps.deployer) {
    registerDeployRoutes(app, { ...deps.deployer, store: deps.store });
    registerTrafficRoutes(app, { deployer: deps.deployer.deployer, store: deps.store });
  }
  registerAnalysisRoutes(app, { ...deps, deployer: deps.deployer?.deployer });
  registerTokenRoutes(app, deps);
  if (deps.updates) registerUpdateRoutes(app, { ...deps.updates, store: deps.store });
  registerOpenApiRoutes(app, () => routes);
  registerDashboardRoutes(app, deps.dashboardDir);
  return app;
}
