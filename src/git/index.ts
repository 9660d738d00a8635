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
export {
  readGitLog,
  GitLogParser,
  gitLogArgs,
  GIT_LOG_FORMAT,
  decodeField,
  type GitCommit,
  type FileStat,
  type RawFields,
} from './git-log-reader.js';
export {
  insertCommits,
  getRepository,
  listRepositories,
  loadHistory,
  type GitRepository,
  type HistoryCommit,
} from './commit-rows.js';
export {
  importRepository,
  isGitUrl,
  defaultRepositoryName,
  shallowBoundaries,
  type ImportOptions,
  type ImportSummary,
  type ImportProgress,
  type ImportMode,
} from './import-repository.js';
export { ROLES, rulesSchema, type Role, type RulesInput } from './rules-schema.js';
export {
  parseRules,
  compileRules,
  compileGlob,
  classifyFile,
  classifyCommit,
  classifyHistory,
  subjectOf,
  type Rules,
  type Purpose,
  type GitEvent,
  type ClassifiableCommit,
} from './rules.js';
export {
  pairCauses,
  firstAtOrAfter,
  type PairedUpdate,
  type PendingCause,
  type EventRef,
} from './pairing.js';
export {
  buildCadenceReport,
  environmentCadence,
  deployIntervalRows,
  ntileAverages,
  promotionRate,
  summarizeDays,
  monthOf,
  weekOf,
  monthRange,
  monthsBefore,
  round6,
  type CadenceReport,
  type DaySummary,
  type MonthlyLeadTime,
  type EnvironmentCadence,
  type Promotion,
  type DeployIntervalRow,
  type UpdateRow,
  type PendingRow,
} from './cadence-report.js';
export { materializeCadence, type MaterializedCounts } from './materialized-cadence.js';
export { reportRepository, resolveRepository, type RepositoryReport } from './repository-report.js';
// The one way Cadence runs git (the deployer's manifest cache too), and how it hides tokens in URLs.
export { gitEnv, redactCredentials, tryGit, type GitResult } from './run-git.js';
export {
  runReadOnlySql,
  singleQuery,
  jsonObjectEntries,
  GIT_READER_ROLE,
  type SqlResult,
} from './read-only-sql.js';
