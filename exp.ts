import { openTestStore } from './test/support/engines.js';
import { createEventWriter } from './src/events/index.js';
const { store, dispose } = await openTestStore('postgres');
const ev = (id: string) => ({ specversion: '1.0', id, source: '/o', type: 't', extensions: {}, data: { a: 1 } }) as never;
let fails = 0;
for (let round = 0; round < 5; round++) {
  const ids = Array.from({ length: 200 }, (_, i) => `r${round}-${i}`);
  const writers = Array.from({ length: 6 }, () => createEventWriter(store));
  const results = await Promise.allSettled(writers.map((w, k) => w.write((k % 2 ? [...ids].reverse() : ids).map(ev))));
  for (const r of results) if (r.status === 'rejected') { fails++; console.log(String(r.reason).slice(0, 100)); }
}
console.log('fails', fails);
await dispose();
