import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { mayAct } from '../../auth/index.js';
import type { Deployer, DeployOperation, DeployResult } from '../../deploy/index.js';
import { parseJsonObject, parseMediaType } from '../../events/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import { cadenceVersion } from '../../version/index.js';
import {
  cadenceVersionSchema,
  deployerServiceListSchema,
  deployerServiceSchema,
  deployerTagsSchema,
  deployerVersionSchema,
  deployResultSchema,
} from '../api-schemas.js';
import { forbidden, problem, unauthorized, type ApiOperation } from '../openapi.js';
import { parseInput } from './parse-input.js';

/** The body of deploy and canary: `commit` and/or `tag`, form-encoded or JSON. */
export const deployRequestSchema = z.strictObject({
  commit: z
    .string()
    .regex(/^[0-9a-fA-F]{4,64}$/, 'must be a commit sha (4 to 64 hex digits)')
    .optional(),
  tag: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a tag name')
    .optional(),
});

/** The body of rollback: `to`, a kept previous version (its version, tag or commit). */
export const rollbackRequestSchema = z.strictObject({
  to: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/, 'must be a version, tag or commit')
    .optional(),
});

/** The `{name}` of the deployer's and the traffic steps' routes: a configured service. */
export const serviceParams = z.strictObject({ name: z.string().min(1).max(63) });

/** No service of that name in the deployer's configuration. */
export const noService = problem('no such service in the configuration');

function invalid(field: string, detail: string): CadenceError {
  return new CadenceError('invalid-input', { field, detail });
}

/** The operation's fields from the body (form or JSON) and the query; the body wins. */
function operationRequest<T extends z.ZodType>(request: FastifyRequest, schema: T): z.output<T> {
  const raw: Record<string, unknown> = { ...(request.query as Record<string, unknown>) };
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (body.length > 0) {
    const type = parseMediaType(request.headers['content-type'])?.essence;
    if (type === 'application/json') {
      Object.assign(raw, parseJsonObject(body, 'body'));
    } else if (type === 'application/x-www-form-urlencoded' || type === undefined) {
      for (const [key, value] of new URLSearchParams(body.toString('utf8'))) raw[key] = value;
    } else {
      throw new CadenceError('unsupported-media-type', {
        field: 'content-type',
        detail: `send the fields as application/x-www-form-urlencoded or application/json, not ${type}`,
      });
    }
  }
  return parseInput(schema, raw, 'body');
}

/** The service a request's path names (its existence is the deployer's to check). */
export function serviceName(request: FastifyRequest): string {
  const result = serviceParams.safeParse(request.params);
  if (!result.success) throw invalid('name', 'the service name is missing or too long');
  return result.data.name;
}

/** The applied result, or its error as problem+json (4xx for a refusal, 503 for a down cluster). */
function answer(result: DeployResult) {
  if (result.ok) return result;
  throw result.error;
}

/**
 * The deployer's HTTP surface: `/api/v1/services/...` and the historical `/deployer/...` shapes
 * (PUT or POST, `deploy_canary`), each a call into the deployer after the token check.
 */
