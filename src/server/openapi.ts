/**
 * The OpenAPI 3.1 document of Cadence's HTTP API, generated from the same zod schemas the
 * routes parse their input with (routes/*.ts) and the response schemas in api-schemas.ts.
 * Every route the app registers must appear in OPERATIONS: a test fails otherwise, and checks
 * real responses against the document.
 */
import { z } from 'zod';
import {
  analysisDetailSchema,
  analysisListSchema,
  analysisSchema,
  cadenceReportSchema,
  cdeventListSchema,
  deployerServiceListSchema,
  deployerServiceSchema,
  deployerTagsSchema,
  deployerVersionSchema,
  deployResultSchema,
  deployFrequencySchema,
  deploymentListSchema,
  incidentListSchema,
  rolloutHistorySchema,
  updateListSchema,
  updateSchema,
  rolloutListSchema,
  serviceCatalogueSchema,
  eventDetailSchema,
  eventListSchema,
  healthSchema,
  cadenceVersionSchema,
  intakeResultSchema,
  metricSeriesSchema,
  metricsReportSchema,
  problemSchema,
  readinessSchema,
  repositoryListSchema,
  tokenListSchema,
  tokenCreatedSchema,
  sqlResultSchema,
  trafficStepsSchema,
} from './api-schemas.js';
import { analysisListQuery } from './routes/analysis-routes.js';
import { cadenceReportQuery } from './routes/cadence-routes.js';
import { deployRequestSchema, rollbackRequestSchema } from './routes/deploy-routes.js';
import { cdeventListQuery, eventListQuery } from './routes/event-routes.js';
import { metricsQuery, streamFilter } from './routes/metrics-routes.js';
import { rolloutFilterQuery, rolloutStreamQuery } from './routes/rollout-routes.js';
import { timelineQuery } from './routes/timeline-routes.js';
import { updateListQuery } from './routes/update-routes.js';
import { webhookSourceNames } from '../sources/index.js';
import { BUCKETS } from '../statistics/index.js';

type Method = 'get' | 'post' | 'put' | 'delete';

interface Response {
  description: string;
  /** JSON body; absent for a body that is not JSON (contentType says what it is). */
  schema?: z.ZodType;
  contentType?: string;
}

/** One operation, described for the document. Paths use OpenAPI's `{param}` form. */
export interface ApiOperation {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  query?: z.ZodObject;
  /** Path parameters: name → schema (strings unless said otherwise). */
  params?: Record<string, z.ZodType>;
  /** Request media types accepted, with a description of the body. */
  body?: { description: string; contentTypes: string[] };
  responses: Record<number, Response>;
}

/** Each operation's declared action (`GET /api/v1/events` → `read`), from the app's routes. */
export type OperationActions = ReadonlyMap<string, string>;

