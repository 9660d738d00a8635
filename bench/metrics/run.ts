/**
 * bench/metrics — the DORA overview (all five metrics, one year, every service) over N
 * deployments across 500 services, on PostgreSQL and on PGlite, side by side with the plain SQL
 * aggregate that reads the same rows (the floor: counting them at all).
 *
 *   npm run bench:metrics [-- --deployments 1000000 --runs 5 --only postgres]
 *
 * Each deployment comes with the change it delivers (one commit) and every 50th with an
 * incident, so the rules have real work to do. "Read after new deploys" adds `--new` deployments
 * to one busy stream per run and times the next overview read; reads no longer project, so the
 * background projector's catch-up for them is timed on its own (never inside a read). PostgreSQL: BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres (a throwaway database).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { defaultDoraSettings, metricsReport, refreshDeliveries } from '../../src/dora/index.js';
import { openStore, type Store } from '../../src/store/index.js';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '1000000' },
    services: { type: 'string', default: '500' },
    runs: { type: 'string', default: '5' },
    new: { type: 'string', default: '1' },
    only: { type: 'string' },
    // For iterating on a query: --keep leaves the PostgreSQL database in place and prints its
    // name; --reuse NAME measures an already seeded one without seeding again.
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const N = Number(values.deployments);
const SERVICES = Number(values.services);
const RUNS = Number(values.runs);
const NEW = Number(values.new);
const FROM = '2025-01-01T00:00:00Z';
const TO = '2026-01-01T00:00:00Z';

/** Seeds facts straight into the tables (their CDEvents as minimal rows, already projected). */
async function seed(store: Store): Promise<void> {
  const chunk = 100_000;
  for (let start = 1; start <= N; start += chunk) {
    const end = Math.min(start + chunk - 1, N);
    await store.transaction(async (tx) => {
      // Two CDEvents per deployment: the change (odd seq) and the deployment (even seq).
      await tx.query(
        `insert into cdevents (seq, source, id, type, subject_type, predicate, spec_version,
                               timestamp, subject_id, body, transformer, projected_at)
         select 2 * g - k, '/bench', (2 * g - k)::text, 'bench', 'bench', 'bench', '0.5.1',
                timestamptz '${FROM}' + (g::float8 / $3) * interval '365 days', '', '{}', 'bench',
                now()
         from generate_series($1::int8, $2::int8) g, (values (0), (1)) as v(k)`,
        [start, end, N],
      );
      await tx.query(
        `insert into changes (cdevent_seq, change_key, repository, revision, merged_at)
         select 2 * g - 1, 'c' || g, 'repo-' || (g % $3), 'r' || g,
                timestamptz '${FROM}' + (g::float8 / $4) * interval '365 days' - interval '2 hours'
         from generate_series($1::int8, $2::int8) g`,
        [start, end, SERVICES, N],
      );
      await tx.query(
        `insert into change_commits (change_seq, sha, committed_at)
         select 2 * g - 1, 's' || g,
                timestamptz '${FROM}' + (g::float8 / $3) * interval '365 days' - interval '5 hours'
         from generate_series($1::int8, $2::int8) g`,
        [start, end, N],
      );
      await tx.query(
        `insert into deployments (cdevent_seq, cdevent_id, service, environment, kind, outcome,
                                  deployed_at, revision, repository)
         select 2 * g, (2 * g)::text, 'svc-' || (g % $3), 'production', 'deploy',
                case when g % 40 = 0 then 'failure' else 'success' end,
                timestamptz '${FROM}' + (g::float8 / $4) * interval '365 days', 'r' || g,
                'repo-' || (g % $3)
         from generate_series($1::int8, $2::int8) g`,
        [start, end, SERVICES, N],
      );
      await tx.query(
        `insert into incidents (incident_key, service, environment, detected_at, resolved_at)
         select 'i' || g, 'svc-' || (g % $3), 'production',
                timestamptz '${FROM}' + (g::float8 / $4) * interval '365 days' + interval '1 minute',
                timestamptz '${FROM}' + (g::float8 / $4) * interval '365 days' + interval '3 hours'
         from generate_series($1::int8, $2::int8) g where g % 50 = 0`,
        [start, end, SERVICES, N],
      );
    });
  }
  await store.query(`select setval('cdevents_seq_seq', $1)`, [2 * N]);
  await store.exec('analyze');
}

/** The floor: one aggregate over the same year of deployments, commits and incidents. */
const PLAIN_AGGREGATE = `
  select (select count(*) from deployments
          where deployed_at >= $1 and deployed_at < $2 and environment = 'production') as deployments,
         (select count(*) from change_commits join changes on changes.cdevent_seq = change_seq
          where merged_at < $2) as commits,
         (select count(*) from incidents where detected_at >= $1 and detected_at < $2) as incidents`;

async function time(label: string, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  console.error(`  ${label}: ${samples.map((ms) => ms.toFixed(0)).join(' ')} ms`);
  return samples;
}

let nextSeq = 0;
/**
 * "Read right after N new deployments": each run adds NEW deployments to one busy stream (facts
 * as the projector writes them, the stream marked stale) and then reads the overview. Where the
 * read no longer projects, the background projector's catch-up is timed separately.
 */
