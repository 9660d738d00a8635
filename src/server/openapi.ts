/**
 * The OpenAPI 3.1 document of Cadence's HTTP API, generated from the routes themselves: each
 * route declares its operation (`config.api`: summary, tag, the zod schemas it parses its path,
 * query and body with, its responses with the schemas of api-schemas.ts) beside its handler and
 * its `config.auth`. app.ts collects every route as it registers; a route that declares no
 * operation stops start-up, so the document cannot leave one out.
 */
import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import { problemSchema } from './api-schemas.js';

/** One answer of an operation. */
export interface ApiResponse {
  description: string;
  /** JSON body; absent for a body that is not JSON (contentType says what it is). */
  schema?: z.ZodType;
  contentType?: string;
}

/**
 * What a route says about itself for the document, in its `config.api`. The method and path are
 * the route's own; a route registered for several methods is one operation per method.
 *
 * @example
 * app.get('/api/v1/events', {
 *   config: {
 *     auth: { action: 'read' },
 *     api: { tag: 'events', summary: 'Raw events', query: eventListQuery,
 *            responses: { 200: { description: 'events', schema: eventListSchema }, 400: badQuery } },
 *   },
 * }, handler);
 */
export interface ApiOperation {
  summary: string;
  tag:
    | 'events'
    | 'metrics'
    | 'cadence'
    | 'rollouts'
    | 'canary'
    | 'deployer'
    | 'auth'
    | 'health'
    | 'dashboard';
  /** The query's schema, the one the handler parses `request.query` with. */
  query?: z.ZodObject;
  /** The path parameters' schema, the one the handler parses `request.params` with. */
  params?: z.ZodObject;
  /** Request media types accepted, with a description of the body (and its schema when JSON). */
  body?: { description: string; contentTypes: readonly string[]; schema?: z.ZodType };
  responses: Record<number, ApiResponse>;
}

/** `config.api`: the operation, or `undocumented` for a file that is not API (dashboard assets). */
export type RouteApi = ApiOperation | 'undocumented';

declare module 'fastify' {
  interface FastifyContextConfig {
    api?: RouteApi;
  }
}

/** A registered route as the document sees it. */
export interface DocumentedRoute {
  method: string;
  /** Fastify's form: `/api/v1/events/:seq`. */
  url: string;
  /** The action its `config.auth` declares (`public`, `read`, `deploy`, …). */
  action: string;
  operation: ApiOperation;
}

/** `GET /api/v1/events/:seq` (Fastify) → `get /api/v1/events/{seq}` (OpenAPI). */
export function operationKey(method: string, url: string): string {
  return `${method.toLowerCase()} ${openApiPath(url)}`;
}

function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export const problem = (description: string): ApiResponse => ({
  description,
  schema: problemSchema,
  contentType: 'application/problem+json',
});
export const badQuery = problem('a query or path parameter is invalid (field names it)');
export const unauthorized = problem('no token, or a token that is not valid');
export const forbidden = problem("the token's scope does not cover this service or action");

const SCOPE_API = Symbol('cadence.scopeApi');
type Scoped = object & { [SCOPE_API]?: (url: string) => RouteApi };

/**
 * The operation of every route a plugin registers in this (encapsulated) scope, for plugins whose
 * routes cannot carry a config of their own (the dashboard's @fastify/static files), by URL.
 */
export function declareScopeApi(scope: object, api: (url: string) => RouteApi): void {
  (scope as Scoped)[SCOPE_API] = api;
}

/**
 * A route's declared operation (its scope's, for a plugin's routes). A route without one is a
 * bug: start-up stops, as for a route without an auth action.
 */
export function declaredApi(
  route: Pick<RouteOptions, 'method' | 'url' | 'config'>,
  scope?: object,
): RouteApi {
  const api =
    (route.config as { api?: RouteApi } | undefined)?.api ??
    (scope as Scoped | undefined)?.[SCOPE_API]?.(route.url);
  if (!api) {
    throw new Error(
      `route ${[route.method].flat().join(',')} ${route.url} declares no OpenAPI operation (config.api)`,
    );
  }
  return api;
}

// Read and ingest need a token only when server.auth says so: the empty requirement is "none".
const OPENABLE = new Set(['read', 'ingest']);

type JsonSchema = Record<string, unknown>;

/**
 * Schemas with a `.meta({ id })` become `#/components/schemas/ID`; the rest are inlined.
 * zod writes the named ones under each converted schema's `$defs`: they are lifted out and
 * the references pointed at the components.
 */
function toSchema(
  schema: z.ZodType,
  components: Record<string, JsonSchema>,
  io: 'input' | 'output',
): JsonSchema {
  const text = JSON.stringify(z.toJSONSchema(schema, { io, unrepresentable: 'any' }));
  const json = JSON.parse(text.replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  const { $defs, ...rest } = json;
  delete rest.$schema;
  for (const [id, definition] of Object.entries($defs ?? {})) components[id] = definition;
  return rest;
}

function parametersOf(operation: ApiOperation, components: Record<string, JsonSchema>) {
  const parameters: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(operation.params?.shape ?? {})) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: toSchema(schema as z.ZodType, components, 'input'),
    });
  }
  for (const [name, schema] of Object.entries(operation.query?.shape ?? {})) {
    const type = schema as z.ZodType;
    parameters.push({
      name,
      in: 'query',
      required: !type.safeParse(undefined).success,
      schema: toSchema(type, components, 'input'),
    });
  }
  return parameters;
}

function responsesOf(
  statuses: Record<number, ApiResponse>,
  components: Record<string, JsonSchema>,
): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(statuses)) {
    const contentType = response.contentType ?? 'application/json';
    responses[status] = {
      description: response.description,
      ...(response.schema || response.contentType
        ? {
            content: {
              [contentType]: response.schema
                ? { schema: toSchema(response.schema, components, 'output') }
                : {},
            },
          }
        : {}),
    };
  }
  return responses;
}

function operationOf(route: DocumentedRoute, components: Record<string, JsonSchema>): JsonSchema {
  const { operation, action } = route;
  const path = openApiPath(route.url);
  const method = route.method.toLowerCase();
  const guarded = action !== 'public';
  const parameters = parametersOf(operation, components);
  const body = operation.body;
  const bodySchema = body?.schema ? { schema: toSchema(body.schema, components, 'input') } : {};
  return {
    operationId: `${method}${path.replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: operation.summary,
    tags: [operation.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            description: body.description,
            content: Object.fromEntries(body.contentTypes.map((type) => [type, bodySchema])),
          },
        }
      : {}),
    'x-cadence-action': action,
    security: !guarded
      ? []
      : OPENABLE.has(action)
        ? [{ bearer: [] }, { basic: [] }, {}]
        : [{ bearer: [] }, { basic: [] }],
    responses: responsesOf(
      guarded ? { 401: unauthorized, 403: forbidden, ...operation.responses } : operation.responses,
      components,
    ),
  };
}

/** The whole document, for `GET /openapi.json`: one operation per registered route and method. */
export function openApiDocument(version: string, routes: readonly DocumentedRoute[]): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operationOf(
      route,
      components,
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cadence',
      version,
      description:
        'Continuous delivery for Kubernetes that measures itself: events in, DORA metrics, patching cadence, rollouts and canary analysis out.',
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        basic: {
          type: 'http',
          scheme: 'basic',
          description: 'token name and secret (the deployer form http://NAME:SECRET@host)',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            "NAME:SECRET (or the secret alone). Each operation's x-cadence-action names the action the token needs; read and ingest are open unless server.auth requires them. See docs/security.md",
        },
      },
    },
  };
}