/** `GET /api/v1/events/:seq` (Fastify) → `get /api/v1/events/{seq}` (OpenAPI). */
export function operationKey(method: string, url: string): string {
  return `${method.toLowerCase()} ${url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
}

// Read and ingest need a token only when server.auth says so: the empty requirement is "none".
const OPENABLE = new Set(['read', 'ingest']);

const problem = (description: string): Response => ({
  description,
  schema: problemSchema,
  contentType: 'application/problem+json',
});
const badQuery = problem('a query or path parameter is invalid (field names it)');
const intake = {
  202: { description: 'stored durably (or already stored)', schema: intakeResultSchema },
  400: problem('an event is invalid; nothing is stored (field names it)'),
  413: problem('over the body limit'),
  415: problem('not a media type this endpoint accepts'),
};
/** /events and /cdevents: producers there are told to back off when the router is behind. */
const producerIntake = {
  ...intake,
  429: problem(
    'the router is behind (more than router.maxBacklog events unrouted): nothing stored; retry after the Retry-After header (field: backlog)',
  ),
};

const unauthorized = problem('no token, or a token that is not valid');
const forbidden = problem("the token's scope does not cover this service or action");
const noService = problem('no such service in the configuration');
const name = { name: z.string() };

/**
 * The deployer's routes, under `/api/v1/services` and the historical `/deployer` (PUT or POST;
 * `deploy_canary` too). Registered only when the deployer is enabled.
 */
function deployerOperations(): ApiOperation[] {
  const operations: ApiOperation[] = [];
  const reads = [
    ['', 'Services the token may read, with their stable and canary versions'],
    ['/{name}', 'One service: configuration, versions, recent operations'],
    ['/{name}/tags', "Image tags in the registry for the service's images"],
    ['/{name}/version', 'Stable, canary and the kept previous versions (newest first)'],
  ] as const;
  const readSchemas = {
    '': deployerServiceListSchema,
    '/{name}': deployerServiceSchema,
    '/{name}/tags': deployerTagsSchema,
    '/{name}/version': deployerVersionSchema,
  };
  const actions = [
    ['deploy', 'Deploy stable at a commit or tag (a canary of another version is removed)'],
    ['canary', 'Start a canary at a commit or tag beside stable'],
    ['promote', "Make the canary's version stable and remove the canary"],
    [
      'rollback',
      'Remove the canary, or return stable to the previous version (or `to` any kept version)',
    ],
  ] as const;
  for (const prefix of ['/api/v1/services', '/deployer']) {
    for (const [suffix, summary] of reads) {
      operations.push({
        method: 'get',
        path: `${prefix}${suffix}`,
        tag: 'deployer',
        summary,
        ...(suffix ? { params: name } : {}),
        responses: {
          200: { description: 'the answer', schema: readSchemas[suffix] },
          401: unauthorized,
          403: forbidden,
          ...(suffix ? { 404: noService } : {}),
        } as Record<number, Response>,
      });
    }
    const paths = [
      ...actions.map(([action, summary]) => [`${prefix}/{name}/${action}`, summary] as const),
      ...(prefix === '/deployer'
        ? [['/deployer/{name}/deploy_canary', 'The historical name of the canary path'] as const]
        : []),
    ];
    for (const [path, summary] of paths) {
      const rollback = path.endsWith('/rollback');
      for (const method of ['post', 'put'] as const) {
        operations.push({
          method,
          path,
          tag: 'deployer',
          summary,
          params: name,
          query: rollback ? rollbackRequestSchema : deployRequestSchema,
          body: {
            description: rollback
              ? '`to`: a kept previous version (version, tag or commit; see `/version`); the body wins over the query'
              : '`commit` and/or `tag` (deploy, canary); the body wins over the query',
            contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
          },
          responses: {
            200: { description: 'applied', schema: deployResultSchema },
            400: problem(
              'commit or tag missing or malformed; an image tag missing in the registry; an invalid manifest',
            ),
            401: unauthorized,
            403: forbidden,
            404: problem(
              rollback
                ? 'no such service, or `to` names no kept version (the kept ones are listed)'
                : 'no such service, or the commit or tag is not in the repository',
            ),
            409: problem('not possible now (no stable yet, no canary to promote, …)'),
            415: problem('neither form-encoded nor JSON'),
            503: problem('the cluster or the registry did not answer'),
          },
        });
      }
    }
  }
  operations.push({
    method: 'get',
    path: '/api/v1/services/{name}/steps',
    tag: 'deployer',
    summary: "The canary's traffic steps: step, weight, pause and confirmation",
    params: name,
    responses: {
      200: { description: 'the answer', schema: trafficStepsSchema },
      401: unauthorized,
      403: forbidden,
      404: noService,
    },
  });
  const stepActions = [
    ['pause', 'Hold the canary at its traffic step (the analysis keeps judging)'],
    ['resume', 'Let the canary move through its traffic steps again'],
    ['confirm', 'Allow the promotion after the last step (strategy.confirmPromotion)'],
  ] as const;
  for (const [action, summary] of stepActions) {
    for (const method of ['post', 'put'] as const) {
      operations.push({
        method,
        path: `/api/v1/services/{name}/${action}`,
        tag: 'deployer',
        summary,
        params: name,
        responses: {
          200: { description: 'the steps now', schema: trafficStepsSchema },
          401: unauthorized,
          403: forbidden,
          404: noService,
          409: problem('the service has no traffic steps (field strategy) or no canary'),
        },
      });
    }
  }
  return operations;
}

export const OPERATIONS: ApiOperation[] = [
  {
    method: 'post',
    path: '/events',
    tag: 'events',
    summary: 'CloudEvents 1.0 HTTP binding: binary, structured or batched',
    body: {
      description: 'a CloudEvent; dev.cdevents.* types must carry a valid CDEvent',
      contentTypes: [
        'application/cloudevents+json',
        'application/cloudevents-batch+json',
        'application/json',
        '*/*',
      ],
    },
    responses: producerIntake,
  },
  {
    method: 'post',
    path: '/cdevents',
    tag: 'events',
    summary: 'A CDEvent (0.3, 0.4, 0.5), bare or wrapped in a CloudEvent',
    body: {
      description: 'a CDEvent',
      contentTypes: ['application/json', 'application/cloudevents+json'],
    },
    responses: producerIntake,
  },
  {
    method: 'post',
    path: '/webhooks/{source}',
    tag: 'events',
    summary: "A producer's own webhook payload, checked (signature, token) and stored",
    params: { source: z.enum(webhookSourceNames()) },
    body: { description: "the producer's payload", contentTypes: ['application/json'] },
    responses: {
      ...intake,
      401: problem('signature or token missing or wrong; nothing is stored'),
      404: problem('no such source'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/events',
    tag: 'events',
    summary: 'Raw events in arrival order',
    query: eventListQuery,
    responses: { 200: { description: 'events', schema: eventListSchema }, 400: badQuery },
  },
  {
    method: 'get',
    path: '/api/v1/events/{seq}',
    tag: 'events',
    summary: 'One event and the CDEvents routed from it',
    params: { seq: z.int().min(1) },
    responses: {
      200: { description: 'the event', schema: eventDetailSchema },
      400: badQuery,
      404: problem('no such event'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/cdevents',
    tag: 'events',
    summary: 'Stored CDEvents',
    query: cdeventListQuery,
    responses: { 200: { description: 'CDEvents', schema: cdeventListSchema }, 400: badQuery },
  },
  {
    method: 'get',
    path: '/api/v1/metrics',
    tag: 'metrics',
    summary: 'The five DORA metrics over a window (default: the last 90 days), with tiers',
    query: metricsQuery,
    responses: {
      200: { description: 'the report', schema: metricsReportSchema },
      400: badQuery,
      404: problem('no service belongs to the team'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/metrics/{metric}',
    tag: 'metrics',
    summary: "One metric's series per bucket (default week)",
    params: { metric: metricSeriesSchema.shape.metric },
    query: metricsQuery,
    responses: {
      200: { description: 'the series', schema: metricSeriesSchema },
      400: badQuery,
      404: problem('no service belongs to the team'),
    },
  },
  {
    method: 'get',
    path: '/deploy-frequency/{bucket}',
    tag: 'metrics',
    summary:
      'Successful deployments per service and bucket (seed-compatible; every environment unless one is asked for)',
    params: { bucket: z.enum(BUCKETS) },
    query: streamFilter,
    responses: { 200: { description: 'counts', schema: deployFrequencySchema }, 400: badQuery },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'metrics',
    summary: 'Prometheus exposition: DORA gauges, intake and router health',
    query: streamFilter,
    responses: {
      200: { description: 'Prometheus text format', contentType: 'text/plain' },
      400: badQuery,
    },
  },
  {
    method: 'get',
    path: '/api/v1/cadence/repositories',
    tag: 'cadence',
    summary: 'Repositories `cadence git import` stored',
    responses: { 200: { description: 'repositories', schema: repositoryListSchema } },
  },
  {
    method: 'get',
    path: '/api/v1/cadence/report',
    tag: 'cadence',
    summary: 'Patching cadence of one repository (the only one when not named)',
    query: cadenceReportQuery,
    responses: {
      200: { description: 'the report', schema: cadenceReportSchema },
      400: badQuery,
      404: problem('no such repository, or none imported'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/streams',
    tag: 'metrics',
    summary: 'Services and environments with deployments, and the configured teams',
    responses: { 200: { description: 'the catalogue', schema: serviceCatalogueSchema } },
  },
  {
    method: 'get',
    path: '/api/v1/deployments',
    tag: 'metrics',
    summary: 'Deployments newest first, with the changes they delivered and their incidents',
    query: timelineQuery,
    responses: {
      200: { description: 'deployments', schema: deploymentListSchema },
      400: badQuery,
      404: problem('no service belongs to the team'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/incidents',
    tag: 'metrics',
    summary:
      'Incidents newest first, with time to restore and the deployment they are attributed to',
    query: timelineQuery,
    responses: {
      200: { description: 'incidents', schema: incidentListSchema },
      400: badQuery,
      404: problem('no service belongs to the team'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/rollouts',
    tag: 'rollouts',
    summary: 'Every watched Deployment as the cluster has it now: replicas, phase, conditions',
    query: rolloutFilterQuery,
    responses: { 200: { description: 'rollouts', schema: rolloutListSchema }, 400: badQuery },
  },
  {
    method: 'get',
    path: '/api/v1/rollouts/stream',
    tag: 'rollouts',
    summary:
      'Server-sent events `rollout` and `deleted` with monotonic ids: current state first, or what changed after `Last-Event-ID`',
    query: rolloutStreamQuery,
    responses: {
      200: { description: 'an event stream', contentType: 'text/event-stream' },
      400: badQuery,
      503: problem('as many streams are open as the server serves (kube.rolloutStreams)'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/rollouts/{namespace}/{name}',
    tag: 'rollouts',
    summary: "One Deployment's rollouts, newest first",
    params: { namespace: z.string(), name: z.string() },
    query: rolloutFilterQuery.pick({ limit: true }),
    responses: {
      200: { description: 'its history', schema: rolloutHistorySchema },
      400: badQuery,
      404: problem('no rollout recorded for that Deployment'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/analyses',
    tag: 'canary',
    summary: 'Canary analyses, newest first',
    query: analysisListQuery,
    responses: { 200: { description: 'analyses', schema: analysisListSchema }, 400: badQuery },
  },
  {
    method: 'get',
    path: '/api/v1/analyses/{id}',
    tag: 'canary',
    summary: 'One analysis with every interval: samples, judgements and verdicts',
    params: { id: z.string() },
    responses: {
      200: { description: 'the analysis', schema: analysisDetailSchema },
      404: problem('no such analysis'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/analyses',
    tag: 'canary',
    summary: 'Start an analysis of a running canary against stable',
    body: {
      description: 'service, namespace, revision and optional overrides',
      contentTypes: ['application/json'],
    },
    responses: {
      201: { description: 'started', schema: analysisSchema },
      400: problem('the request is invalid (field names it)'),
      415: problem('not application/json'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/updates',
    tag: 'canary',
    summary:
      'Continuous updates not finished (all with all=true), and per service its freshness: current version, newest tag, versions behind',
    query: updateListQuery,
    responses: { 200: { description: 'updates', schema: updateListSchema }, 400: badQuery },
  },
  {
    method: 'post',
    path: '/api/v1/updates/{id}/approve',
    tag: 'canary',
    summary:
      "Approve a pending update: its canary starts (a token with the service's canary action)",
    params: { id: z.string() },
    responses: {
      200: { description: 'approved (or already approved)', schema: updateSchema },
      400: badQuery,
      401: unauthorized,
      403: forbidden,
      404: problem('no such update'),
      409: problem('the update is finished (superseded, promoted or rolled back)'),
    },
  },
  {
    method: 'get',
    path: '/',
    tag: 'dashboard',
    summary: 'The web dashboard (its assets are served beside it)',
    responses: {
      200: { description: 'the dashboard', contentType: 'text/html' },
      404: problem('the dashboard was not built (npm run build)'),
    },
  },
  {
    method: 'get',
    path: '/healthz',
    tag: 'health',
    summary: 'Liveness',
    responses: { 200: { description: 'alive', schema: healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'health',
    summary: 'Readiness: the database answers',
    responses: {
      200: { description: 'ready', schema: readinessSchema },
      503: problem('the database does not answer'),
    },
  },
  {
    method: 'get',
    path: '/version',
    tag: 'health',
    summary: "Cadence's own version",
    responses: { 200: { description: 'the version', schema: cadenceVersionSchema } },
  },
  {
    method: 'get',
    path: '/deployer/version',
    tag: 'deployer',
    summary: "Cadence's own version, where the historical deployer answered it",
    responses: { 200: { description: 'the version', schema: cadenceVersionSchema } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'health',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1' } },
  },
  {
    method: 'get',
    path: '/api/v1/tokens',
    tag: 'auth',
    summary: 'Every token: scope, expiry and last use (never a secret); an admin token',
    responses: { 200: { description: 'tokens', schema: tokenListSchema } },
  },
  {
    method: 'post',
    path: '/api/v1/tokens',
    tag: 'auth',
    summary: 'Mint a token (stored hashed; the secret is in this answer only); an admin token',
    body: {
      description: 'name, services, actions, and sources (ingest) and expiresAt (optional)',
      contentTypes: ['application/json'],
    },
    responses: {
      201: { description: 'the name and the secret', schema: tokenCreatedSchema },
      400: problem('the request is invalid (field names it)'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/cadence/imports',
    tag: 'cadence',
    summary:
      'Import a git repository (what cadence git import does), progress streamed as NDJSON; an admin token',
    body: {
      description:
        'source (a path on the server, or a git URL), name, ref, rulesYaml, allowShallow',
      contentTypes: ['application/json'],
    },
    responses: {
      200: {
        description:
          'NDJSON: {"progress":{commits,total}} lines, then {"summary":…} or {"problem":…}',
        contentType: 'application/x-ndjson',
      },
      400: problem('the request is invalid, or the source is not a repository (field names it)'),
      409: problem('the name is taken by another source'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/cadence/report',
    tag: 'cadence',
    summary:
      'The patching-cadence report with rules given in the body (cadence git report --rules)',
    body: {
      description: 'repository, rulesYaml and asOf, each optional',
      contentTypes: ['application/json'],
    },
    responses: {
      200: { description: 'the report', schema: cadenceReportSchema },
      400: problem('the request is invalid (field names it)'),
      404: problem('no such repository'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/sql',
    tag: 'cadence',
    summary:
      'One read-only SQL query over the git tables as the reader role (cadence sql); a read token even where reads are open',
    body: { description: 'query and timeoutMs', contentTypes: ['application/json'] },
    responses: {
      200: { description: 'columns and rows', schema: sqlResultSchema },
      400: problem('not one read-only query, or it failed (field query)'),
    },
  },
  {
    method: 'delete',
    path: '/api/v1/tokens/{name}',
    tag: 'auth',
    summary: 'Revoke a token: its secret stops working at once; an admin token',
    params: { name: z.string() },
    responses: {
      204: { description: 'revoked' },
      400: badQuery,
      404: problem('no such token'),
    },
  },
  ...deployerOperations(),
];

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
  for (const [name, schema] of Object.entries(operation.params ?? {})) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: toSchema(schema, components, 'input'),
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

/** The whole document, for `GET /openapi.json`. */
export function openApiDocument(
  version: string,
  operations = OPERATIONS,
  actions: OperationActions = new Map(),
): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of operations) {
    const responses: Record<string, JsonSchema> = {};
    const action = actions.get(`${operation.method} ${operation.path}`);
    const guarded = action !== undefined && action !== 'public';
    const statuses: Record<number, Response> = guarded
      ? { 401: unauthorized, 403: forbidden, ...operation.responses }
      : operation.responses;
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
    const parameters = parametersOf(operation, components);
    (paths[operation.path] ??= {})[operation.method] = {
      operationId: `${operation.method}${operation.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: operation.summary,
      tags: [operation.tag],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: true,
              description: operation.body.description,
              content: Object.fromEntries(operation.body.contentTypes.map((type) => [type, {}])),
            },
          }
        : {}),
      ...(action === undefined ? {} : { 'x-cadence-action': action }),
      ...(action === undefined
        ? {}
        : {
            security: !guarded
              ? []
              : OPENABLE.has(action)
                ? [{ bearer: [] }, { basic: [] }, {}]
                : [{ bearer: [] }, { basic: [] }],
          }),
      responses,
    };
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
