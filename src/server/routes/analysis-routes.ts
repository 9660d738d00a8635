import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  defaultAnalysisSettings,
  findAnalysis,
  listAnalyses,
  listIntervals,
  startAnalysis,
  type AnalysisSettings,
} from '../../analysis/index.js';
import { authorize } from '../../auth/index.js';
import type { Deployer } from '../../deploy/index.js';
import { parseJson } from '../../events/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import {
  ANALYSIS_STATUSES,
  analysisDetailSchema,
  analysisListSchema,
  analysisSchema,
} from '../api-schemas.js';
import { badQuery, problem } from '../openapi.js';
import { parseQuery } from './parse-input.js';

export const analysisListQuery = z.strictObject({
  service: z.string().min(1).optional(),
  status: z.enum(ANALYSIS_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const READ = { action: 'read' } as const;
const analysisParams = z.object({ id: z.string().min(1) });

function jsonBody(body: unknown): unknown {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  if (bytes.toString('utf8').trim() === '') {
    throw new CadenceError('invalid-input', { field: 'body', detail: 'a JSON body is needed' });
  }
  return parseJson(bytes, 'body');
}

/** Canary analyses: list, one with every interval's samples and judgements, and start. */
export function registerAnalysisRoutes(
  app: FastifyInstance,
  deps: {
    store: Store;
    analysis?: AnalysisSettings | undefined;
    onAnalysisStarted?: (() => void) | undefined;
    /**
     * The deployer, when enabled: an analysis started without a revision is bound to its canary,
     * and its services' namespaces are the analyses' defaults.
     */
    deployer?: Pick<Deployer, 'services' | 'version' | 'show'> | undefined;
  },
): void {
  app.get(
    '/api/v1/analyses',
    {
      config: {
        auth: READ,
        api: {
          tag: 'canary',
          summary: 'Canary analyses, newest first',
          query: analysisListQuery,
          responses: {
            200: { description: 'analyses', schema: analysisListSchema },
            400: badQuery,
          },
        },
      },
    },
    async (request) => {
      const query = parseQuery(analysisListQuery, request.query);
      return { analyses: await listAnalyses(deps.store, query) };
    },
  );

  app.get(
    '/api/v1/analyses/:id',
    {
      config: {
        auth: READ,
        api: {
          tag: 'canary',
          summary: 'One analysis with every interval: samples, judgements and verdicts',
          params: analysisParams,
          responses: {
            200: { description: 'the analysis', schema: analysisDetailSchema },
            404: problem('no such analysis'),
          },
        },
      },
    },
    async (request) => {
      const { id } = parseQuery(analysisParams, request.params);
      const analysis = await findAnalysis(deps.store, id);
      if (!analysis) {
        throw new CadenceError('not-found', { field: 'id', detail: `no analysis ${id}` });
      }
      return { ...analysis, intervals: await listIntervals(deps.store, id) };
    },
  );

  /**
   * A request without a namespace, for a service the deployer runs, is judged in that
   * service's namespace (not `default`, where its pods are not): the analysis settings'
   * own `services.<name>.namespace` still wins, as startAnalysis reads it first.
   */
  async function withServiceNamespace(body: unknown): Promise<unknown> {
    const deployer = deps.deployer;
    if (!deployer || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
    const { service, namespace } = body as { service?: unknown; namespace?: unknown };
    if (namespace !== undefined || typeof service !== 'string') return body;
    if (deps.analysis?.services[service]?.namespace) return body;
    if (!deployer.services().includes(service)) return body;
    return { ...body, namespace: (await deployer.show(service)).namespace };
  }

  app.post(
    '/api/v1/analyses',
    {
      config: {
        auth: { action: 'canary' },
        api: {
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
      },
    },
    async (request, reply) => {
      const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
      if (!contentType.startsWith('application/json')) {
        throw new CadenceError('unsupported-media-type', {
          field: 'content-type',
          detail: 'send the analysis request as application/json',
        });
      }
      const body = jsonBody(request.body);
      const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<
        string,
        unknown
      >;
      // Its verdict promotes or removes this service's canary: the caller needs `canary` on it. The
      // queries, judge and thresholds it may override are then the caller's to answer for.
      if (typeof fields.service === 'string')
        authorize(request.principal!, 'canary', fields.service);
      let input = body;
      if (
        fields.revision === undefined &&
        typeof fields.service === 'string' &&
        deps.deployer?.services().includes(fields.service)
      ) {
        // Bound to the canary running now: a later canary is never acted on by this verdict.
        const canary = (await deps.deployer.version(fields.service)).canary;
        if (canary) input = { ...fields, revision: canary.version };
      }
      const analysis = await startAnalysis(
        deps.store,
        await withServiceNamespace(input),
        deps.analysis ?? defaultAnalysisSettings,
      );
      deps.onAnalysisStarted?.();
      return reply.code(201).header('location', `/api/v1/analyses/${analysis.id}`).send(analysis);
    },
  );
}
