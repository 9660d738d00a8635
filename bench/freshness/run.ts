/**
 * bench/freshness — how fresh the metrics stay under sustained single-event load. Every event is
 * a real `service.deployed` CDEvent (POST /cdevents, one per request) that becomes a deployment.
 * Per engine, side by side in one run:
 *   1. intake only: a `cadence serve` with the router off, driven flat out (32 connections): the
 *      acknowledged events/s the intake can take — the floor the router has to keep up with;
 *   2. the full server at a fixed offered rate (5,000/s PostgreSQL, 2,000/s PGlite by default):
 *      routing lag (cadence_router_lag_seconds sampled every 250 ms, from a /metrics scrape
 *      narrowed to no service), the time from a probe event's 202 to that deployment counted in
 *      /api/v1/metrics (one probe a second), the backlog (freshness.pending) when the load stops,
 *      and one full /metrics scrape (every stream's DORA gauges) timed at the end of the load.
 *
 *   npm run bench:freshness [-- --seconds 60 --pg-rate 5000 --pglite-rate 2000 --only postgres]
 *
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * (throwaway databases). Needs `npm run build` (it runs bin/cadence.js).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cpuSeconds, serveCadence, stopProcess, type ServerProcess } from '../support/processes.js';
import { scratchDatabases } from '../support/scratch-databases.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'pg-rate': { type: 'string', default: '5000' },
    'pglite-rate': { type: 'string', default: '2000' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const scratch = mkdtempSync(join(tmpdir(), 'cadence-freshness-'));

let counter = 0;
const runId = randomBytes(3).toString('hex');
function deployed(service: string): string {
  counter++;
  const id = `fresh-${runId}-${counter}`;
  return JSON.stringify({
    context: {
      specversion: '0.5.1',
      id,
      source: '/bench/freshness',
      type: 'dev.cdevents.service.deployed.0.3.0',
      timestamp: new Date().toISOString(),
    },
    subject: {
      id: service,
      content: {
        environment: { id: 'production' },
        artifactId: `pkg:oci/${service}@sha256%3A${counter.toString(16)}`,
      },
    },
  });
}

type Server = ServerProcess;

function serve(args: string[], routerEnabled: boolean): Promise<Server> {
  const config = join(scratch, `config-${randomBytes(3).toString('hex')}.yaml`);
  // Back-pressure off: this measures how far behind routing falls, not the 429s.
  writeFileSync(config, `router: { enabled: ${routerEnabled}, maxBacklog: 100000000 }\n`);
  return serveCadence(['--config', config, ...args]);
}

const post = (url: string, body: string) =>
  fetch(`${url}/cdevents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

function load(url: string, rate: number | undefined) {
  return autocannon({
    url: `${url}/cdevents`,
    method: 'POST',
    connections,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: deployed(`svc-${counter % 50}`) }),
      },
    ],
  });
}

const percentile = (samples: number[], q: number) => {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

interface Row {
  engine: string;
  'intake-only ev/s': number;
  'offered ev/s': number;
  'acked ev/s': number;
  'vs intake-only': string;
  'routing lag p50 s': string;
  'routing lag p99 s': string;
  '202→counted p50 s': string;
  '202→counted p99 s': string;
  'probes counted': string;
  'backlog at end (events/cdevents/streams/days)': string;
  'server CPU s': string;
  'full /metrics scrape ms': string;
  'loadavg before': string;
}

async function measure(engine: string, rate: number, args: () => string[]): Promise<Row> {
  const loadBefore = loadavg()[0]!.toFixed(1);
  // 1. Intake only, flat out.
  const intakeOnly = await serve(args(), false);
  let intakeRate: number;
  try {
    const result = await load(intakeOnly.url, undefined);
    intakeRate = result.requests.average;
  } finally {
    await stopProcess(intakeOnly);
  }

  // 2. The full server at the offered rate.
  const server = await serve(args(), true);
  try {
    const cpuBefore = cpuSeconds(server.child.pid!);
    const lags: number[] = [];
    const counted: number[] = [];
    let probes = 0;
    let running = true;
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const samplerService = `sampler-${runId}`;
    const sampler = (async () => {
      while (running) {
        // Narrowed to a service with no deployments (a scrape config's `params`): the router
        // gauges are the same, and 4 scrapes a second of every stream's 30-day DORA gauges
        // (~120 ms each here) would be the sampler's own load, which a Prometheus scraping every
        // 15 s does not impose. The full scrape is timed once at the end instead.
        const text = await (await fetch(`${server.url}/metrics?service=${samplerService}`)).text();
        const lag = /^cadence_router_lag_seconds (\S+)$/m.exec(text);
        if (lag) lags.push(Number(lag[1]));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const probing: Promise<void>[] = [];
    const prober = (async () => {
      while (running) {
        const service = `probe-${runId}-${probes++}`;
        probing.push(
          (async () => {
            const response = await post(server.url, deployed(service));
            const acked = performance.now();
            if (response.status !== 202) return;
            // Polled until counted, for as long as the run lasts and 60 s after.
            const deadline = acked + seconds * 1000 + 60_000;
            while (performance.now() < deadline) {
              const report = (await (
                await fetch(
                  `${server.url}/api/v1/metrics?service=${service}&environment=production&from=${since}`,
                )
              ).json()) as { overall: { deployments: number } };
              if (report.overall.deployments === 1) {
                counted.push((performance.now() - acked) / 1000);
                return;
              }
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          })(),
        );
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    const result = await load(server.url, rate);
    const end = (await (await fetch(`${server.url}/api/v1/metrics?from=${since}`)).json()) as {
      freshness: { pending: Record<string, number> };
    };
    running = false;
    const scrapeStarted = performance.now();
    await (await fetch(`${server.url}/metrics`)).text();
    const scrapeMs = performance.now() - scrapeStarted;
    await prober;
    await sampler;
    await Promise.all(probing);
    const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
    const { events, cdevents, streams, days } = end.freshness.pending;
    return {
      engine,
      'intake-only ev/s': Math.round(intakeRate),
      'offered ev/s': rate,
      'acked ev/s': Math.round(result.requests.average),
      'vs intake-only': (result.requests.average / intakeRate).toFixed(2),
      'routing lag p50 s': percentile(lags, 0.5).toFixed(2),
      'routing lag p99 s': percentile(lags, 0.99).toFixed(2),
      '202→counted p50 s': percentile(counted, 0.5).toFixed(2),
      '202→counted p99 s': percentile(counted, 0.99).toFixed(2),
      'probes counted': `${counted.length}/${probes}`,
      'backlog at end (events/cdevents/streams/days)': `${events}/${cdevents}/${streams}/${days}`,
      'server CPU s': cpu.toFixed(1),
      'full /metrics scrape ms': scrapeMs.toFixed(0),
      'loadavg before': loadBefore,
    };
  } finally {
    await stopProcess(server);
  }
}

const databases = await scratchDatabases();
const database = () => databases.create();

const rows: Row[] = [];
try {
  if (!values.only || 'postgres'.includes(values.only)) {
    const urls = [await database(), await database()];
    rows.push(
      await measure('postgres', Number(values['pg-rate']), () => ['--database-url', urls.shift()!]),
    );
  }
  if (!values.only || 'pglite'.includes(values.only)) {
    rows.push(
      await measure('pglite (disk)', Number(values['pglite-rate']), () => [
        '--data-dir',
        mkdtempSync(join(scratch, 'data-')),
      ]),
    );
  }
} finally {
  await databases.dropAll();
  rmSync(scratch, { recursive: true, force: true });
}
console.log(
  `freshness benchmark: ${seconds}s per run, ${connections} connections, node ${process.version}, ${databases.server}, loadavg after ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.table(rows);
