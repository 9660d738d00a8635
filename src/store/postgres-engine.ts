import pg from 'pg';
import type { Queryable, QueryResult, Store } from './store.js';

// int8 (bigint) as a JS number, as PGlite does: sequence values stay far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
};

function asQueryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
      // Always the extended protocol, as PGlite's query: exactly one statement, whatever the text
      // (the simple protocol runs `a; b` as two, which is how `cadence sql` once committed writes).
      // (`queryMode` is in pg since 8.11; @types/pg does not declare it yet.)
      const config = { text: sql, values: params ?? [], queryMode: 'extended' } as pg.QueryConfig;
      const result = await client.query(config);
      return { rows: result.rows as Row[], affectedRows: result.rowCount ?? 0 };
    },
  };
}

/** A PostgreSQL server reached through a `pg` connection pool. */
export async function openPostgres(connectionString: string, poolSize: number): Promise<Store> {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    types,
    // JIT off for Cadence's sessions, set before a new connection takes its first query: its
    // statements are index lookups and aggregates of a few hundred thousand rows at most, where
    // compiling costs more than it saves (see docs/architecture.md). A session setting, not a
    // startup option, which a connection pooler in between may refuse.
    onConnect: async (client) => {
      await client.query('set jit = off');
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  await pool.query('select 1');
  const queryable = asQueryable(pool);
  return {
    engine: 'postgres',
    query: queryable.query,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work(asQueryable(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}
