/**
 * Runs a storage test suite on every engine, Kysely-style: PGlite in memory and PostgreSQL in a
 * throwaway database created on the server TEST_DATABASE_URL names (the test command starts one).
 * `CADENCE_TEST_ENGINES=pglite` (or `postgres`) narrows the loop when iterating locally.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import { type StoreEngine } from '../../src/store/store.js';

export const engines: StoreEngine[] = (process.env.CADENCE_TEST_ENGINES?.split(',') as
  StoreEngine[] | undefined) ?? ['pglite', 'postgres'];

export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts a PostgreSQL, or point it at one',
    );
  }
  return url;
}

/** Creates an empty database on the test server and returns its URL and a dropper. */
export async function createThrowawayDatabase(): Promise<{
  url: string;
  drop: () => Promise<void>;
}> {
  const serverUrl = testDatabaseUrl();
  const name = `cadence_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** A migrated store on the given engine, and how to dispose of it. */
export async function openTestStore(
  engine: StoreEngine,
  options: { migrate?: boolean } = {},
): Promise<{ store: Store; url?: string; dispose: () => Promise<void> }> {
  if (engine === 'pglite') {
    const store = await openStore({ migrate: options.migrate ?? true });
    return { store, dispose: () => store.close() };
  }
  const database = await createThrowawayDatabase();
  const store = await openStore({
    databaseUrl: database.url,
    poolSize: 5,
    migrate: options.migrate ?? true,
  });
  return {
    store,
    url: database.url,
    async dispose() {
      await store.close();
      await database.drop();
    },
  };
}
