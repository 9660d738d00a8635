import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import {
  importRepository,
  isGitUrl,
  listRepositories,
  reportRepository,
  type ImportProgress,
  type GitRepository,
  type ImportSummary,
  type RepositoryReport,
} from '../git/index.js';
import { CadenceError } from '../problem/index.js';
import { getJson, postForLines, problemFromResponse, request } from './api-client.js';
import {
  addTargetOptions,
  commandTarget,
  isLocalStore,
  withLocalStore,
  type ServerTarget,
  type TargetFlags,
} from './command-target.js';
import { renderTable } from './table.js';

/** `cadence sql … | head` closes the pipe early: the reader's choice, not an error. */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

function readRulesFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CadenceError('invalid-input', {
      field: 'rules',
      detail: `cannot read rules file ${file}: ${(error as Error).message}`,
    });
  }
}

/** A one-line progress bar redrawn with `\r`, at most ten times a second; only on a terminal. */
export function progressBar(stream: NodeJS.WriteStream, label: string) {
  let lastDraw = 0;
  let drawn = false;
  return {
    update(progress: ImportProgress) {
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      drawn = true;
      const width = 30;
      let text: string;
      if (progress.total) {
        const ratio = Math.min(1, progress.commits / progress.total);
        const filled = Math.round(ratio * width);
        text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${progress.commits}/${progress.total} commits`;
      } else {
        text = `${label} ${progress.commits} commits`;
      }
      stream.write(`\r${text.slice(0, Math.max(10, (stream.columns ?? 80) - 1))}\x1b[K`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** The lines an import prints: what it did, and what the reader must know about the source. */
export function describeImport(summary: ImportSummary): string {
  const head = summary.head.slice(0, 12);
  const notes: string[] = [];
  if (summary.subdirectory !== null) {
    notes.push(
      `${summary.subdirectory}/ is a subdirectory: imported the whole repository at ${summary.repositoryPath}`,
    );
  }
  if (summary.shallowBoundaries.length > 0) {
    notes.push(
      `shallow clone: history stops at ${summary.shallowBoundaries.length} boundary commit(s) (marked, their stats left out); run git fetch --unshallow and import again for the rest`,
    );
  }
  if (summary.boundariesOpened > 0) {
    notes.push(
      `read the history behind ${summary.boundariesOpened} former shallow boundary commit(s)`,
    );
  }
  let line: string;
  if (summary.mode === 'unchanged') {
    line = `${summary.repository} is up to date at ${head} (${summary.commitsStored} commits)`;
  } else {
    const how = {
      full: 'full import',
      incremental: `incremental, since ${summary.previousHead?.slice(0, 12)}`,
      rewritten: `history rewritten since ${summary.previousHead?.slice(0, 12)}: re-imported`,
      deepened: 'history behind the shallow boundary added',
    }[summary.mode];
    line = `imported ${summary.repository}: ${summary.commitsAdded} new commits, ${summary.statsAdded} file changes (${how}) in ${seconds(summary.durationMs)}; ${summary.commitsStored} commits stored, head ${head}`;
  }
  return [line, ...notes.map((note) => `note: ${note}`)].join('\n');
}

const percent = (share: number | null) =>
  share === null ? '-' : `${Math.round(share * 1000) / 10}%`;

/** Days for a table: two decimals, '-' for none. */
export function formatDays(days: number | null | undefined): string {
  return days === null || days === undefined ? '-' : String(Math.round(days * 100) / 100);
}

const shortId = (id: string) => id.slice(0, 10);
const day = (at: string) => at.slice(0, 16).replace('T', ' ');

/** The report as text: one titled table per figure. */
export function renderCadenceReport(report: RepositoryReport): string {
  const sections: string[] = [
    `${report.repository} at ${report.head?.slice(0, 12) ?? '-'}, rules ${report.rules}, as of ${report.asOf.slice(0, 10)}; production: ${report.production}`,
  ];
  const section = (title: string, headers: string[], rows: string[][], empty: string) =>
    sections.push(`${title}\n${rows.length === 0 ? empty : renderTable(headers, rows)}`);

  section(
    'UPDATES (cause → first later production deploy of the package)',
    ['PACKAGE', 'CAUSE', 'CAUSED (UTC)', 'DEPLOY', 'DEPLOYED (UTC)', 'DAYS'],
    report.updates.map((u) => [
      u.package,
      shortId(u.cause.commit),
      day(u.cause.at),
      shortId(u.deploy.commit),
      day(u.deploy.at),
      formatDays(u.leadTimeDays),
    ]),
    'none',
  );
  section(
    'PENDING (no deploy yet)',
    ['PACKAGE', 'CAUSE', 'CAUSED (UTC)', 'AGE (DAYS)'],
    report.pending.map((p) => [
      p.package,
      shortId(p.cause.commit),
      day(p.cause.at),
      formatDays(p.ageDays),
    ]),
    'none',
  );
  const summary = (
    label: string,
    s: { count: number; min: number | null; median: number | null; max: number | null },
  ) =>
    `${label}: ${s.count} updates, min ${formatDays(s.min)}, median ${formatDays(s.median)}, max ${formatDays(s.max)} days`;
  section(
    `LEAD TIME (DAYS) BY MONTH OF THE DEPLOY\n${summary(`current month (${report.currentMonth.month})`, report.currentMonth)}\n${summary(`last 3 months (${report.lastThreeMonths.from} to ${report.lastThreeMonths.to})`, report.lastThreeMonths)}\n`,
    [
      'MONTH',
      'UPDATES',
      'MIN',
      'MEDIAN',
      'MAX',
      ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `P${d}0`),
    ],
    report.leadTimeByMonth.map((m) => [
      m.month,
      String(m.count),
      formatDays(m.min),
      formatDays(m.median),
      formatDays(m.max),
      ...(m.percentileDeciles.length
        ? m.percentileDeciles.map(formatDays)
        : Array<string>(9).fill('-')),
    ]),
    'no months',
  );
  section(
    "LEAD-TIME VARIABILITY (DAYS) BY MONTH, THE BLOG'S ntile(10) GROUP AVERAGES",
    ['MONTH', 'GROUP AVERAGES (FASTEST FIRST)'],
    report.leadTimeByMonth
      .filter((m) => m.count > 0)
      .map((m) => [m.month, m.ntileVariability.map(formatDays).join(' ')]),
    'no updates',
  );
  section(
    'DEPLOYS (production, commit × package) AND CAUSES BY MONTH',
    ['MONTH', 'DEPLOYS', 'CAUSES', 'DEPLOYS PER PACKAGE'],
    report.deploysByMonth.map((m, index) => [
      m.month,
      String(m.deploys),
      String(report.causesByMonth[index]?.causes ?? 0),
      Object.entries(m.packages)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, count]) => `${name} ${count}`)
        .join(', '),
    ]),
    'no months',
  );
  section(
    "DEPLOYS BY MONTH: ALL (Cadence) AND PAIRED WITH A CAUSE (the blog's count)",
    ['MONTH', 'ALL', 'PAIRED'],
    report.deploysByMonth
      .filter((m) => m.deploys > 0)
      .map((m) => [m.month, String(m.deploys), String(m.pairedDeploys)]),
    'no deploys',
  );
  section(
    'DAYS BETWEEN DEPLOYS PER ENVIRONMENT',
    ['ENVIRONMENT', 'PERIOD', 'INTERVALS', 'MIN', 'MEDIAN', 'MAX'],
    report.deployIntervals.flatMap((env) =>
      [...env.weekly.map((w) => ({ ...w, bucket: `week ${w.bucket}` })), ...env.monthly].map(
        (b) => [
          env.environment,
          b.bucket,
          String(b.count),
          formatDays(b.min),
          formatDays(b.median),
          formatDays(b.max),
        ],
      ),
    ),
    'fewer than two deploys in every environment',
  );
  if (report.promotion.length > 0) {
    section(
      "PROMOTION (SHARE: promoted / (promoted + superseded); INTERVAL RATIO: the blog's prod intervals / non-prod intervals)",
      [
        'FROM',
        'TO',
        'DEPLOYS',
        'PROMOTED',
        'SUPERSEDED',
        'WAITING',
        'SHARE',
        'INTERVALS',
        'INTERVAL RATIO',
      ],
      report.promotion.map((p) => [
        p.from,
        p.to,
        String(p.deploys),
        String(p.promoted),
        String(p.superseded),
        String(p.waiting),
        percent(p.share),
        `${p.toIntervals}/${p.fromIntervals}`,
        percent(p.intervalRatio),
      ]),
      'none',
    );
  }
  if (report.shallowBoundaries.length > 0) {
    sections.push(
      `shallow import: the history stops at ${report.shallowBoundaries.length} boundary commit(s); figures before it are missing`,
    );
  }
  if (report.unattributedFiles > 0) {
    sections.push(
      `${report.unattributedFiles} changed files matched a purpose but no package: check the rules' packages`,
    );
  }
  return `${sections.join('\n\n')}\n`;
}

function parseAsOf(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new CadenceError('invalid-input', {
      field: 'as-of',
      detail: `--as-of ${value} is not an RFC 3339 time or a date`,
    });
  }
  return new Date(time);
}

/**
 * An import run by the server that holds the data directory: a local path is sent absolute (the
 * server's working directory is not this one's), the rules as text, progress read as it streams.
 */
async function importThroughServer(
  server: ServerTarget,
  source: string,
  options: { name?: string; ref: string; rulesYaml?: string; allowShallow?: boolean },
  bar: ReturnType<typeof progressBar> | null,
): Promise<ImportSummary> {
  let summary: ImportSummary | undefined;
  await postForLines(
    server,
    '/api/v1/cadence/imports',
    {
      source: isGitUrl(source) ? source : resolve(source),
      ...(options.name === undefined ? {} : { name: options.name }),
      ref: options.ref,
      ...(options.rulesYaml === undefined ? {} : { rulesYaml: options.rulesYaml }),
      allowShallow: options.allowShallow === true,
    },
    (line) => {
      const message = line as {
        progress?: ImportProgress;
        summary?: ImportSummary;
        problem?: { status: number; field?: string; detail: string };
      };
      if (message.progress) bar?.update(message.progress);
      if (message.summary) summary = message.summary;
      if (message.problem) throw problemFromLine(message.problem);
    },
  );
  if (!summary) {
    throw new CadenceError('unavailable', {
      field: 'server',
      detail: `${server.url} ended the import without a summary; run cadence git import again`,
    });
  }
  return summary;
}

function problemFromLine(problem: { status: number; field?: string; detail: string }) {
  return problemFromResponse(problem.status, problem);
}

/** `git list` through the server: the same rows as the store gives. */
async function listThroughServer(server: ServerTarget): Promise<GitRepository[]> {
  const { repositories } = await getJson<{
    repositories: (Omit<GitRepository, 'importedAt'> & { importedAt: string | null })[];
  }>(server, '/api/v1/cadence/repositories');
  return repositories.map((r) => ({
    name: r.name,
    source: r.source,
    ref: r.ref,
    head: r.head,
    rulesYaml: r.rulesYaml,
    importedAt: r.importedAt === null ? null : new Date(r.importedAt),
    commitCount: r.commitCount,
    shallowBoundaries: r.shallowBoundaries,
    repositoryPath: r.repositoryPath,
  }));
}

/**
 * The report `git report` and `git intervals` print: the rules file and --as-of read here, the
 * figures computed by the server that holds the store, or on the store opened here.
 */
export async function loadReport(
  options: TargetFlags & { repository?: string; rules?: string; asOf?: string },
): Promise<RepositoryReport> {
  const rulesYaml = readRulesFile(options.rules);
  const asOf = parseAsOf(options.asOf);
  const target = await commandTarget(options, 'store');
  if (!isLocalStore(target)) {
    return request<RepositoryReport>(target, 'POST', '/api/v1/cadence/report', {
      body: {
        ...(options.repository === undefined ? {} : { repository: options.repository }),
        ...(rulesYaml === undefined ? {} : { rulesYaml }),
        ...(asOf ? { asOf: asOf.toISOString() } : {}),
      },
    });
  }
  return withLocalStore(target, (store) =>
    reportRepository(store, {
      repository: options.repository,
      rulesYaml,
      ...(asOf ? { asOf } : {}),
    }),
  );
}

export function gitCommand(): Command {
  const git = new Command('git').description(
    'patching cadence from git history: import a repository, report lead times and deploys',
  );

  addTargetOptions(
    git
      .command('import')
      .description('import a repository history into the commits and stats tables (incremental)')
      .argument('<source>', 'repository path, or a URL to mirror under the data directory')
      .option('--name <name>', 'repository name in the tables (default: last part of the path)')
      .option('--ref <ref>', 'revision whose history is imported', 'HEAD')
      .option('--rules <file>', 'patching-cadence rules (YAML) stored with the repository')
      .option(
        '--allow-shallow',
        'import a shallow clone: boundary commits marked, their stats left out (default: refused)',
      )
      .option('--json', 'print the import summary as JSON'),
    'store',
  ).action(
    async (
      source: string,
      options: TargetFlags & {
        name?: string;
        ref: string;
        rules?: string;
        allowShallow?: boolean;
        json?: boolean;
      },
    ) => {
      const rulesYaml = readRulesFile(options.rules);
      const bar =
        process.stderr.isTTY && !options.json ? progressBar(process.stderr, 'importing') : null;
      const target = await commandTarget(options, 'store');
      let summary: ImportSummary;
      try {
        summary = !isLocalStore(target)
          ? await importThroughServer(target, source, { ...options, rulesYaml }, bar)
          : await withLocalStore(target, (store, dataDir) =>
              importRepository(store, {
                source,
                name: options.name,
                ref: options.ref,
                rulesYaml,
                allowShallow: options.allowShallow === true,
                mirrorDir: join(dataDir, 'git-mirrors'),
                countTotal: bar !== null,
                onProgress: bar ? (progress) => bar.update(progress) : undefined,
              }),
            );
      } finally {
        bar?.done();
      }
      process.stdout.write(
        options.json ? `${JSON.stringify(summary, null, 2)}\n` : `${describeImport(summary)}\n`,
      );
    },
  );

  addTargetOptions(
    git
      .command('report')
      .description('patching cadence: lead time per update and month, deploys, causes, promotion')
      .option('--repository <name>', 'the repository (default: the only one imported)')
      .option('--rules <file>', 'rules (YAML) instead of those stored at import')
      .option('--as-of <time>', '"now" for pending ages and the current month (default: now)')
      .option('--json', 'print JSON instead of tables'),
    'store',
  ).action(
    async (
      options: TargetFlags & { repository?: string; rules?: string; asOf?: string; json?: boolean },
    ) => {
      exitQuietlyOnClosedStdout();
      const report = await loadReport(options);
      process.stdout.write(
        options.json ? `${JSON.stringify(report, null, 2)}\n` : renderCadenceReport(report),
      );
    },
  );

  addTargetOptions(
    git
      .command('intervals')
      .description(
        'every interval between consecutive deploys per environment folder (the blog view)',
      )
      .option('--repository <name>', 'the repository (default: the only one imported)')
      .option('--environment <name>', 'only this environment (folder)')
      .option('--rules <file>', 'rules (YAML) instead of those stored at import')
      .option('--as-of <time>', 'leave out deploys after this time (default: now)')
      .option('--json', 'print JSON instead of a table'),
    'store',
  ).action(
    async (
      options: TargetFlags & {
        repository?: string;
        environment?: string;
        rules?: string;
        asOf?: string;
        json?: boolean;
      },
    ) => {
      exitQuietlyOnClosedStdout();
      const report = await loadReport(options);
      if (options.environment !== undefined && !report.environments.includes(options.environment)) {
        throw new CadenceError('invalid-input', {
          field: 'environment',
          detail: `${options.environment} is not an environment of the rules (${report.environments.join(', ')})`,
        });
      }
      const intervals = report.intervals.filter(
        (i) => options.environment === undefined || i.environment === options.environment,
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(intervals, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        intervals.length === 0
          ? 'no intervals: fewer than two deploys in every environment\n'
          : `${renderTable(
              ['ENVIRONMENT', 'COMMIT', 'DEPLOYED (UTC)', 'PREVIOUS', 'PREVIOUS (UTC)', 'MINUTES'],
              intervals.map((i) => [
                i.environment,
                shortId(i.commit),
                day(i.at),
                shortId(i.previousCommit),
                day(i.previousAt),
                String(Math.round(i.minutes * 100) / 100),
              ]),
            )}\n`,
      );
    },
  );

  addTargetOptions(
    git
      .command('list')
      .description('the imported repositories')
      .addOption(new Option('--json', 'print JSON instead of a table')),
    'store',
  ).action(async (options: TargetFlags & { json?: boolean }) => {
    exitQuietlyOnClosedStdout();
    const target = await commandTarget(options, 'store');
    const repositories = isLocalStore(target)
      ? await withLocalStore(target, (store) => listRepositories(store))
      : await listThroughServer(target);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(repositories, null, 2)}\n`);
      return;
    }
    if (repositories.length === 0) {
      process.stdout.write('no repository imported yet: run cadence git import PATH|URL\n');
      return;
    }
    process.stdout.write(
      `${renderTable(
        ['NAME', 'COMMITS', 'HEAD', 'IMPORTED', 'RULES', 'SOURCE'],
        repositories.map((r) => [
          r.name,
          String(r.commitCount),
          r.head?.slice(0, 12) ?? '-',
          r.importedAt ? new Date(r.importedAt).toISOString().slice(0, 19) + 'Z' : '-',
          r.rulesYaml ? 'yes' : 'no',
          r.source,
        ]),
      )}\n`,
    );
  });

  return git;
}
