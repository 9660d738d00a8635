/**
 * Creates a new PGlite data directory and exits: run as a child process by
 * {@link bootstrapPgliteDir}, because initdb in WASM grows the memory to ~800 MB and a WASM
 * memory is never given back. The long-lived process then opens the finished directory.
 *
 * Usage:
 *   node pglite-bootstrap.js DIR                     initdb, then the migrations, into DIR
 *   node pglite-bootstrap.js --make-template FILE    the template (npm run build): initdb and the
 *                                                    migrations in memory, dumped to FILE, and
 *                                                    their level beside it (pglite-template.ts)
 */
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations } from './migrations.js';
import { openPglite, pgliteStore } from './pglite-engine.js';
import { embeddedStartParams } from './pglite-settings.js';
import { currentLevel } from './pglite-template.js';

const [first, second] = process.argv.slice(2);

if (first === '--make-template' && second) {
  const levelFile = second.replace(/\.tar\.gz$/, '.json');
  // In memory: the tarball is all that is kept (unpacked by unpackTemplate, pglite-template.ts).
  const db = await PGlite.create({ startParams: embeddedStartParams() });
  await applyMigrations(pgliteStore(db));
  const dump = await db.dumpDataDir('gzip');
  await db.close();
  writeFileSync(second, Buffer.from(await dump.arrayBuffer()));
  writeFileSync(levelFile, `${JSON.stringify(currentLevel(), null, 2)}\n`);
} else if (first && !first.startsWith('--') && second === undefined) {
  const store = await openPglite(first);
  try {
    await applyMigrations(store);
  } finally {
    await store.close();
  }
} else {
  process.stderr.write('usage: pglite-bootstrap DIR | pglite-bootstrap --make-template FILE\n');
  process.exit(2);
}
