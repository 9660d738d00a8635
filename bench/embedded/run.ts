/**
 * bench/embedded — memory and start-up of `cadence serve` and a one-shot CLI command on both
 * engines, side by side with the floor: `node -e` opening the bare engine (PGlite on the same
 * data directory; a `pg` client on the same database) in the same run.
 *
 *   npm run build && node --import tsx bench/embedded/run.ts [-- --events 100000 --commits 100000]
 *
 * Rows: first start on a fresh directory/database (time to listening; PGlite: the median of three
 * fresh directories, made from the build's template), idle RSS, RSS after --events events
 * (batches of 100 over HTTP) and after a --commits commit import run in the server (POST
 * /api/v1/cadence/imports, as `cadence git import` beside a server does), then one-shot
 * `cadence git list`, `sql` and `token create` with no server (wall, max RSS; medians of three).
 * Floors: the bare engine opening the same directory, and for the first start PGlite loading the
 * same template (`loadDataDir`) and PGlite's own initdb.
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateHistory } from '../git-import/generate-history.js';
import { serveCadence } from '../support/processes.js';
import { scratchDatabases } from '../support/scratch-databases.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    commits: { type: 'string', default: '100000' },
  },
});
const EVENTS = Number(values.events);
const COMMITS = Number(values.commits);
const bin = fileURLToPath(new URL('../../bin/cadence.js', import.meta.url));
const template = fileURLToPath(new URL('../../dist/pglite-template.tar.gz', import.meta.url));
const pgliteModule = fileURLToPath(
  new URL('../../node_modules/@electric-sql/pglite/dist/index.js', import.meta.url),
);
const pgModule = fileURLToPath(new URL('../../node_modules/pg/lib/index.js', import.meta.url));
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
  const server = await serveCadence(['--host', '127.0.0.1', ...args], env);
  return { ...server, startSeconds: (performance.now() - started) / 1000 };
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

interface Timed {
  seconds: number;
  kb: number;
}
interface Row {
  engine: string;
  firstStart: number;
  idle: number;
  afterEvents: number;
  afterImport: number;
  cli: Record<'git list' | 'sql' | 'token create', Timed>;
  floor: Timed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** The median wall time and max RSS of three runs of one command. */
function timedMedian(command: string[]): Timed {
  const runs = [0, 1, 2].map(() => timed(command));
  return { seconds: median(runs.map((r) => r.seconds)), kb: median(runs.map((r) => r.kb)) };
}
const rows: Row[] = [];

for (const engine of ['pglite', 'postgres'] as const) {
  const dataDir = join(work, engine);
  let databaseUrl: string | undefined;
  const databases = engine === 'postgres' ? await scratchDatabases() : undefined;
  if (databases) databaseUrl = await databases.create();
  const storeArgs = databaseUrl ? ['--database-url', databaseUrl] : ['--data-dir', dataDir];
  // PGlite's first start, twice more on fresh directories of their own (the third is below).
  const firstStarts: number[] = [];
  if (!databaseUrl) {
    for (const extra of ['fresh-1', 'fresh-2']) {
      const started = await startServer(['--data-dir', join(work, extra)], {});
      firstStarts.push(started.startSeconds);
      started.child.kill('SIGTERM');
      await new Promise((resolve) => started.child.once('exit', resolve));
    }
  }
  const server = await startServer(storeArgs, {});
  firstStarts.push(server.startSeconds);
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
  const cli = {
    'git list': timedMedian([process.execPath, bin, 'git', 'list', ...storeArgs]),
    sql: timedMedian([process.execPath, bin, 'sql', 'select count(*) from commits', ...storeArgs]),
    'token create': timedMedian([
      process.execPath,
      bin,
      'token',
      'create',
      'one-shot',
      '--services',
      '*',
      '--actions',
      'read',
      ...storeArgs,
    ]),
  };
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
    firstStart: median(firstStarts),
    idle,
    afterEvents,
    afterImport,
    cli,
    floor,
  });
  await databases?.dropAll();
}

const floorFresh = timed([
  process.execPath,
  '-e',
  `import(${JSON.stringify(pgliteModule)}).then(async ({ PGlite }) => { const db = await PGlite.create({ dataDir: ${JSON.stringify(join(work, 'fresh-floor'))} }); await db.close(); })`,
]);
const floorTemplate = timed([
  process.execPath,
  '-e',
  `import(${JSON.stringify(pgliteModule)}).then(async ({ PGlite }) => { const blob = new Blob([require('node:fs').readFileSync(${JSON.stringify(template)})]); const db = await PGlite.create({ dataDir: ${JSON.stringify(join(work, 'template-floor'))}, loadDataDir: blob }); await db.close(); })`,
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
  `${lite.firstStart.toFixed(1)} s (floors: bare PGlite from the same template ${floorTemplate.seconds} s, ${mib(floorTemplate.kb)} MiB; bare PGlite initdb ${floorFresh.seconds} s, ${mib(floorFresh.kb)} MiB)`,
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
for (const command of ['git list', 'sql', 'token create'] as const) {
  line(
    `one-shot \`${command}\`, no server: wall, max RSS`,
    `${lite.cli[command].seconds} s, ${mib(lite.cli[command].kb)} MiB`,
    `${post.cli[command].seconds} s, ${mib(post.cli[command].kb)} MiB`,
  );
}
line(
  'floor: `node -e` opening the bare engine',
  `${lite.floor.seconds} s, ${mib(lite.floor.kb)} MiB`,
  `${post.floor.seconds} s, ${mib(post.floor.kb)} MiB`,
);
line(
  'one-shot `git list` / floor (wall, RSS)',
  `${(lite.cli['git list'].seconds / lite.floor.seconds).toFixed(2)}×, ${(lite.cli['git list'].kb / lite.floor.kb).toFixed(2)}×`,
  `${(post.cli['git list'].seconds / post.floor.seconds).toFixed(2)}×, ${(post.cli['git list'].kb / post.floor.kb).toFixed(2)}×`,
);
