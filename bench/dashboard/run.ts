// Callbacks passed to page.evaluate() run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * bench/dashboard — time to first render of the DORA overview, in real headless Chromium
 * against the built `cadence serve`, with one year of data for 500 services, side by side with
 * its floor in the same browser: loading a trivial server page (/healthz) plus the overview's
 * own API call (the numbers cannot be on screen before the API answered). Also the size of the
 * shipped front-end bundle, raw and gzip.
 *
 *   npm run build && npm run bench:dashboard [-- --deployments 100000 --runs 7 --engine pglite]
 *
 * Facts are seeded straight into the tables (as bench/metrics does) and the rules computed
 * once before the server starts. PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/postgres (a throwaway database); `--engine pglite` seeds a
 * temporary data directory instead.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { defaultDoraSettings, refreshDeliveries } from '../../src/dora/index.js';
import { builtDashboardDir } from '../../src/server/routes/dashboard-routes.js';
import { openStore, type Store } from '../../src/store/index.js';
import { launchChromium } from '../../test/support/browser.js';
import { startCadence } from '../../test/support/cadence-process.js';
import { scratchDatabases } from '../support/scratch-databases.js';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '100000' },
    services: { type: 'string', default: '500' },
    runs: { type: 'string', default: '7' },
    engine: { type: 'string', default: 'postgres' },
  },
});
const N = Number(values.deployments);
const SERVICES = Number(values.services);
const RUNS = Number(values.runs);
const DAY = 86_400_000;
const TO = new Date(Math.floor(Date.now() / DAY) * DAY);
const FROM = new Date(TO.getTime() - 365 * DAY);

/** One year of deployments, each with the change (one commit) it delivers; an incident every 50th. */
async function seed(store: Store): Promise<void> {
  const chunk = 50_000;
  const at = (offset: string) =>
    `timestamptz '${FROM.toISOString()}' + (g::float8 / $3) * interval '365 days' ${offset}`;
  for (let start = 1; start <= N; start += chunk) {
    const end = Math.min(start + chunk - 1, N);
    await store.transaction(async (tx) => {
      await tx.query(
        `insert into cdevents (seq, source, id, type, subject_type, predicate, spec_version,
                               timestamp, subject_id, body, transformer, projected_at)
         select 2 * g - k, '/bench', (2 * g - k)::text, 'bench', 'bench', 'bench', '0.5.1',
                ${at('')}, '', '{}', 'bench', now()
         from generate_series($1::int8, $2::int8) g, (values (0), (1)) as v(k)`,
        [start, end, N],
      );
      await tx.query(
        `insert into changes (cdevent_seq, change_key, repository, revision, merged_at)
         select 2 * g - 1, 'c' || g, 'repo-' || (g % $4), 'r' || g, ${at("- interval '2 hours'")}
         from generate_series($1::int8, $2::int8) g`,
        [start, end, N, SERVICES],
      );
      await tx.query(
        `insert into change_commits (change_seq, sha, committed_at)
         select 2 * g - 1, 's' || g, ${at("- interval '5 hours'")}
         from generate_series($1::int8, $2::int8) g`,
        [start, end, N],
      );
      await tx.query(
        `insert into deployments (cdevent_seq, cdevent_id, service, environment, kind, outcome,
                                  deployed_at, revision, repository)
         select 2 * g, (2 * g)::text, 'svc-' || (g % $4), 'production', 'deploy',
                case when g % 40 = 0 then 'failure' else 'success' end, ${at('')}, 'r' || g,
                'repo-' || (g % $4)
         from generate_series($1::int8, $2::int8) g`,
        [start, end, N, SERVICES],
      );
      await tx.query(
        `insert into incidents (incident_key, service, environment, detected_at, resolved_at)
         select 'i' || g, 'svc-' || (g % $4), 'production', ${at("+ interval '1 minute'")},
                ${at("+ interval '3 hours'")}
         from generate_series($1::int8, $2::int8) g where g % 50 = 0`,
        [start, end, N, SERVICES],
      );
    });
  }
  await store.query(`select setval('cdevents_seq_seq', $1)`, [2 * N]);
  await store.exec('analyze');
}

