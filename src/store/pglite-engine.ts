import { PGlite } from '@electric-sql/pglite';
import { embeddedStartParams } from './pglite-settings.js';
import type { Queryable, QueryResult, Store } from './store.js';

type PGliteLike = Pick<PGlite, 'query'>;

function asQueryable(db: PGliteLike): Queryable {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
      const result = await db.query<Row>(sql, params);
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
  };
}

/**
 * The embedded engine. `dataDir` undefined keeps everything in memory (tests); otherwise the
 * database files live there and survive restarts.
 */
export async function openPglite(dataDir: string | undefined): Promise<Store> {
  const db = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    startParams: embeddedStartParams(),
  });
  return pgliteStore(db);
}

/** A PGlite instance as a {@link Store} (closing the store closes it). */
export function pgliteStore(db: PGlite): Store {
  const queryable = asQueryable(db);
  return {
    engine: 'pglite',
    query: queryable.query,
    transaction(work) {
      return db.transaction((tx) => work(asQueryable(tx)));
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async ping() {
      await db.query('select 1');
    },
    async close() {
      await db.close();
    },
  };
}
