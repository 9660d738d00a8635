/**
 * bench/intake — sustained events/s (acknowledged only after a durable write) and latency for
 * single events and batches of 100, on PGlite and on PostgreSQL, side by side with a bare
 * node:http server that reads the body and answers 202 (the HTTP ceiling on this machine).
 * Rounds are interleaved (bare, PostgreSQL, PGlite, bare, PostgreSQL, PGlite, …), each target
 * restarted per round, so machine noise falls on every target alike; the table gives the median
 * round. Also reports CPU seconds per 10k events of the server (utime + stime from
 * /proc/PID/stat) and of this load generator (process.cpuUsage), and server RSS idle and under
 * load (benchmark 6).
 *
 *   npm run bench:intake [-- --seconds 10 --connections 32 --rounds 3 --only pglite]
 *
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * (a throwaway database is created on it and dropped afterwards).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cadenceBin, cpuSeconds, startAnnounced, stopProcess } from '../support/processes.js';
import { scratchDatabases } from '../support/scratch-databases.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const BATCH = 100;

const bare = fileURLToPath(new URL('./bare-server.ts', import.meta.url));

interface Target {
  name: string;
  child: ChildProcess;
  url: string;
}

async function start(name: string, args: string[]): Promise<Target> {
  return { name, ...(await startAnnounced(args)) };
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
  /** CPU seconds per 10,000 acknowledged events: the server's, and the load generator's. */
  serverCpuPer10k: number;
  generatorCpuPer10k: number;
}

async function load(target: Target, mode: 'single' | 'batch'): Promise<Result> {
  const rssIdleMiB = rssMiB(target.child.pid!);
  let rssLoadMiB = rssIdleMiB;
  const sampler = setInterval(
    () => (rssLoadMiB = Math.max(rssLoadMiB, rssMiB(target.child.pid!))),
    250,
  );
  const perRequest = mode === 'single' ? 1 : BATCH;
  const serverCpu = cpuSeconds(target.child.pid!);
  const generatorCpu = process.cpuUsage();
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
  const generatorUsed = process.cpuUsage(generatorCpu);
  const serverUsed = cpuSeconds(target.child.pid!) - serverCpu;
  const requestsPerSecond = result.requests.average;
  const per10k = 10_000 / Math.max(1, requestsPerSecond * perRequest * seconds);
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
    serverCpuPer10k: serverUsed * per10k,
    generatorCpuPer10k: ((generatorUsed.user + generatorUsed.system) / 1e6) * per10k,
  };
}

const databases = await scratchDatabases();
const dbUrl = await databases.create();
const dataDir = mkdtempSync(join(tmpdir(), 'cadence-bench-'));
// Back-pressure off: this measures what the intake acknowledges, not the router's 429s (a batch
// run stores far more than router.maxBacklog in its seconds).
const configFile = join(dataDir, 'bench-config.yaml');
writeFileSync(configFile, 'router: { maxBacklog: 100000000 }\n');

const results: Result[] = [];
const loadBefore = loadavg();
try {
  const plans: [string, () => Promise<Target>][] = [
    ['bare node:http', () => start('bare node:http', ['--import', 'tsx', bare])],
    [
      'cadence PostgreSQL',
      () =>
        start('cadence PostgreSQL', [
          cadenceBin,
          'serve',
          '--port',
          '0',
          '--database-url',
          dbUrl,
          '--config',
          configFile,
        ]),
    ],
    [
      'cadence PGlite',
      () =>
        start('cadence PGlite', [
          cadenceBin,
          'serve',
          '--port',
          '0',
          '--data-dir',
          join(dataDir, 'data'),
          '--config',
          configFile,
        ]),
    ],
  ];
  for (let round = 1; round <= rounds; round++) {
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
        for (const mode of ['single', 'batch'] as const) {
          const result = await load(target, mode);
          results.push(result);
          console.log(
            `round ${round}: ${name}, ${result.mode}: ${Math.round(result.eventsPerSecond)} events/s`,
          );
        }
      } finally {
        await stopProcess(target);
      }
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  await databases.dropAll();
}

/** Per target and mode, the round with the median events/s. */
const medians: Result[] = [];
for (const result of results) {
  if (medians.some((m) => m.target === result.target && m.mode === result.mode)) continue;
  const same = results
    .filter((r) => r.target === result.target && r.mode === result.mode)
    .sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
  medians.push(same[same.length >> 1]!);
}
const ceiling = (mode: Result['mode']) =>
  medians.find((r) => r.target === 'bare node:http' && r.mode === mode);
const rows = medians.map((r) => {
  const base = ceiling(r.mode);
  const rounds = results.filter((x) => x.target === r.target && x.mode === r.mode);
  return {
    target: r.target,
    mode: r.mode,
    'events/s': Math.round(r.eventsPerSecond),
    rounds: rounds.map((x) => Math.round(x.eventsPerSecond)).join(' / '),
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    'vs bare (req/s)': base ? (r.requestsPerSecond / base.requestsPerSecond).toFixed(2) : '-',
    errors: rounds.reduce((sum, x) => sum + x.non2xx, 0),
    'server CPU s/10k ev': r.serverCpuPer10k.toFixed(2),
    'generator CPU s/10k ev': r.generatorCpuPer10k.toFixed(2),
    'RSS idle MiB': r.rssIdleMiB.toFixed(0),
    'RSS load MiB': r.rssLoadMiB.toFixed(0),
  };
});
console.log(
  `intake benchmark: ${seconds}s per run, ${connections} connections, ${rounds} interleaved rounds, node ${process.version}; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.table(rows);
