import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listRepositories, reportRepository } from '../../git/index.js';
import type { Store } from '../../store/index.js';
import { cadenceReportSchema, repositoryListSchema } from '../api-schemas.js';
import { badQuery, problem } from '../openapi.js';
import { isoTime, parseQuery } from './parse-input.js';

export const cadenceReportQuery = z.strictObject({
  repository: z.string().min(1).optional(),
  asOf: isoTime.optional(),
});

/**
 * Patching cadence for the dashboard: the repositories `cadence git import` stored, and the same
 * report `cadence git report --json` prints, computed with the rules stored at import.
 */
export function registerCadenceRoutes(app: FastifyInstance, deps: { store: Store }): void {
  app.get(
    '/api/v1/cadence/repositories',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'cadence',
          summary: 'Repositories `cadence git import` stored',
          responses: { 200: { description: 'repositories', schema: repositoryListSchema } },
        },
      },
    },
    async () => ({
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
    }),
  );

  app.get(
    '/api/v1/cadence/report',
    {
      config: {
        auth: { action: 'read' },
        api: {
          tag: 'cadence',
          summary: 'Patching cadence of one repository (the only one when not named)',
          query: cadenceReportQuery,
          responses: {
            200: { description: 'the report', schema: cadenceReportSchema },
            400: badQuery,
            404: problem('no such repository, or none imported'),
          },
        },
      },
    },
    async (request) => {
      const query = parseQuery(cadenceReportQuery, request.query);
      return reportRepository(deps.store, {
        repository: query.repository,
        ...(query.asOf ? { asOf: query.asOf } : {}),
      });
    },
  );
}
