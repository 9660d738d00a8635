/**
 * One embedded data directory, many commands: `cadence serve` holds it, and `git import`,
 * `git report`, `sql`, `token create` and `events list` run beside it through its API (found in
 * the discovery file), each printing what it prints on a directory no server holds, with the
 * same exit codes. Then kill -9 of the server in the middle of an import: every commit the import
 * had reported written is still there after the restart, and the import completes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateHistory } from '../../bench/git-import/generate-history.js';
import { postEvent, runCadence, startCadence } from '../support/cadence-process.js';
import { buildVendoringRepo, VENDORING_RULES, type VendoringRepo } from '../support/git-fixture.js';

const BLOG_QUERY =
  "select id, file, additions from commits join stats on stats.commit_id = commits.id where file like 'deploy/prod%' order by id, file";

/**
 * What differs between two runs on two directories by nature: how long the import took and
 * when it happened (`importedAt` in JSON, the IMPORTED column of git list).
 */
const normalize = (text: string) =>
  text
    .replace(/ in \d+(\.\d+)?s;/, ' in Ns;')
    .replace(/"importedAt": "[^"]+"/g, '"importedAt": "T"')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, 'T');

describe('a data directory shared by cadence serve and the CLI', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-shared-dir-'));
  const alone = join(work, 'alone');
  const shared = join(work, 'shared');
  const rulesFile = join(work, 'rules.yaml');
  let repo: VendoringRepo;

  before(() => {
    repo = buildVendoringRepo();
    writeFileSync(rulesFile, VENDORING_RULES);
  });
  after(() => {
    repo.fixture.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs git import, git report, sql, token create and events list beside the server, as without one', async () => {
    const commands: string[][] = [
      ['git', 'import', repo.fixture.dir, '--name', 'gitops', '--rules', rulesFile],
      ['git', 'import', repo.fixture.dir, '--name', 'gitops', '--json'],
      ['git', 'report', '--as-of', '2024-02-20'],
      ['git', 'report', '--as-of', '2024-02-20', '--rules', rulesFile, '--json'],
      ['git', 'intervals', '--as-of', '2024-02-20'],
      ['git', 'list'],
      ['sql', BLOG_QUERY, '--format', 'csv'],
      ['sql', 'delete from commits'],
      ['git', 'report', '--repository', 'nope'],
      ['git', 'import', join(work, 'missing')],
    ];
    const withoutServer = commands.map((args) => runCadence([...args, '--data-dir', alone]));
    const server = await startCadence(['--data-dir', shared]);
    try {
      const discovery = JSON.parse(readFileSync(join(shared, 'cadence-server.json'), 'utf8'));
      assert.equal(discovery.url, server.url);
      // The fresh directory came from the build's template, and the log says so.
      assert.ok(
        server.logs.some((line) => /"from":"template".*"msg":"embedded store created"/.test(line)),
        server.logs.join('\n'),
      );
      for (const [index, args] of commands.entries()) {
        const expected = withoutServer[index]!;
        const actual = runCadence([...args, '--data-dir', shared]);
        const what = args.join(' ');
        assert.equal(actual.status, expected.status, `${what}: ${actual.stderr}`);
        if (args.includes('--json') && args[1] === 'import') {
          const strip = (text: string) => ({ ...JSON.parse(text), durationMs: 0 });
          assert.deepEqual(strip(actual.stdout), strip(expected.stdout), what);
        } else {
          assert.equal(normalize(actual.stdout), normalize(expected.stdout), what);
        }
        assert.equal(actual.stderr, expected.stderr, what);
      }
      // Something to compare: a report line with numbers, and an error for the refused query.
      assert.match(withoutServer[2]!.stdout, /redis\s+[0-9a-f]{10}.*25\.5\n/);
      assert.match(withoutServer[7]!.stderr, /only queries run here/);

      // A token minted beside the server is in the server's store: it authenticates there.
      const token = (dir: string) =>
        runCadence(['token', 'create', 'ci', '--services', '*', '--actions', 'read'], {
          CADENCE_DATA_DIR: dir,
        });
      const [plain, served] = [token(alone), token(shared)];
      assert.equal(served.status, plain.status, served.stderr);
      const secret = /^ci:(cdt_\S+)\n/;
      assert.equal(
        served.stdout.replace(secret, 'ci:SECRET\n'),
        plain.stdout.replace(secret, 'ci:SECRET\n'),
      );
      const sql = await fetch(`${server.url}/api/v1/sql`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ci:${secret.exec(served.stdout)![1]}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ query: 'select count(*)::int as n from commits' }),
      });
      assert.equal(sql.status, 200);
      assert.deepEqual(await sql.json(), { columns: ['n'], rows: [[16]] });

      // events list finds the server from the data directory, as --server URL would.
      const posted = await postEvent(server.url, {
        specversion: '1.0',
        id: 'shared-1',
        source: '/shared',
        type: 'com.example.shared',
        data: {},
      });
      assert.equal(posted.status, 202);
      const discovered = runCadence(['events', 'list', '--data-dir', shared]);
      const explicit = runCadence(['events', 'list', '--server', server.url]);
      assert.equal(discovered.status, 0, discovered.stderr);
      assert.equal(discovered.stdout, explicit.stdout);
      assert.match(discovered.stdout, /com\.example\.shared\s+\/shared\s+shared-1/);

      // Every other command finds it the same way (one routing decision, command-target.ts).
      for (const args of [['analyses'], ['analyses', 'nope'], ['rollouts'], ['updates'], ['ls']]) {
        const found = runCadence([...args, '--data-dir', shared]);
        const named = runCadence([...args, '--server', server.url], {
          CADENCE_TOKEN: `ci:${secret.exec(served.stdout)![1]}`,
        });
        const what = args.join(' ');
        assert.equal(found.status, named.status, `${what}: ${found.stderr}`);
        assert.equal(normalize(found.stdout), normalize(named.stdout), what);
        assert.equal(found.stderr, named.stderr, what);
      }
      // token list needs admin: the local credential has it, the read-only ci token has not.
      const admins = runCadence(['token', 'list', '--data-dir', shared]);
      assert.match(admins.stdout, /^NAME\s+ACTIONS.*\nci\s+read\s/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('takes the local credential from a CLI on this machine when bound to a non-loopback address', async (t) => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry?.family === 'IPv4' && !entry.internal)?.address;
    if (!address) {
      t.skip('this machine has no non-loopback IPv4 address to bind to');
      return;
    }
    const dir = join(work, 'bound');
    const server = await startCadence(['--host', address, '--data-dir', dir]);
    try {
      assert.equal(new URL(server.url).hostname, address);
      const created = runCadence(
        ['token', 'create', 'bound', '--services', '*', '--actions', 'read', '--data-dir', dir],
        { CADENCE_TOKEN: '' },
      );
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /^bound:cdt_/);
      const listed = runCadence(['token', 'list', '--data-dir', dir]);
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /\nbound\s+read\s/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('removes the discovery file on a clean stop; the CLI then opens the store itself', () => {
    assert.throws(() => readFileSync(join(shared, 'cadence-server.json')), { code: 'ENOENT' });
    const list = runCadence(['git', 'list', '--data-dir', shared]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+COMMITS.*\ngitops\s+16\s/);
  });

  it('kill -9 mid-import loses no commit the import reported written', async () => {
    const big = join(work, 'big');
    mkdirSync(big);
    execFileSync('git', ['init', '--quiet', big]);
    const total = await generateHistory(big, { commits: 4000, seed: 3 });
    execFileSync('git', ['-C', big, 'reset', '--quiet', '--hard', 'main']);
    const server = await startCadence(['--data-dir', shared]);
    const { credential } = JSON.parse(readFileSync(join(shared, 'cadence-server.json'), 'utf8'));
    // The stream the CLI's progress bar reads, read here to know what was reported.
    const response = await fetch(`${server.url}/api/v1/cadence/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: big, name: 'big' }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/x-ndjson/);
    let reported = 0;
    let finished = false;
    const reader = response.body!.getReader();
    let buffer = '';
    const decoder = new TextDecoder();
    while (reported === 0) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (const line of buffer.split('\n').slice(0, -1)) {
        const message = JSON.parse(line) as { progress?: { commits: number }; summary?: unknown };
        if (message.progress) reported = Math.max(reported, message.progress.commits);
        if (message.summary) finished = true;
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    }
    server.child.kill('SIGKILL');
    await server.exited;
    await reader.cancel().catch(() => undefined);
    assert.ok(reported > 0 && reported < total && !finished, `killed mid-import (${reported})`);

    // Without the server (its discovery file is stale now), the CLI opens the store itself.
    const count = runCadence(
      ['sql', "select count(*)::int as n from commits where repository = 'big'", '--json'],
      { CADENCE_DATA_DIR: shared },
    );
    assert.equal(count.status, 0, count.stderr);
    const [{ n }] = JSON.parse(count.stdout) as [{ n: number }];
    assert.ok(n >= reported, `${n} commits stored, ${reported} reported written`);

    const again = runCadence(['git', 'import', big, '--name', 'big', '--json'], {
      CADENCE_DATA_DIR: shared,
    });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).commitsStored, total);
  });
});
