import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listRepositories, reportRepository } from '../../git/index.js';
import type { Store } from '../../store/index.js';
import { parseQuery } from './query.js';

export const cadenceReportQuery = z.strictObject({
  repository: z.string().min(1).optional(),
  asOf: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an RFC 3339 time or a date')
    .transform((value) => new Date(value))
    .optional(),
});

const READ = { config: { auth: { action: 'read' } } } as const;

/**
 * Patching cadence for the dashboard: the repositories `cadence git import` stored, and the same
 * report `cadence git report --json` prints, computed with the rules stored at import.
 */
export function registerCadenceRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get('/api/v1/cadence/repositories', READ, async () => ({
    repositories: (await listRepositories(deps.store)).map((repository) => ({
      name: repository.name,
      source: repository.source,
      ref: repository.ref,
      head: repository.head,
      importedAt: repository.importedAt ? new Date(repository.importedAt).toISOString() : null,
      commitCount: repository.commitCount,
      hasRules: repository.rulesYaml !== null,
      // What `cadence git list --json` prints, for a CLI that reads it through this server.
      rulesYaml: repository.rulesYaml,
      shallowBoundaries: repository.shallowBoundaries,
      repositoryPath: repository.repositoryPath,
    })),
  }));

  app.get('/api/v1/cadence/report', READ, async (request) => {
    const query = parseQuery(cadenceReportQuery, request.query);
    return reportRepository(deps.store, {
      repository: query.repository,
      ...(query.asOf ? { asOf: query.asOf } : {}),
    });
  });
}
