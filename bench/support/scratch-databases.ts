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
}

/** Empty databases for one benchmark run, each dropped at the end (even a failed run's). */
export async function scratchDatabases(): Promise<ScratchDatabases> {
  const admin = new pg.Client({ connectionString: benchServerUrl });
  await admin.connect();
  const made: string[] = [];
  return {
    async create() {
      const name = `cadence_bench_${randomBytes(4).toString('hex')}`;
      await admin.query(`create database ${name}`);
      made.push(name);
      const url = new URL(benchServerUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async dropAll() {
      for (const name of made) await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
