/**
 * A projector on its own, as a separate process, for the test that kills one mid-batch
 * (test/dora/projector-kill.test.ts): `node --import tsx projector-process.ts DATABASE_URL`.
 * Keeps running passes until it is killed.
 */
import { defaultDoraSettings, refreshDeliveries } from '../../src/dora/index.js';
import { openStore } from '../../src/store/index.js';

const store = await openStore({ databaseUrl: process.argv[2]!, poolSize: 1, migrate: false });
process.stdout.write('ready\n');
for (;;) await refreshDeliveries(store, defaultDoraSettings, 5);
