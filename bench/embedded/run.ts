/**
 * bench/embedded — memory and start-up of `cadence serve` and a one-shot CLI command on both
 * engines, side by side with the floor: `node -e` opening the bare engine (PGlite on the same
 * data directory; a `pg` client on the same database) in the same run.
 *
 *   npm run build && node --import tsx bench/embedded/run.ts [-- --events 100000 --commits 100000]
 *
 * Rows: first start on a fresh directory/database (time to listening), idle RSS, RSS after
 * --events events (batches of 100 over HTTP) and after a --commits commit import run in the
 * server (POST /api/v1/cadence/imports, as `cadence git import` beside a server does), then a
 * one-shot `cadence git list` with no server (wall, max RSS).
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateHistory } from '../git-import/generate-history.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    commits: { type: 'string', default: '100000' },
  },
});
const EVENTS = Number(values.events);
const COMMITS = Number(values.commits);
const bin = fileURLToPath(new URL('../../bin/cadence.js', import.meta.url));
const pgliteModule = fileURLToPath(
  new URL('../../node_modules/@electric-sql/pglite/dist/index.js', import.meta.url),
);
const pgModule = fileURLToPath(new URL('../../node_modules/pg/lib/index.js', import.meta.url));
const serverUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const work = mkdtempSync(join(tmpdir(), 'cadence-bench-embedded-'));
const mib = (kb: number) => Math.round(kb / 1024);

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** RSS once it stops moving (two samples 500 ms apart within 2 MiB), at most 10 s. */
async function settledRss(pid: number): Promise<number> {
  let last = rssKb(pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = rssKb(pid);
    if (Math.abs(now - last) < 2048) return now;
    last = now;
  }
  return last;
}

/** Wall seconds and max RSS (KiB) of one command, as /usr/bin/time reports them. */
function timed(command: string[], env: NodeJS.ProcessEnv = {}): { seconds: number; kb: number } {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %M', ...command], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${command.join(' ')}: ${result.stderr}`);
  const [seconds, kb] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { seconds: seconds!, kb: kb! };
}

async function startServer(args: string[], env: NodeJS.ProcessEnv) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
    {
      env: { ...process.env, CADENCE_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'cadence listening' && entry.url) resolve(entry.url);
        } catch {
          // a partial line
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { child, url, startSeconds: (performance.now() - started) / 1000 };
}

async function postEvents(url: string, count: number) {
  for (let sent = 0; sent < count; sent += 100) {
    const batch = Array.from({ length: Math.min(100, count - sent) }, (_, i) => ({
      specversion: '1.0',
      id: `bench-${sent + i}`,
      source: '/bench',
      type: 'com.example.bench',
      data: { n: sent + i },
    }));
    const response = await fetch(`${url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(batch),
    });
    if (response.status !== 202) throw new Error(`intake answered ${response.status}`);
  }
}

async function importInServer(url: string, token: string, source: string) {
  const send = () =>
    fetch(`${url}/api/v1/cadence/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source, name: 'bench' }),
    });
  // A keep-alive connection the server closed while the bench was measuring: sent again once.
  const response = await send().catch(send);
  const text = await response.text();
  if (!text.includes('"summary"')) throw new Error(`import failed: ${text.slice(-500)}`);
}

const repo = join(work, 'repo');
mkdirSync(repo);
spawnSync('git', ['init', '--quiet', repo]);
await generateHistory(repo, { commits: COMMITS, seed: 5 });
spawnSync('git', ['-C', repo, 'reset', '--quiet', '--hard', 'main']);

interface Row {
  engine: string;
  firstStart: number;
  idle: number;
  afterEvents: number;
  afterImport: number;
  cli: { seconds: number; kb: number };
  floor: { seconds: number; kb: number };
}
const rows: Row[] = [];

