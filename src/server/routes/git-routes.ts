import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { importRepository, reportRepository, runReadOnlySql } from '../../git/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import { cadenceReportSchema, sqlResultSchema } from '../api-schemas.js';
import { problem } from '../openapi.js';
import { toProblem } from '../problem-handler.js';
import { isoTime, parseJsonBody } from './parse-input.js';

export const gitImportRequest = z.strictObject({
  /** A path on the server's machine, or a git URL (mirrored under the data directory). */
  source: z.string().min(1),
  name: z.string().min(1).optional(),
  ref: z.string().min(1).default('HEAD'),
  rulesYaml: z.string().optional(),
  allowShallow: z.boolean().default(false),
});

export const gitReportRequest = z.strictObject({
  repository: z.string().min(1).optional(),
  rulesYaml: z.string().optional(),
  asOf: isoTime.optional(),
});

export const sqlRequest = z.strictObject({
  query: z.string().min(1),
  timeoutMs: z.number().int().positive().optional(),
});

const JSON_ONLY = ['application/json'];

/**
 * What `cadence git import|report|intervals` and `cadence sql` do on the store, for a CLI that
 * finds the data directory held by this server (or is given --server). The import answers
 * NDJSON: `{"progress": {commits, total}}` lines as batches are written, then `{"summary": …}`,
 * or `{"problem": …}` when it fails after it started (a failure before is a plain problem).
 */
export function registerGitRoutes(
  app: FastifyInstance,
  deps: { store: Store; mirrorDir: string },
): void {
  app.post(
    '/api/v1/cadence/imports',
    {
      config: {
        auth: { action: 'admin' },
        api: {
          tag: 'cadence',
          summary:
            'Import a git repository (what cadence git import does), progress streamed as NDJSON; an admin token',
          body: {
            description:
              'source (a path on the server, or a git URL), name, ref, rulesYaml, allowShallow',
            contentTypes: JSON_ONLY,
            schema: gitImportRequest,
          },
          responses: {
            200: {
              description:
                'NDJSON: {"progress":{commits,total}} lines, then {"summary":…} or {"problem":…}',
              contentType: 'application/x-ndjson',
            },
            400: problem(
              'the request is invalid, or the source is not a repository (field names it)',
            ),
            409: problem('the name is taken by another source'),
          },
        },
      },
    },
    async (request, reply) => {
      const body = parseJsonBody(gitImportRequest, request.body);
      const lines = new PassThrough();
      const send = (line: unknown) => lines.write(`${JSON.stringify(line)}\n`);
      let started!: () => void;
      const firstProgress = new Promise<void>((resolve) => (started = resolve));
      const importing = importRepository(deps.store, {
        source: body.source,
        name: body.name,
        ref: body.ref,
        rulesYaml: body.rulesYaml,
        allowShallow: body.allowShallow,
        mirrorDir: deps.mirrorDir,
        countTotal: true,
        onProgress: (progress) => {
          started();
          send({ progress });
        },
      });
      // Until the first batch, a refusal (no repository, a shallow clone) is an ordinary 4xx.
      await Promise.race([firstProgress, importing]);
      importing.then(
        (summary) => lines.end(`${JSON.stringify({ summary })}\n`),
        (error: unknown) => {
          const problem =
            error instanceof CadenceError
              ? error
              : new CadenceError('unavailable', { detail: `import failed: ${String(error)}` });
          if (!(error instanceof CadenceError)) request.log.error({ err: error }, 'import failed');
          lines.end(`${JSON.stringify({ problem: toProblem(problem) })}\n`);
        },
      );
      return reply.type('application/x-ndjson').send(lines);
    },
  );

  app.post(
    '/api/v1/cadence/report',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'cadence',
          summary:
            'The patching-cadence report with rules given in the body (cadence git report --rules)',
          body: {
            description: 'repository, rulesYaml and asOf, each optional',
            contentTypes: JSON_ONLY,
            schema: gitReportRequest,
          },
          responses: {
            200: { description: 'the report', schema: cadenceReportSchema },
            400: problem('the request is invalid (field names it)'),
            404: problem('no such repository'),
          },
        },
      },
    },
    async (request) => {
      const body = parseJsonBody(gitReportRequest, request.body);
      return reportRepository(deps.store, {
        repository: body.repository,
        rulesYaml: body.rulesYaml,
        ...(body.asOf ? { asOf: body.asOf } : {}),
      });
    },
  );

  app.post(
    '/api/v1/sql',
    {
      config: {
        // A read token even where reads are open: any query can keep the embedded engine busy.
        auth: { action: 'read', always: true },
        api: {
          tag: 'cadence',
          summary:
            'One read-only SQL query over the git tables as the reader role (cadence sql); a read token even where reads are open',
          body: { description: 'query and timeoutMs', contentTypes: JSON_ONLY, schema: sqlRequest },
          responses: {
            200: { description: 'columns and rows', schema: sqlResultSchema },
            400: problem('not one read-only query, or it failed (field query)'),
          },
        },
      },
    },
    async (request) => {
      const body = parseJsonBody(sqlRequest, request.body);
      return runReadOnlySql(deps.store, body.query, { timeoutMs: body.timeoutMs ?? 30_000 });
    },
  );
}