export function registerDeployRoutes(
  app: FastifyInstance,
  deps: { deployer: Deployer; store: Store; insecureDev: boolean },
): void {
  const { deployer } = deps;

  // Every route below declares its action (and the service parameter it is on) in config.auth;
  // the authorization hook has checked the caller's token before a handler runs.
  const list = async (request: FastifyRequest) => {
    const caller = request.principal!;
    const services = (await deployer.list()).filter((service) =>
      mayAct(caller, 'read', service.name),
    );
    return { services };
  };
  const read = (what: 'show' | 'tags' | 'version') => async (request: FastifyRequest) =>
    deployer[what](serviceName(request));
  const operate = (operation: DeployOperation) => async (request: FastifyRequest) => {
    const name = serviceName(request);
    const caller = request.principal!;
    if (operation === 'deploy' || operation === 'canary') {
      const ref = operationRequest(request, deployRequestSchema);
      if (ref.commit === undefined && ref.tag === undefined) {
        throw invalid('commit', 'give a commit or a tag (form-encoded or JSON)');
      }
      return answer(await deployer[operation](name, ref, caller.name));
    }
    if (operation === 'rollback') {
      const { to } = operationRequest(request, rollbackRequestSchema);
      return answer(await deployer.rollback(name, caller.name, undefined, to));
    }
    return answer(await deployer[operation](name, caller.name));
  };

  // The historical deployer's version route: Cadence's version. A static route wins over
  // `/deployer/:name`, and no service may be named `version` (refused in the config).
  app.get(
    '/deployer/version',
    {
      config: {
        auth: { action: 'public' },
        api: {
          tag: 'deployer',
          summary: "Cadence's own version, where the historical deployer answered it",
          responses: { 200: { description: 'the version', schema: cadenceVersionSchema } },
        },
      },
    },
    async () => ({ version: cadenceVersion() }),
  );
  for (const prefix of ['/api/v1/services', '/deployer']) {
    // The deployer's reads always needed a token, whatever server.auth.read says.
    const reading = { action: 'read', always: true, serviceParam: 'name' } as const;
    app.get(
      prefix,
      {
        config: {
          auth: { action: 'read', always: true },
          api: {
            tag: 'deployer',
            summary: 'Services the token may read, with their stable and canary versions',
            responses: {
              200: { description: 'the answer', schema: deployerServiceListSchema },
              401: unauthorized,
              403: forbidden,
            },
          },
        },
      },
      list,
    );
    const reads = [
      [
        '',
        'show',
        'One service: configuration, versions, recent operations',
        deployerServiceSchema,
      ],
      ['/tags', 'tags', "Image tags in the registry for the service's images", deployerTagsSchema],
      [
        '/version',
        'version',
        'Stable, canary and the kept previous versions (newest first)',
        deployerVersionSchema,
      ],
    ] as const;
    for (const [suffix, what, summary, schema] of reads) {
      app.get(
        `${prefix}/:name${suffix}`,
        { config: { auth: reading, api: serviceRead(summary, schema) } },
        read(what),
      );
    }
    for (const operation of ['deploy', 'canary', 'promote', 'rollback'] as const) {
      app.route({
        method: ['POST', 'PUT'],
        url: `${prefix}/:name/${operation}`,
        config: {
          auth: { action: operation, serviceParam: 'name' },
          api: operationApi(operation),
        },
        handler: operate(operation),
      });
    }
  }
  // The historical deployer's name for the canary path.
  app.route({
    method: ['POST', 'PUT'],
    url: '/deployer/:name/deploy_canary',
    config: {
      auth: { action: 'canary', serviceParam: 'name' },
      api: { ...operationApi('canary'), summary: 'The historical name of the canary path' },
    },
    handler: operate('canary'),
  });
}

/** A read of one service (show, tags, version). */
function serviceRead(summary: string, schema: z.ZodType): ApiOperation {
  return {
    tag: 'deployer',
    summary,
    params: serviceParams,
    responses: {
      200: { description: 'the answer', schema },
      401: unauthorized,
      403: forbidden,
      404: noService,
    },
  };
}

const OPERATION_SUMMARIES: Record<DeployOperation, string> = {
  deploy: 'Deploy stable at a commit or tag (a canary of another version is removed)',
  canary: 'Start a canary at a commit or tag beside stable',
  promote: "Make the canary's version stable and remove the canary",
  rollback:
    'Remove the canary, or return stable to the previous version (or `to` any kept version)',
};

/** deploy, canary, promote and rollback: the fields come in the body or the query. */
function operationApi(operation: DeployOperation): ApiOperation {
  const rollback = operation === 'rollback';
  const schema = rollback ? rollbackRequestSchema : deployRequestSchema;
  return {
    tag: 'deployer',
    summary: OPERATION_SUMMARIES[operation],
    params: serviceParams,
    query: schema,
    body: {
      description: rollback
        ? '`to`: a kept previous version (version, tag or commit; see `/version`); the body wins over the query'
        : '`commit` and/or `tag` (deploy, canary); the body wins over the query',
      contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
      schema,
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
  };
}
