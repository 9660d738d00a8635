import { join, resolve } from 'node:path';
import { bootstrapPgliteDir, type Bootstrap } from './bootstrap-data-dir.js';
import { lockDataDirWaiting } from './data-dir-lock.js';
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
  /**
   * While another process holds the data directory, whether to wait for it (up to a minute):
   * e.g. a server waits for a one-shot CLI command, not for another server. Default: never.
   */
  waitForHolder?: () => boolean;
}

const HOLDER_WAIT_MS = 60_000;

/** Opens the configured engine and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  let store: Store;
  if (options.databaseUrl) {
    store = await openPostgres(options.databaseUrl, options.poolSize ?? 10);
  } else if (options.dataDir) {
    const dataDir = resolve(options.dataDir);
    const unlock = await lockDataDirWaiting(dataDir, {
      waitMs: HOLDER_WAIT_MS,
      keepWaiting: options.waitForHolder ?? (() => false),
    });
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
