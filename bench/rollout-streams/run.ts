/**
 * Benchmark: N open `/api/v1/rollouts/stream` connections and the database queries they cost,
 * on PGlite (issue 13 item 5: each stream polled every 250 ms, so 300 streams were 1,200
 * queries a second). Now one shared feed: its queries do not grow with the streams.
 *
 *   node --import tsx bench/rollout-streams/run.ts [streams=300] [seconds=5]
 */
import { openStore } from '../../src/store/index.js';
import { rolloutFeed } from '../../src/rollouts/index.js';
import { buildApp } from '../../src/server/app.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';

const streams = Number(process.argv[2] ?? 300);
const seconds = Number(process.argv[3] ?? 5);
const store = await openStore({});
const app = buildApp({
  store,
  intake: createIntake({ writer: createEventWriter(store) }),
  logger: silentLogger,
  bodyLimitBytes: 1_000_000,
  rolloutStreams: streams,
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
const open = await Promise.all(
  Array.from({ length: streams }, () => fetch(`${address}/api/v1/rollouts/stream`)),
);
const feed = rolloutFeed(store);
const before = feed.queries;
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const queries = feed.queries - before;
console.log(
  JSON.stringify({
    streams,
    seconds,
    open: open.filter((r) => r.status === 200).length,
    feedQueriesPerSecond: queries / seconds,
    previouslyPerSecond: streams * 4,
  }),
);
await Promise.all(open.map((r) => r.body?.cancel()));
await app.close();
await store.close();
process.exit(0);
