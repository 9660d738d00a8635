/**
 * git — patching cadence from git history. This module owns:
 * - the import: one streamed `git log` per repository (never a process per commit) parsed as it
 *   arrives into the askgit-shaped `commits` and `stats` tables, batch by batch, incrementally on
 *   re-import, re-read when a force-push rewrote the history; URLs mirrored under the data dir;
 * - read-only SQL over those tables (`cadence sql`);
 * - the rules (YAML, zod schema) that classify each changed file into cause and deploy events by
 *   path globs, message patterns and merge requirements, with the package they concern;
 * - pairing each cause with the first later deploy of its package, and the report built from
 *   that (lead times by month, deciles, deploy and cause counts, deploy intervals per
 *   environment folder, promotion) as pure functions; where the blog's author measures a figure
 *   differently, both readings, each named for what it is;
 * - those results materialized per repository (`cadence_events`, `cadence_pairs`,
 *   `cadence_intervals`) after every import, for Grafana, `cadence sql` and the dashboard;
 * - shallow clones: refused, or imported with their boundary marked, and completed once unshallowed.
 * The CLI (`cadence git`, `cadence sql`) and the API (`/api/v1/cadence/*`) are thin shells over it.
 * Formats and definitions: docs/git-cadence.md.
 */
export { listRepositories, type GitRepository } from './commit-rows.js';
export {
  importRepository,
  isGitUrl,
  type ImportSummary,
  type ImportProgress,
} from './import-repository.js';
export { reportRepository, type RepositoryReport } from './repository-report.js';
// The one way Cadence runs git (the deployer's manifest cache too), and how it hides tokens in URLs.
export { gitEnv, redactCredentials, tryGit } from './run-git.js';
export { runReadOnlySql, type SqlResult } from './read-only-sql.js';
