/**
 * bench/metrics — the DORA overview (all five metrics, one year, every service) over N
 * deployments across 500 services, on PostgreSQL and on PGlite (on disk, the embedded default),
 * side by side with the floor: the same query shape (counts of deployments, delivered commits and
 * incidents over the year) over the raw fact rows.
 *
 * Facts arrive the way a user's do: a real `cadence serve` (npm run build first) takes real
 * CDEvents through `POST /events` (batches of 500 CloudEvents, each a CDEvent: per deployment one
 * `change.merged` with one commit and one `service.deployed`, every 40th failed, an incident
 * detected and resolved every 50th), routes and projects them in the background; "build" is the
 * time from the first POST until `/api/v1/metrics` says nothing is pending. Then, with the server
 * up: the overview read over HTTP, and "read right after N new deployments" (N = 1 and 100 by
 * default): POST N deployments to one busy stream, read at once (the read never projects, so it
 * says what is still pending), and time until they are counted. Finally the server stops and
 * this process opens the same store to time the overview in-process against the floor.
 *
 *   npm run build && npm run bench:metrics [-- --deployments 100000 --runs 5 --new 1,100 --only pglite]
 *   … --million   (the 1M round: as above with 1,000,000 deployments)
 *   … --keep      (leave the PostgreSQL database for a look afterwards; its name is printed)
 *
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * (a throwaway database).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDoraSettings, metricsReport } from '../../src/dora/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { serveCadence, stopProcess, type ServerProcess } from '../support/processes.js';
import { scratchDatabases } from '../support/scratch-databases.js';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '100000' },
    million: { type: 'boolean', default: false },
    services: { type: 'string', default: '500' },
    runs: { type: 'string', default: '5' },
    new: { type: 'string', default: '1,100' },
    only: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const N = values.million ? 1_000_000 : Number(values.deployments);
const SERVICES = Number(values.services);
const RUNS = Number(values.runs);
const NEW = values.new.split(',').map(Number);
const FROM = '2025-01-01T00:00:00Z';
const TO = '2026-01-01T00:00:00Z';
const YEAR_MS = Date.parse(TO) - Date.parse(FROM);
const runId = randomBytes(3).toString('hex');

function cloudEvent(type: string, id: string, at: string, subject: unknown, cadence?: unknown) {
  const cdevent = {
    context: { specversion: '0.5.1', id, source: '/bench/metrics', type, timestamp: at },
    subject,
    ...(cadence ? { customData: { cadence } } : {}),
  };
  return {
    specversion: '1.0',
    id,
    source: '/bench/metrics',
    type,
    time: at,
    datacontenttype: 'application/json',
    data: cdevent,
  };
}

/** The CDEvents of deployment `g` (1-based) at `at`: its change, itself, every 50th an incident. */
function deploymentEvents(
  g: number,
  at: Date,
  service = `svc-${g % SERVICES}`,
  repository = `repo-${g % SERVICES}`,
) {
  const iso = (ms: number) => new Date(at.getTime() + ms).toISOString();
  const id = (kind: string) => `${runId}-${kind}-${g}`;
  const events = [
    cloudEvent(
      'dev.cdevents.change.merged.0.3.0',
      id('change'),
      iso(-2 * 3600_000),
      { id: `${repository}#${g}`, content: { repository: { id: repository } } },
      {
        repository,
        revision: `r${g}`,
        mergedAt: iso(-2 * 3600_000),
        commits: [{ id: `s${g}`, timestamp: iso(-5 * 3600_000) }],
      },
    ),
    cloudEvent(
      'dev.cdevents.service.deployed.0.3.0',
      id('deploy'),
      iso(0),
      {
        id: service,
        content: { environment: { id: 'production' }, artifactId: `pkg:oci/${service}@v${g}` },
      },
      { repository, revision: `r${g}`, ...(g % 40 === 0 ? { outcome: 'failure' } : {}) },
    ),
  ];
  if (g % 50 === 0) {
    const incident = {
      id: `incident-${runId}-${g}`,
      content: { environment: { id: 'production' }, service: { id: service } },
    };
    events.push(
      cloudEvent('dev.cdevents.incident.detected.0.3.0', id('detected'), iso(60_000), incident),
      cloudEvent(
        'dev.cdevents.incident.resolved.0.3.0',
        id('resolved'),
        iso(3 * 3600_000),
        incident,
      ),
    );
  }
  return events;
}

type Server = ServerProcess;
const serve = (args: string[]) => serveCadence(args);

/**
 * fetch, sent again when the connection drops before an answer (a kept-alive socket the server
 * closed as it was reused): the intake is idempotent on (source, id), so a resend stores nothing
 * twice.
 */
async function send(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (attempt >= 3) throw error;
      console.error(`  resending after ${String((error as Error).cause ?? error)}`);
    }
  }
}

