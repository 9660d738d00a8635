/**
 * Creates a new PGlite data directory (initdb, then the migrations) and exits: run as a child
 * process by {@link bootstrapPgliteDir}, because initdb in WASM grows the memory to ~800 MB and
 * a WASM memory is never given back. The long-lived process then opens the finished directory.
 *
 * Usage: node pglite-bootstrap.js DIR
 */
import { applyMigrations } from './migrations.js';
import { openPglite } from './pglite-engine.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: pglite-bootstrap DIR\n');
  process.exit(2);
}
const store = await openPglite(dir);
try {
  await applyMigrations(store);
} finally {
  await store.close();
}
