/**
 * `cadence git import|report|list` and `cadence sql`, the built CLI on a fixture repository: on
 * the embedded store (then served by `cadence serve`, which holds the data directory) and on
 * PostgreSQL. Bad input is one line on stderr and a non-zero exit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createThrowawayDatabase } from '../support/engines.js';
import { runCadence, startCadence } from '../support/cadence-process.js';
import { buildVendoringRepo, VENDORING_RULES, type VendoringRepo } from '../support/git-fixture.js';

const BLOG_QUERY =
  "select * from commits left join stats on stats.commit_id = commits.id where file like 'deploy/prod%'";

describe('cadence git and cadence sql', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-git-cli-'));
  const dataDir = join(work, 'data');
  const rulesFile = join(work, 'rules.yaml');
  let repo: VendoringRepo;
  const cli = (args: string[]) => runCadence(args, { CADENCE_DATA_DIR: dataDir });

  before(() => {
    repo = buildVendoringRepo();
    writeFileSync(rulesFile, VENDORING_RULES);
  });
  after(() => {
    repo.fixture.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('imports a repository with its rules, then only what is new', () => {
    const first = cli([
      'git',
      'import',
      repo.fixture.dir,
      '--name',
      'gitops',
      '--rules',
      rulesFile,
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(
      first.stdout,
      /^imported gitops: 16 new commits, \d+ file changes \(full import\)/,
    );
    // Not a terminal: no progress bar.
    assert.equal(first.stderr, '');
    const again = cli(['git', 'import', repo.fixture.dir, '--name', 'gitops', '--json']);
    assert.equal(again.status, 0, again.stderr);
    const summary = JSON.parse(again.stdout);
    assert.deepEqual(
      [summary.mode, summary.commitsAdded, summary.commitsStored],
      ['unchanged', 0, 16],
    );
  });

  it('prints the report as tables', () => {
    const result = cli(['git', 'report', '--as-of', '2024-02-20']);
    assert.equal(result.status, 0, result.stderr);
    const text = result.stdout;
    assert.match(
      text,
      /^gitops at [0-9a-f]{12}, rules stored, as of 2024-02-20; production: production/,
    );
    assert.match(
      text,
      /nginx\s+[0-9a-f]{10}\s+2024-01-05 00:00\s+[0-9a-f]{10}\s+2024-01-06 12:00\s+1\.5\n/,
    );
    assert.match(
      text,
      /redis\s+[0-9a-f]{10}\s+2024-01-20 00:00\s+[0-9a-f]{10}\s+2024-02-14 12:00\s+25\.5\n/,
    );
    assert.match(
      text,
      /PENDING \(no deploy yet\)\nPACKAGE\s+CAUSE\s+CAUSED \(UTC\)\s+AGE \(DAYS\)\npostgres\s+[0-9a-f]{10}\s+2024-02-10 00:00\s+10\n/,
    );
    assert.match(
      text,
      /current month \(2024-02\): 2 updates, min 3, median 14\.25, max 25\.5 days/,
    );
    assert.match(
      text,
      /last 3 months \(2023-12 to 2024-02\): 6 updates, min 1\.5, median 4, max 25\.5 days/,
    );
    assert.match(
      text,
      /2024-01\s+4\s+1\.5\s+4\s+5\s+1\.95\s+2\.4\s+2\.85\s+3\.4\s+4\s+4\.6\s+5\s+5\s+5\n/,
    );
    assert.match(text, /2024-01\s+3\s+5\s+nginx 2, redis 1\n2024-02\s+2\s+2\s+nginx 1, redis 1\n/);
    assert.match(text, /production\s+2024-02\s+2\s+10\.5\s+15\.25\s+20\n/);
  });

  it('prints the report as JSON with --json', () => {
    const result = cli([
      'git',
      'report',
      '--repository',
      'gitops',
      '--as-of',
      '2024-02-20',
      '--json',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.updates.length, 6);
    assert.deepEqual(report.lastThreeMonths, {
      from: '2023-12',
      to: '2024-02',
      count: 6,
      min: 1.5,
      median: 4,
      max: 25.5,
    });
    assert.deepEqual(report.causesByMonth, [
      { month: '2024-01', causes: 5 },
      { month: '2024-02', causes: 2 },
    ]);
  });

  it("runs askgit's blog query as a table, CSV and JSON", () => {
    const table = cli(['sql', BLOG_QUERY]);
    assert.equal(table.status, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^repository\s+id\s+message\s+.*\s+parents\s+parent_ids\s+repository\s+commit_id\s+file\s+additions\s+deletions$/,
    );
    // The root commit (2 files), three merged branch commits and their merges (1 file each)
    // and the squash merge (2 files): 10 rows.
    assert.equal(lines.at(-1), '(10 rows)');
    assert.equal(lines.length, 1 + 10 + 1);

    const csv = cli([
      'sql',
      '--format',
      'csv',
      "select file, additions, message from stats join commits on commits.id = commit_id and commits.repository = stats.repository where file like 'deploy/prod/nginx%' order by author_when limit 2",
    ]);
    assert.equal(csv.status, 0, csv.stderr);
    assert.equal(
      csv.stdout,
      'file,additions,message\r\ndeploy/prod/nginx/version,1,Initial commit\r\ndeploy/prod/nginx/version,1,bump nginx in prod\r\n',
    );

    const json = cli([
      'sql',
      '--json',
      "select id, commits.repository, file from commits left join stats on stats.commit_id = commits.id where commits.message like 'Deploy nginx%' order by file",
    ]);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [
      { id: repo.commits.squashPr2, repository: 'gitops', file: 'deploy/prod/nginx/version' },
      { id: repo.commits.squashPr2, repository: 'gitops', file: 'deploy/prod/redis/version' },
    ]);
    const both = JSON.parse(cli(['sql', '--json', `${BLOG_QUERY} limit 1`]).stdout);
    assert.deepEqual([both[0].repository, both[0].repository_2], ['gitops', 'gitops']);
  });

  it('fails with one clear line and a non-zero exit on bad input', () => {
    const cases: [args: string[], status: number, stderr: RegExp][] = [
      [
        ['sql', 'delete from commits'],
        1,
        /^cadence: only queries run here .* not DELETE.* \(query\)\n$/,
      ],
      [['sql', 'select 1; select 2'], 1, /^cadence: one statement at a time.*\(query\)\n$/],
      [
        ['sql', 'select nope from commits'],
        1,
        /^cadence: query failed: column "nope" does not exist \(query\)\n$/,
      ],
      [
        ['git', 'import', join(work, 'missing')],
        1,
        /^cadence: .*missing is neither a directory nor a git URL \(source\)\n$/,
      ],
      [
        ['git', 'import', repo.fixture.dir, '--rules', join(work, 'missing.yaml')],
        1,
        /^cadence: cannot read rules file .*missing\.yaml.*\(rules\)\n$/,
      ],
      [
        ['git', 'report', '--repository', 'nope'],
        4,
        /^cadence: no repository nope has been imported \(imported: gitops\) \(repository\)\n$/,
      ],
      [
        ['git', 'report', '--as-of', 'someday'],
        1,
        /^cadence: --as-of someday is not an RFC 3339 time or a date \(as-of\)\n$/,
      ],
    ];
    for (const [args, status, stderr] of cases) {
      const result = cli(args);
      assert.equal(result.status, status, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, stderr);
      assert.equal(result.stdout, '');
    }
  });

  it('goes through the server that holds the data directory, and the server serves the report', async () => {
    const server = await startCadence(['--data-dir', dataDir]);
    try {
      // The server holds the embedded store: the CLI finds it in the discovery file and asks it.
      const through = cli(['git', 'import', repo.fixture.dir, '--name', 'gitops']);
      assert.equal(through.status, 0, through.stderr);
      assert.match(through.stdout, /^gitops is up to date at [0-9a-f]{12} \(16 commits\)\n$/);
      const response = await fetch(
        `${server.url}/api/v1/cadence/report?repository=gitops&asOf=2024-02-20`,
      );
      assert.equal(response.status, 200);
      const fromApi = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(fromApi.currentMonth, {
        month: '2024-02',
        count: 2,
        min: 3,
        median: 14.25,
        max: 25.5,
      });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('imports and reports on PostgreSQL the same numbers as on the embedded store', async () => {
    const database = await createThrowawayDatabase();
    try {
      const env = { DATABASE_URL: database.url };
      const imported = runCadence(
        ['git', 'import', repo.fixture.dir, '--name', 'gitops', '--rules', rulesFile],
        env,
      );
      assert.equal(imported.status, 0, imported.stderr);
      assert.match(imported.stdout, /imported gitops: 16 new commits/);
      const onPostgres = JSON.parse(
        runCadence(['git', 'report', '--as-of', '2024-02-20', '--json'], env).stdout,
      );
      const embedded = JSON.parse(cli(['git', 'report', '--as-of', '2024-02-20', '--json']).stdout);
      delete onPostgres.importedAt;
      delete embedded.importedAt;
      assert.deepEqual(onPostgres, embedded);
      const sql = runCadence(['sql', '--json', 'select count(*)::int as n from stats'], env);
      assert.equal(sql.status, 0, sql.stderr);
      const counted = JSON.parse(
        cli(['sql', '--json', 'select count(*)::int as n from stats']).stdout,
      );
      assert.deepEqual(JSON.parse(sql.stdout), counted);
    } finally {
      await database.drop();
    }
  });
});
