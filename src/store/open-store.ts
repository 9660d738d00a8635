import { join, resolve } from 'node:path';
import { bootstrapPgliteDir, type Bootstrap } from './bootstrap-data-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import { applyMigrations } from './migrations.js';
import { openPglite } from './pglite-engine.js';
import { openPostgres } from './postgres-engine.js';
import type { Store } from './store.js';

export interface StoreOptions {
  /** A PostgreSQL connection URL; when set, PGlite is not used. */
  databaseUrl?: string | undefined;
  /** PGlite's data directory; undefined with no databaseUrl means an in-memory database. */
  dataDir?: string | undefined;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Told how a new embedded data directory was made (template or initdb, and why), for the log. */
  onBootstrap?: (bootstrap: Bootstrap) => void;
}

/** Opens the configured engine and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  let store: Store;
  if (options.databaseUrl) {
    store = await openPostgres(options.databaseUrl, options.poolSize ?? 10);
  } else if (options.dataDir) {
    const dataDir = resolve(options.dataDir);
    const unlock = lockDataDir(dataDir);
    try {
      const pgliteDir = join(dataDir, 'pglite');
      const made = await bootstrapPgliteDir(pgliteDir);
      if (made) options.onBootstrap?.(made);
      const embedded = await openPglite(pgliteDir);
      store = { ...embedded, close: () => embedded.close().finally(unlock) };
    } catch (error) {
      unlock();
      throw error;
    }
  } else {
    store = await openPglite(undefined);
  }
  if (options.migrate !== false) {
    try {
      await applyMigrations(store);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
