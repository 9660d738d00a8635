import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseJson } from '../../events/index.js';
import { importRepository, reportRepository, runReadOnlySql } from '../../git/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';
import { toProblem } from '../problem-handler.js';

/** A JSON request body parsed with `schema`; a bad one is a 400 naming the field. */
export function parseJsonBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const value = parseJson(Buffer.isBuffer(body) ? body : Buffer.alloc(0), 'body');
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const field = path.join('.') || 'body';
  throw new CadenceError('invalid-input', { field, detail: `${field}: ${issue.message}` });
}

export const gitImportRequest = z.strictObject({
  /** A path on the server's machine, or a git URL (mirrored under the data directory). */
  source: z.string().min(1),
  name: z.string().min(1).optional(),
  ref: z.string().min(1).default('HEAD'),
  rulesYaml: z.string().optional(),
  allowShallow: z.boolean().default(false),
});

const asOfField = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an RFC 3339 time or a date')
  .transform((value) => new Date(value));

export const gitReportRequest = z.strictObject({
  repository: z.string().min(1).optional(),
  rulesYaml: z.string().optional(),
  asOf: asOfField.optional(),
});

export const sqlRequest = z.strictObject({
  query: z.string().min(1),
  timeoutMs: z.number().int().positive().optional(),
});

const ADMIN = { config: { auth: { action: 'admin' } } } as const;
const READ = { config: { auth: { action: 'read' } } } as const;
// A read token even where reads are open: any query can keep the embedded engine busy.
const READ_WITH_TOKEN = { config: { auth: { action: 'read', always: true } } } as const;

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
  app.post('/api/v1/cadence/imports', ADMIN, async (request, reply) => {
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
  });

  app.post('/api/v1/cadence/report', READ, async (request) => {
    const body = parseJsonBody(gitReportRequest, request.body);
    return reportRepository(deps.store, {
      repository: body.repository,
      rulesYaml: body.rulesYaml,
      ...(body.asOf ? { asOf: body.asOf } : {}),
    });
  });

  app.post('/api/v1/sql', READ_WITH_TOKEN, async (request) => {
    const body = parseJsonBody(sqlRequest, request.body);
    return runReadOnlySql(deps.store, body.query, { timeoutMs: body.timeoutMs ?? 30_000 });
  });
}