async function post(server: Server, events: unknown[]): Promise<void> {
  for (;;) {
    const response = await send(`${server.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(events),
    });
    if (response.status === 202) return;
    if (response.status !== 429) throw new Error(`${response.status}: ${await response.text()}`);
    // Back-pressure: the router is behind; send it again when it says.
    await new Promise((resolve) =>
      setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000),
    );
  }
}

interface Pending {
  events: number;
  cdevents: number;
  streams: number;
  days: number;
}

async function readMetrics(server: Server): Promise<{ ms: number; pending: Pending }> {
  const started = performance.now();
  const response = await send(`${server.url}/api/v1/metrics?from=${FROM}&to=${TO}`);
  const body = (await response.json()) as { freshness: { pending: Pending } };
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`metrics: ${response.status}`);
  return { ms, pending: body.freshness.pending };
}

const nothingPending = (p: Pending) => p.events + p.cdevents + p.streams + p.days === 0;

/** Polls the metrics' freshness until nothing is pending; resolves to the time it took. */
async function untilCounted(server: Server): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (nothingPending((await readMetrics(server)).pending)) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The floor: one aggregate over the same year of deployments, commits and incidents. */
const PLAIN_AGGREGATE = `
  select (select count(*) from deployments
          where deployed_at >= $1 and deployed_at < $2 and environment = 'production') as deployments,
         (select count(*) from change_commits join changes on changes.cdevent_seq = change_seq
          where merged_at < $2) as commits,
         (select count(*) from incidents where detected_at >= $1 and detected_at < $2) as incidents`;

const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const fmt = (samples: number[]) => median(samples).toFixed(0);

async function timed(work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

const rows: Record<string, string | number>[] = [];
let extra = 0;

async function measure(engine: string, args: string[], open: () => Promise<Store>) {
  const load = loadavg()[0]!.toFixed(1);
  const server = await serve(args);
  const row: Record<string, string | number> = { engine, deployments: N };
  try {
    console.error(`${engine}: posting ${N} deployments over ${SERVICES} services`);
    const started = performance.now();
    let batch: unknown[] = [];
    for (let g = 1; g <= N; g++) {
      batch.push(...deploymentEvents(g, new Date(Date.parse(FROM) + (g / N) * YEAR_MS)));
      if (batch.length >= 500 || g === N) {
        await post(server, batch);
        batch = [];
      }
    }
    const intakeSeconds = (performance.now() - started) / 1000;
    await untilCounted(server);
    const buildSeconds = (performance.now() - started) / 1000;
    console.error(`  intake ${intakeSeconds.toFixed(1)} s, counted ${buildSeconds.toFixed(1)} s`);
    row['intake s'] = intakeSeconds.toFixed(1);
    row['build s (to counted)'] = buildSeconds.toFixed(1);
    const overHttp: number[] = [];
    for (let run = 0; run < RUNS; run++) overHttp.push((await readMetrics(server)).ms);
    row['overview over HTTP ms'] = fmt(overHttp);
    for (const n of NEW) {
      const reads: number[] = [];
      const counted: number[] = [];
      let pendingSeen = 0;
      for (let run = 0; run < RUNS; run++) {
        const events = Array.from({ length: n }, () => {
          extra++;
          // One busy stream, late in the year: new deployments of svc-7.
          const at = new Date(Date.parse('2025-12-30T00:00:00Z') + extra * 60_000);
          // From svc-7's own repository, as a service's next deployments are (each from the
          // g-th repository would give svc-7 a repository it never deployed from: a full rewrite).
          return deploymentEvents(N + extra, at, 'svc-7', 'repo-7');
        }).flat();
        const posted = performance.now();
        await post(server, events);
        const read = await readMetrics(server);
        reads.push(read.ms);
        if (!nothingPending(read.pending)) pendingSeen++;
        await untilCounted(server);
        counted.push(performance.now() - posted);
      }
      console.error(
        `  after ${n} new: read ${reads.map((ms) => ms.toFixed(0)).join(' ')} ms, 202 → counted ${counted.map((ms) => ms.toFixed(0)).join(' ')} ms`,
      );
      row[`read after ${n} new ms`] = fmt(reads);
      row[`202 → counted (${n}) ms`] = fmt(counted);
      row[`reads showing pending (${n})`] = `${pendingSeen}/${RUNS}`;
    }
  } finally {
    await stopProcess(server);
  }
  const store = await open();
  try {
    const window = { from: new Date(FROM), to: new Date(TO) };
    const overview = await timed(() => metricsReport(store, window));
    const floor = await timed(() => store.query(PLAIN_AGGREGATE, [FROM, TO]));
    const exact = await timed(() =>
      metricsReport(store, window, { ...defaultDoraSettings, exactLimit: Number.MAX_SAFE_INTEGER }),
    );
    row['overview ms'] = fmt(overview);
    row['floor ms'] = fmt(floor);
    row.ratio = (median(overview) / median(floor)).toFixed(2);
    row['overview, exact path ms'] = fmt(exact);
    row['load before'] = load;
  } finally {
    await store.close();
  }
  rows.push(row);
}

const wanted = (engine: string) => !values.only || engine.includes(values.only);
const scratch = mkdtempSync(join(tmpdir(), 'cadence-bench-metrics-'));
let server = '';
try {
  if (wanted('postgres')) {
    const databases = await scratchDatabases({ keep: values.keep });
    const url = await databases.create();
    server = `; ${databases.server}`;
    try {
      await measure(
        'postgres',
        ['--database-url', url, '--data-dir', join(scratch, 'pg-side')],
        () => openStore({ databaseUrl: url, poolSize: 2 }),
      );
    } finally {
      await databases.dropAll();
    }
  }
  if (wanted('pglite')) {
    const dataDir = join(scratch, 'pglite');
    await measure('pglite (disk)', ['--data-dir', dataDir], () => openStore({ dataDir }));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log(
  `metrics benchmark: ${N} deployments, ${SERVICES} services, one year, ${RUNS} runs, node ${process.version}${server}; load average now ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.table(rows);