async function afterNewDeployments(
  store: Store,
  window: { from: Date; to: Date },
): Promise<{ read: number[]; catchUp: number[] }> {
  const read: number[] = [];
  const catchUp: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await store.transaction(async (tx) => {
      for (let i = 0; i < NEW; i++) {
        nextSeq++;
        const seq = 2 * N + nextSeq;
        await tx.query(
          `insert into cdevents (seq, source, id, type, subject_type, predicate, spec_version,
                                 timestamp, subject_id, body, transformer, projected_at)
           values ($1::int8, '/bench', $1::text, 'bench', 'bench', 'bench', '0.5.1',
                   timestamptz '2025-12-30T00:00:00Z' + $2::int8 * interval '1 minute', '', '{}',
                   'bench', now())`,
          [seq, nextSeq],
        );
        await tx.query(
          `insert into deployments (cdevent_seq, cdevent_id, service, environment, kind, outcome,
                                    deployed_at, revision, repository)
           values ($1::int8, $1::text, 'svc-7', 'production', 'deploy', 'success',
                   timestamptz '2025-12-30T00:00:00Z' + $2::int8 * interval '1 minute',
                   'new' || $1::text, 'repo-7')`,
          [seq, nextSeq],
        );
      }
      // Marked as the projector marks a new deployment: from the earliest one's time.
      await tx.query(
        `insert into dora_stale_streams (environment, service, affected_from)
         values ('production', 'svc-7',
                 timestamptz '2025-12-30T00:00:00Z' + $1::int8 * interval '1 minute')
         on conflict do nothing`,
        [nextSeq - NEW + 1],
      );
    });
    if (projectInBackground) {
      const started = performance.now();
      await projectInBackground(store);
      catchUp.push(performance.now() - started);
    }
    const started = performance.now();
    await metricsReport(store, window);
    read.push(performance.now() - started);
  }
  read.sort((a, b) => a - b);
  catchUp.sort((a, b) => a - b);
  console.error(
    `  read after ${NEW} new deployments: ${read.map((ms) => ms.toFixed(0)).join(' ')} ms`,
  );
  if (catchUp.length) {
    console.error(`  projector catch-up: ${catchUp.map((ms) => ms.toFixed(0)).join(' ')} ms`);
  }
  return { read, catchUp };
}
/** Reads no longer project: this is the work the background projector does after new facts. */
const projectInBackground: ((store: Store) => Promise<unknown>) | undefined = (store) =>
  refreshDeliveries(store, defaultDoraSettings);

const median = (samples: number[]) => samples[Math.floor(samples.length / 2)]!;

interface Row {
  engine: string;
  'overview ms (median)': string;
  'plain aggregate ms (median)': string;
  ratio: string;
  'overview exact ms': string;
  'one service ms': string;
  'read after new deploys ms (median)': string;
  'projector catch-up ms (median)': string;
  'seed s': string;
  'rules + rollups build s (once)': string;
  deployments: number;
}

const rows: Row[] = [];
async function measure(engine: string, store: Store, seeded = false): Promise<void> {
  const seedStarted = performance.now();
  if (!seeded) {
    console.error(`${engine}: seeding ${N} deployments over ${SERVICES} services`);
    await seed(store);
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const window = { from: new Date(FROM), to: new Date(TO) };
  // The rules' results are kept up to date as facts arrive; seeding bypassed that, so the
  // first refresh computes every stream once (what an upgrade from an older version does).
  const built = performance.now();
  const streams = await refreshDeliveries(store, defaultDoraSettings);
  const buildSeconds = (performance.now() - built) / 1000;
  console.error(
    `  rules and daily rollups computed for ${streams} streams in ${buildSeconds.toFixed(1)} s`,
  );
  let deployments = 0;
  const overview = await time('overview', async () => {
    const report = await metricsReport(store, window);
    deployments = report.overall.deployments;
  });
  // The same overview forced through the exact aggregates (what every read cost before the
  // rollups), and one service's overview (never rolled up: it reads that service's rows).
  const exact = await time('overview, exact aggregates', () =>
    metricsReport(store, window, { ...defaultDoraSettings, exactLimit: Number.MAX_SAFE_INTEGER }),
  );
  const oneService = await time('one service', () =>
    metricsReport(store, { ...window, service: 'svc-7' }),
  );
  const fresh = await afterNewDeployments(store, window);
  const plain = await time('plain aggregate', () =>
    store.query(PLAIN_AGGREGATE, [window.from.toISOString(), window.to.toISOString()]),
  );
  rows.push({
    engine,
    'overview ms (median)': median(overview).toFixed(0),
    'plain aggregate ms (median)': median(plain).toFixed(0),
    ratio: (median(overview) / median(plain)).toFixed(2),
    'overview exact ms': median(exact).toFixed(0),
    'one service ms': median(oneService).toFixed(0),
    'read after new deploys ms (median)': median(fresh.read).toFixed(0),
    'projector catch-up ms (median)': fresh.catchUp.length ? median(fresh.catchUp).toFixed(0) : '-',
    'seed s': seedSeconds.toFixed(1),
    'rules + rollups build s (once)': buildSeconds.toFixed(1),
    deployments,
  });
}

const wanted = (engine: string) => !values.only || engine.includes(values.only);

if (wanted('postgres')) {
  const serverUrl =
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const name = values.reuse ?? `cadence_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  if (!values.reuse) await admin.query(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: url.toString(), poolSize: 4 });
  try {
    await measure('postgres', store, values.reuse !== undefined);
  } finally {
    await store.close();
    if (values.keep || values.reuse) console.error(`kept database ${name}`);
    else await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
if (wanted('pglite')) {
  const store = await openStore({});
  try {
    await measure('pglite (in memory)', store);
  } finally {
    await store.close();
  }
}

console.log(
  `metrics benchmark: ${N} deployments, ${SERVICES} services, one year, node ${process.version}`,
);
console.table(rows);
