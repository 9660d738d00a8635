import { CadenceError } from '../problem/index.js';
import type { Queryable } from '../store/index.js';
import { buildCadenceReport, type CadenceReport } from './cadence-report.js';
import { getRepository, listRepositories, loadHistory, type GitRepository } from './commit-rows.js';
import { classifyHistory, parseRules } from './rules.js';

export interface RepositoryReport extends CadenceReport {
  repository: string;
  head: string | null;
  importedAt: string | null;
  /** `stored`: the rules imported with the repository; `given`: rules passed to this report. */
  rules: 'stored' | 'given';
  /** Boundary commits when a shallow clone was imported (`--allow-shallow`): the history, and
   * so every figure, stops there. Empty for a complete history. */
  shallowBoundaries: string[];
}

/**
 * The repository a command or request means: the one named, else the only one imported.
 * Several imported and none named is an error listing them.
 */
export async function resolveRepository(
  db: Queryable,
  name: string | undefined,
): Promise<GitRepository> {
  if (name !== undefined) {
    const repository = await getRepository(db, name);
    if (repository) return repository;
    const names = (await listRepositories(db)).map((r) => r.name);
    throw new CadenceError('not-found', {
      field: 'repository',
      detail: `no repository ${name} has been imported${names.length ? ` (imported: ${names.join(', ')})` : ''}`,
    });
  }
  const repositories = await listRepositories(db);
  if (repositories.length === 1) return repositories[0]!;
  if (repositories.length === 0) {
    throw new CadenceError('not-found', {
      field: 'repository',
      detail: 'no repository has been imported yet: run cadence git import PATH|URL',
    });
  }
  throw new CadenceError('invalid-input', {
    field: 'repository',
    detail: `several repositories are imported (${repositories.map((r) => r.name).join(', ')}): name one`,
  });
}

/**
 * The patching-cadence report of one imported repository, with the rules stored at import
 * (`git import --rules`) or the ones given here. `asOf` (default now) is "now" for pending ages
 * and the current month.
 *
 * @example
 * await reportRepository(store, { repository: 'gitops', asOf: new Date('2024-02-20') })
 */
export async function reportRepository(
  db: Queryable,
  options: { repository?: string | undefined; rulesYaml?: string | undefined; asOf?: Date },
): Promise<RepositoryReport> {
  const repository = await resolveRepository(db, options.repository);
  const rulesYaml = options.rulesYaml ?? repository.rulesYaml;
  if (rulesYaml === null) {
    throw new CadenceError('invalid-input', {
      field: 'rules',
      detail: `repository ${repository.name} has no rules: import it with --rules FILE, or pass --rules FILE to the report`,
    });
  }
  const rules = parseRules(rulesYaml);
  const history = await loadHistory(db, repository.name);
  const asOf = options.asOf ?? new Date();
  const first = history[0];
  if (first && asOf.getTime() < first.authorWhen.getTime()) {
    // Nothing had happened yet: every age would be negative.
    throw new CadenceError('invalid-input', {
      field: 'asOf',
      detail: `as of ${asOf.toISOString()} is before the history of ${repository.name} begins (${first.authorWhen.toISOString()})`,
    });
  }
  const { events, unattributedFiles } = classifyHistory(rules, history);
  const report = buildCadenceReport(rules, events, unattributedFiles, asOf);
  return {
    repository: repository.name,
    head: repository.head,
    importedAt: repository.importedAt ? new Date(repository.importedAt).toISOString() : null,
    rules: options.rulesYaml === undefined ? 'stored' : 'given',
    shallowBoundaries: repository.shallowBoundaries,
    ...report,
  };
}