for (const engine of ['pglite', 'postgres'] as const) {
  const dataDir = join(work, engine);
  let databaseUrl: string | undefined;
  if (engine === 'postgres') {
    const name = `cadence_bench_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  const storeArgs = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir];
  const server = await startServer(storeArgs, {});
  const idle = await settledRss(server.child.pid!);
  await postEvents(server.url, EVENTS);
  const afterEvents = await settledRss(server.child.pid!);
  // An admin token for the import (the embedded server's local credential would do as well).
  const created = spawnSync(
    process.execPath,
    [
      bin,
      'token',
      'create',
      'bench',
      '--services',
      '*',
      '--actions',
      'admin',
      '--json',
      ...storeArgs,
    ],
    { encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(created.stderr);
  await importInServer(server.url, JSON.parse(created.stdout).token, repo);
  const afterImport = await settledRss(server.child.pid!);
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  const cli = timed([process.execPath, bin, 'git', 'list', ...storeArgs]);
  const floor =
    engine === 'pglite'
      ? timed([
          process.execPath,
          '-e',
          `import(${JSON.stringify(pgliteModule)}).then(async ({ PGlite }) => { const db = await PGlite.create({ dataDir: ${JSON.stringify(join(dataDir, 'pglite'))} }); await db.query('select 1'); await db.close(); })`,
        ])
      : timed([
          process.execPath,
          '-e',
          `const pg = require(${JSON.stringify(pgModule)}); const c = new pg.Client(${JSON.stringify(databaseUrl)}); c.connect().then(() => c.query('select 1')).then(() => c.end())`,
        ]);
  rows.push({
    engine,
    firstStart: server.startSeconds,
    idle,
    afterEvents,
    afterImport,
    cli,
    floor,
  });
  if (databaseUrl) {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database ${new URL(databaseUrl).pathname.slice(1)} with (force)`);
    await admin.end();
  }
}

const floorFresh = timed([
  process.execPath,
  '-e',
  `import(${JSON.stringify(pgliteModule)}).then(async ({ PGlite }) => { const db = await PGlite.create({ dataDir: ${JSON.stringify(join(work, 'fresh-floor'))} }); await db.close(); })`,
]);
rmSync(work, { recursive: true, force: true });

console.log(
  `load ${readFileSync('/proc/loadavg', 'utf8').trim()}; ${EVENTS} events, ${COMMITS} commits`,
);
console.log('| | PGlite | PostgreSQL |');
console.log('| --- | --- | --- |');
const [lite, post] = rows as [Row, Row];
const line = (label: string, a: string, b: string) => console.log(`| ${label} | ${a} | ${b} |`);
line(
  'first start, fresh directory / empty database (to listening)',
  `${lite.firstStart.toFixed(1)} s (floor: bare PGlite initdb ${floorFresh.seconds} s, ${mib(floorFresh.kb)} MiB)`,
  `${post.firstStart.toFixed(1)} s`,
);
line('server RSS idle', `${mib(lite.idle)} MiB`, `${mib(post.idle)} MiB`);
line(
  `server RSS after ${EVENTS} events`,
  `${mib(lite.afterEvents)} MiB`,
  `${mib(post.afterEvents)} MiB`,
);
line(
  `server RSS after a ${COMMITS}-commit import`,
  `${mib(lite.afterImport)} MiB`,
  `${mib(post.afterImport)} MiB`,
);
line(
  'one-shot `git list`, no server: wall, max RSS',
  `${lite.cli.seconds} s, ${mib(lite.cli.kb)} MiB`,
  `${post.cli.seconds} s, ${mib(post.cli.kb)} MiB`,
);
line(
  'floor: `node -e` opening the bare engine',
  `${lite.floor.seconds} s, ${mib(lite.floor.kb)} MiB`,
  `${post.floor.seconds} s, ${mib(post.floor.kb)} MiB`,
);
line(
  'ratio one-shot / floor (wall, RSS)',
  `${(lite.cli.seconds / lite.floor.seconds).toFixed(2)}×, ${(lite.cli.kb / lite.floor.kb).toFixed(2)}×`,
  `${(post.cli.seconds / post.floor.seconds).toFixed(2)}×, ${(post.cli.kb / post.floor.kb).toFixed(2)}×`,
);
