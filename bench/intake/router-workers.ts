/**
 * bench/intake/router-workers — how fast the router drains a backlog of real `service.deployed`
 * CDEvents with 1, 2 and 4 workers (`router.workers`), on PostgreSQL, rounds interleaved
 * (1,2,4,1,2,4,…) so machine noise falls on every setting alike. Each round seeds the same number
 * of raw events (as the intake stores them, door `/cdevents`) into a fresh database, then times
 * the router alone until nothing is unrouted. Reports events/s per round and the median, with the
 * bench process's CPU (the router runs in it) and the load average.
 *
 *   node --import tsx bench/intake/router-workers.ts [--events 20000 --rounds 3 --workers 1,2,4]
 *
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres
 * (throwaway databases, dropped afterwards).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { defaults } from '../../src/config/index.js';
import {
  compileRoutingTable,
  createRouter,
  wrapCdevent,
  validateCdevent,
} from '../../src/events/index.js';
import { insertEvents } from '../../src/events/event-rows.js';
import { silentLogger } from '../../src/log/index.js';
import { builtinTransformers } from '../../src/sources/index.js';
import { openStore } from '../../src/store/index.js';
import { scratchDatabases } from '../support/scratch-databases.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1,2,4' },
  },
});
const total = Number(values.events);
const rounds = Number(values.rounds);
const settings = values.workers.split(',').map(Number);

function deployed(index: number) {
  const service = `svc-${index % 50}`;
  const result = validateCdevent({
    context: {
      specversion: '0.5.1',
      id: `rw-${index}-${randomBytes(3).toString('hex')}`,
      source: '/bench/router-workers',
      type: 'dev.cdevents.service.deployed.0.3.0',
      timestamp: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
    },
    subject: {
      id: service,
      content: {
        environment: { id: 'production' },
        artifactId: `pkg:oci/${service}@sha256%3A${index.toString(16)}`,
      },
    },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return wrapCdevent(result.value);
}

const transformers = builtinTransformers({});
const table = compileRoutingTable(
  defaults.routes.map((route) => ({ ...route, transformers: [...route.transformers] })),
  transformers.keys(),
);
const door = { name: '/cdevents', principal: null, vouched: ['cdevents'] };

async function round(workers: number): Promise<{ eventsPerSecond: number; cpuSeconds: number }> {
  const databases = await scratchDatabases();
  const store = await openStore({ databaseUrl: await databases.create(), poolSize: 10 });
  try {
    for (let start = 0; start < total; start += 1000) {
      const events = Array.from({ length: Math.min(1000, total - start) }, (_, i) =>
        deployed(start + i),
      );
      await insertEvents(
        store,
        events,
        events.map(() => door),
      );
    }
    await store.query('vacuum analyze events');
    let routed = 0;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const router = createRouter({
      store,
      table,
      transformers,
      logger: silentLogger,
      workers,
      onRouted: (count) => {
        routed += count;
        if (routed >= total) finished();
      },
    });
    const cpu = process.cpuUsage();
    const started = performance.now();
    router.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    await router.stop();
    const { rows } = await store.query<{ n: number }>('select count(*)::int8 as n from cdevents');
    if (Number(rows[0]!.n) !== total) throw new Error(`${rows[0]!.n} CDEvents for ${total} events`);
    return { eventsPerSecond: total / seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await store.close();
    await databases.dropAll();
  }
}

const results = new Map<number, { eventsPerSecond: number; cpuSeconds: number }[]>();
const loadBefore = loadavg()[0]!;
for (let r = 0; r < rounds; r++) {
  for (const workers of settings) {
    const result = await round(workers);
    results.set(workers, [...(results.get(workers) ?? []), result]);
    console.log(
      `round ${r + 1}, ${workers} worker(s): ${Math.round(result.eventsPerSecond)} ev/s, ${result.cpuSeconds.toFixed(1)} s CPU in the router's process`,
    );
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(
  `router workers, PostgreSQL, ${total} service.deployed per round, ${rounds} rounds interleaved; load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
);
console.table(
  settings.map((workers) => {
    const list = results.get(workers)!;
    return {
      workers,
      'median ev/s': Math.round(median(list.map((r) => r.eventsPerSecond))),
      'rounds ev/s': list.map((r) => Math.round(r.eventsPerSecond)).join(' / '),
      'CPU s per 1k events': ((median(list.map((r) => r.cpuSeconds)) / total) * 1000).toFixed(3),
    };
  }),
);
