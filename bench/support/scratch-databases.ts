import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the benchmarks make their databases on. */
export const benchServerUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabases {
  /** A new empty database; its URL. */
  create(): Promise<string>;
  /** Drops every database this made, and disconnects. */
  dropAll(): Promise<void>;
  /**
   * The server as the results should name it: its version and whether autovacuum runs (with it
   * off, queue tables keep their dead rows and statistics go stale, which slows a long run).
   */
  server: string;
}

/**
 * Empty databases for one benchmark run, each dropped at the end (even a failed run's), unless
 * `keep`: then each is left for a look afterwards (EXPLAIN on the data the run built) and named.
 */
export async function scratchDatabases(
  options: { keep?: boolean } = {},
): Promise<ScratchDatabases> {
  const admin = new pg.Client({ connectionString: benchServerUrl });
  await admin.connect();
  const made: string[] = [];
  const { rows } = await admin.query<{ version: string; autovacuum: string }>(
    `select current_setting('server_version') as version,
            current_setting('autovacuum') as autovacuum`,
  );
  return {
    server: `PostgreSQL ${rows[0]!.version}, autovacuum ${rows[0]!.autovacuum}`,
    async create() {
      const name = `cadence_bench_${randomBytes(4).toString('hex')}`;
      await admin.query(`create database ${name}`);
      made.push(name);
      const url = new URL(benchServerUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async dropAll() {
      for (const name of made) {
        if (options.keep) console.error(`kept database ${name}`);
        else await admin.query(`drop database if exists ${name} with (force)`);
      }
      await admin.end();
    },
  };
}
