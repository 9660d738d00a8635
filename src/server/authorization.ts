import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import {
  ACTIONS,
  authenticate,
  authorize,
  INSECURE_DEV_PRINCIPAL,
  maySendFor,
  type Action,
  type Principal,
} from '../auth/index.js';
import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';

/** What a route needs: an action a token must hold, or `public` (health, the document, assets). */
export type RouteAction = Action | 'public';

/**
 * The authorization table's entry for one route, declared in its `config.auth` where the route
 * is registered. The one onRequest hook below enforces it, so no handler can forget to.
 */
export interface RouteAuth {
  action: RouteAction;
  /** The path parameter naming the service the action is on (its token must cover it). */
  serviceParam?: string;
  /** The path parameter naming the producer an `ingest` token must be allowed to send for. */
  sourceParam?: string;
  /**
   * Ask for a token even when `server.auth` leaves `read`/`ingest` open: the deployer's reads,
   * which always needed one.
   */
  always?: boolean;
  /** The route checks its own credential for this request (a webhook secret): no token asked. */
  selfAuthenticated?: (request: FastifyRequest) => boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The caller, once authenticated; undefined on an open route called without a token. */
    principal?: Principal;
  }
}

/** `server.auth`: which of the open-by-default actions require a token. */
export interface AuthSettings {
  /** Every GET of data (`/api/v1/*`, `/metrics`, `/deploy-frequency/*`). */
  read: boolean;
  /** `/events`, `/cdevents` and `/webhooks/{source}` of a source with no secret configured. */
  ingest: boolean;
  /** `--insecure-dev`: every route open, as if called with an all-powerful token. */
  insecureDev: boolean;
}

/** Actions open without a token unless `server.auth` says otherwise; the rest always need one. */
const OPENABLE = new Set<RouteAction>(['read', 'ingest']);

const SCOPE_AUTH = Symbol('cadence.scopeAuth');
type Scoped = FastifyInstance & { [SCOPE_AUTH]?: RouteAuth };

/**
 * The action of every route a plugin registers in this (encapsulated) scope, for plugins whose
 * routes cannot carry a config of their own (the dashboard's @fastify/static files).
 */
export function declareScopeAuth(scope: FastifyInstance, auth: RouteAuth): void {
  (scope as Scoped)[SCOPE_AUTH] = auth;
}

/** A route left without a declared action is a bug: refuse to start rather than leave it open. */
export function declaredAuth(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): RouteAuth {
  const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth;
  if (!auth) {
    throw new Error(
      `route ${[route.method].flat().join(',')} ${route.url} declares no auth action (config.auth)`,
    );
  }
  return auth;
}

// Basic first: the historical deployer's challenge, which curl-style clients answer.
const CHALLENGE = 'Basic realm="cadence", charset="UTF-8", Bearer realm="cadence"';

/** Whether a request with this route's declaration needs a token under these settings. */
export function needsToken(auth: RouteAuth, settings: AuthSettings): boolean {
  if (auth.action === 'public' || settings.insecureDev) return false;
  if (!OPENABLE.has(auth.action) || auth.always) return true;
  return auth.action === 'read' ? settings.read : settings.ingest;
}

function param(request: FastifyRequest, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const value = (request.params as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Whether a request carries this server's local credential (the one in the data directory's
 * discovery file) from this machine: over loopback, or from the very address it reached (a
 * server bound to one non-loopback address is reached there, and the kernel sends a connection
 * from this machine to its own address from that address). Whoever can read that file could
 * open the data directory itself, so it may do what the directory's owner may; from elsewhere
 * it is nothing.
 */
export function isLocalCredential(
  header: string | undefined,
  socket: { remoteAddress?: string | undefined; localAddress?: string | undefined },
  credential: string | undefined,
): boolean {
  const { remoteAddress, localAddress } = socket;
  const fromHere =
    LOOPBACK.test(remoteAddress ?? '') ||
    (remoteAddress !== undefined && remoteAddress === localAddress);
  if (!credential || !header || !fromHere) return false;
  const match = /^bearer\s+(.+)$/i.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(credential);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const LOCAL_PRINCIPAL: Principal = {
  name: 'cadence-local',
  services: ['*'],
  actions: ACTIONS,
  sources: ['*'],
};

/**
 * Enforces every route's declared action: one onRequest hook, and an onRoute check that fails
 * start-up for a route registered without a declaration. 401 (with `WWW-Authenticate`) without a
 * token or with a bad one, 403 when the token's actions, services or sources do not cover it.
 */
export function enforceAuthorization(
  app: FastifyInstance,
  deps: { store: Store; settings: AuthSettings; localCredential?: string | undefined },
): void {
  const { settings } = deps;
  app.addHook('onRoute', function (this: FastifyInstance, route) {
    const scoped = (this as Scoped)[SCOPE_AUTH];
    if (scoped && !(route.config as { auth?: RouteAuth } | undefined)?.auth) {
      route.config = { ...route.config, auth: scoped };
    }
    declaredAuth(route);
  });

  async function principalOf(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    if (settings.insecureDev) return INSECURE_DEV_PRINCIPAL;
    const { authorization } = request.headers;
    if (isLocalCredential(authorization, request.socket, deps.localCredential)) {
      return LOCAL_PRINCIPAL;
    }
    try {
      return await authenticate(deps.store, request.headers.authorization);
    } catch (error) {
      reply.header('www-authenticate', CHALLENGE);
      throw error;
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    // The not-found handler has no declaration: it answers 404 whoever asks.
    const auth = (request.routeOptions.config as { auth?: RouteAuth }).auth;
    if (!auth || auth.action === 'public') return;
    if (auth.selfAuthenticated?.(request)) return;
    if (!needsToken(auth, settings)) {
      // Open intake still takes a token when one is sent: it vouches for guarded sources.
      if (
        auth.action === 'ingest' &&
        auth.sourceParam === undefined &&
        request.headers.authorization
      ) {
        request.principal = await principalOf(request, reply);
      } else if (settings.insecureDev) {
        request.principal = INSECURE_DEV_PRINCIPAL;
      }
      return;
    }
    const principal = await principalOf(request, reply);
    authorize(principal, auth.action, param(request, auth.serviceParam));
    const source = param(request, auth.sourceParam);
    if (source !== undefined && !maySendFor(principal, source)) {
      throw new CadenceError('forbidden', {
        field: 'authorization',
        detail: `token ${principal.name} may not send events for ${source}`,
      });
    }
    request.principal = principal;
  });
}