const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function measure(env: NodeJS.ProcessEnv, args: string[]) {
  const server = await startCadence(args, env);
  const browser = await launchChromium();
  const query = `from=${FROM.toISOString().slice(0, 10)}&to=${TO.toISOString().slice(0, 10)}`;
  const samples = {
    render: [] as number[],
    floor: [] as number[],
    api: [] as number[],
  };
  let shown = '';
  try {
    for (let run = -1; run < RUNS; run++) {
      // A fresh context each run: nothing cached, as a first visit.
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const page = await context.newPage();
      await page.goto(`${server.url}/#/overview?${query}`);
      await page.waitForSelector('body[data-ready="overview"]');
      // Since navigation start: the overview's numbers are in the document (painted in the
      // next frame). The page marks it itself, so the test harness's own latency is not in it.
      const rendered = await page.evaluate(
        () => performance.getEntriesByName('cadence:overview:rendered')[0]!.startTime,
      );
      shown = await page.locator('[data-metric=deployment-frequency]').innerText();
      await context.close();
      // The floor, measured after the dashboard (so the server is at least as warm for it), in
      // another fresh context, with the browser's own clock as above.
      const bare = await browser.newContext();
      const floorPage = await bare.newPage();
      await floorPage.goto(`${server.url}/healthz`);
      const { floorNavigation, apiMs } = await floorPage.evaluate(async (q) => {
        const navigation = performance.getEntriesByType(
          'navigation',
        )[0] as PerformanceNavigationTiming;
        const t0 = performance.now();
        await (await fetch(`/api/v1/metrics?${q}&bucket=week`)).json();
        return { floorNavigation: navigation.responseEnd, apiMs: performance.now() - t0 };
      }, query);
      await bare.close();
      if (run < 0) continue; // warm-up: the server's first query plans
      samples.render.push(rendered);
      samples.floor.push(floorNavigation);
      samples.api.push(apiMs);
      console.error(
        `  run ${run + 1}: first render ${rendered.toFixed(0)} ms, api ${apiMs.toFixed(0)} ms`,
      );
    }
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    await server.exited;
  }
  return { samples, shown: shown.replace(/\s+/g, ' ') };
}

function bundle() {
  const files = [
    'index.html',
    ...readdirSync(join(builtDashboardDir, 'assets')).map((f) => join('assets', f)),
  ];
  return files.map((file) => {
    const bytes = readFileSync(join(builtDashboardDir, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
}

const engine = values.engine;
let result: Awaited<ReturnType<typeof measure>>;
let seedSeconds = 0;
let rulesSeconds = 0;
const prepare = async (store: Store) => {
  console.error(`${engine}: seeding ${N} deployments over ${SERVICES} services, one year`);
  const t0 = performance.now();
  await seed(store);
  seedSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await refreshDeliveries(store, defaultDoraSettings);
  rulesSeconds = (performance.now() - t1) / 1000;
};
if (engine === 'pglite') {
  const dataDir = mkdtempSync(join(tmpdir(), 'cadence-bench-dashboard-'));
  try {
    const store = await openStore({ dataDir });
    await prepare(store);
    await store.close();
    result = await measure({}, ['--data-dir', dataDir]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
} else {
  const databases = await scratchDatabases();
  const url = await databases.create();
  try {
    const store = await openStore({ databaseUrl: url, poolSize: 4 });
    await prepare(store);
    await store.close();
    result = await measure({ DATABASE_URL: url }, []);
  } finally {
    await databases.dropAll();
  }
}

const { samples, shown } = result;
const floor = median(samples.floor) + median(samples.api);
console.log(
  `dashboard benchmark: ${engine}, ${N} deployments over ${SERVICES} services, ${FROM.toISOString().slice(0, 10)} to ${TO.toISOString().slice(0, 10)}, ${RUNS} runs, node ${process.version}`,
);
console.log(
  `seed ${seedSeconds.toFixed(1)} s, rules computed once ${rulesSeconds.toFixed(1)} s; overview showed: ${shown}`,
);
console.table([
  {
    'first render ms (median)': median(samples.render).toFixed(0),
    'floor: /healthz page ms': median(samples.floor).toFixed(0),
    'floor: overview API ms': median(samples.api).toFixed(0),
    'ratio to floor': (median(samples.render) / floor).toFixed(2),
    'target < 1000 ms': median(samples.render) < 1000 ? 'met' : 'NOT met',
  },
]);
const files = bundle();
console.table(files);
const total = files.reduce((sum, f) => ({ raw: sum.raw + f.raw, gzip: sum.gzip + f.gzip }), {
  raw: 0,
  gzip: 0,
});
console.log(
  `bundle total: ${(total.raw / 1024).toFixed(1)} KiB raw, ${(total.gzip / 1024).toFixed(1)} KiB gzip`,
);
