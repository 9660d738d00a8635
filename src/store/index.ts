/**
 * store — Cadence's storage: one PostgreSQL dialect on two engines.
 *
 * PGlite (PostgreSQL compiled to WASM) is the embedded default, persisted in a data directory;
 * a PostgreSQL server is selected with a connection URL. Both sit behind the small {@link Store}
 * interface, and the numbered `.sql` files in `migrations/` are applied at start-up on either.
 * Nothing outside this folder knows which engine it is talking to.
 */
export type { Store, Queryable } from './store.js';
export { openStore } from './open-store.js';
export type { Bootstrap } from './bootstrap-data-dir.js';
export { liveHolder } from './data-dir-lock.js';
