/**
 * bench/intake — sustained events/s (acknowledged only after a durable write) and latency for
 * single events and batches of 100, on PGlite and on PostgreSQL, side by side with a bare
 * node:http server that reads the body and answers 202 (the HTTP ceiling on this machine).
 * Also reports server RSS idle and under load (benchmark 6).
 *
 *   npm run bench:intake [-- --seconds 10 --connections 32]
 *
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * (a throwaway database is created on it and dropped afterwards).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const BATCH = 100;

const bin = fileURLToPath(new URL('../../bin/cadence.js', import.meta.url));
const bare = fileURLToPath(new URL('./bare-server.ts', import.meta.url));

interface Target {
  name: string;
  child: ChildProcess;
  url: string;
}

async function start(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Target> {
  const child = spawn(process.execPath, args, {
    // info: the server announces its URL at info; request logging is off, so this costs nothing.
    env: { ...process.env, CADENCE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"url":"([^"]+)"/.exec(buffer);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { name, child, url };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

let counter = 0;
function event(): Record<string, unknown> {
  counter++;
  return {
    specversion: '1.0',
    id: `bench-${counter}-${randomBytes(4).toString('hex')}`,
    source: '/bench/intake',
    type: 'com.example.bench',
    time: new Date().toISOString(),
    data: { service: 'web', environment: 'production', revision: counter, note: 'x'.repeat(200) },
  };
}

interface Result {
  target: string;
  mode: 'single' | `batch of ${number}`;
  requestsPerSecond: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  rssIdleMiB: number;
  rssLoadMiB: number;
}

async function load(target: Target, mode: 'single' | 'batch'): Promise<Result> {
  const rssIdleMiB = rssMiB(target.child.pid!);
  let rssLoadMiB = rssIdleMiB;
  const sampler = setInterval(
    () => (rssLoadMiB = Math.max(rssLoadMiB, rssMiB(target.child.pid!))),
    250,
  );
  const perRequest = mode === 'single' ? 1 : BATCH;
  const result = await autocannon({
    url: `${target.url}/events`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: {
      'content-type':
        mode === 'single' ? 'application/cloudevents+json' : 'application/cloudevents-batch+json',
    },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify(mode === 'single' ? event() : Array.from({ length: BATCH }, event)),
        }),
      },
    ],
  });
  clearInterval(sampler);
  const requestsPerSecond = result.requests.average;
  return {
    target: target.name,
    mode: mode === 'single' ? 'single' : `batch of ${BATCH}`,
    requestsPerSecond,
    eventsPerSecond: requestsPerSecond * perRequest,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx + result.errors,
    rssIdleMiB,
    rssLoadMiB,
  };
}

async function stop(target: Target): Promise<void> {
  const exited = new Promise((resolve) => target.child.once('exit', resolve));
  target.child.kill('SIGTERM');
  await exited;
}

const serverUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `cadence_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${dbName}`);
const dbUrl = new URL(serverUrl);
dbUrl.pathname = `/${dbName}`;
const dataDir = mkdtempSync(join(tmpdir(), 'cadence-bench-'));

const results: Result[] = [];
try {
  const plans: [string, () => Promise<Target>][] = [
    ['bare node:http', () => start('bare node:http', ['--import', 'tsx', bare])],
    [
      'cadence PGlite',
      () => start('cadence PGlite', [bin, 'serve', '--port', '0', '--data-dir', dataDir]),
    ],
    [
      'cadence PostgreSQL',
      () =>
        start('cadence PostgreSQL', [
          bin,
          'serve',
          '--port',
          '0',
          '--database-url',
          dbUrl.toString(),
        ]),
    ],
  ];
  for (const [name, launch] of plans) {
    if (values.only && !name.toLowerCase().includes(values.only.toLowerCase())) continue;
    const target = await launch();
    try {
      // Warm-up: JIT, connection pool, first pages of the table.
      await autocannon({
        url: `${target.url}/events`,
        method: 'POST',
        connections: 4,
        amount: 500,
        headers: { 'content-type': 'application/cloudevents+json' },
        requests: [{ setupRequest: (r) => ({ ...r, body: JSON.stringify(event()) }) }],
      });
      results.push(await load(target, 'single'));
      results.push(await load(target, 'batch'));
    } finally {
      await stop(target);
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}

const ceiling = (mode: Result['mode']) =>
  results.find((r) => r.target === 'bare node:http' && r.mode === mode);
const rows = results.map((r) => {
  const base = ceiling(r.mode);
  return {
    target: r.target,
    mode: r.mode,
    'events/s': Math.round(r.eventsPerSecond),
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    'vs bare (req/s)': base ? (r.requestsPerSecond / base.requestsPerSecond).toFixed(2) : '-',
    errors: r.non2xx,
    'RSS idle MiB': r.rssIdleMiB.toFixed(0),
    'RSS load MiB': r.rssLoadMiB.toFixed(0),
  };
});
console.log(
  `intake benchmark: ${seconds}s per run, ${connections} connections, node ${process.version}`,
);
console.table(rows);
