import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// `migrations/` sits at the package root, two levels above both src/store and dist/store.
const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** The numbered `NNN_name.sql` files, in order. */
export function listMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => ({
      version: Number(file.slice(0, file.indexOf('_'))),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(new URL(file, `file://${dir}/`), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
}

// Any constant will do: it only has to be the same in every Cadence replica.
const MIGRATION_LOCK_KEY = 4_217_733;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction.
 * On PostgreSQL an advisory lock makes replicas starting together take turns.
 */
export async function applyMigrations(
  store: Store,
  migrations = listMigrations(),
): Promise<number[]> {
  const applied: number[] = [];
  await store.transaction(async (tx) => {
    // Taken before anything else, even the bookkeeping table's creation, which races too.
    if (store.engine === 'postgres') {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    await tx.query(`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now())`);
    const { rows } = await tx.query<{ version: number }>('select version from schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      // Each file may hold several statements; they run inside this one transaction.
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
  });
  return applied;
}

/**
 * Splits a migration file on top-level semicolons, because a parameterized-protocol query takes
 * one statement at a time. Skips `--` comments, '…' strings and $tag$…$tag$ bodies (a DO block's
 * semicolons are its own).
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    const dollar = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest);
    if (rest.startsWith('--')) {
      const end = rest.search(/[\r\n]/);
      i += end < 0 ? rest.length : end;
    } else if (dollar) {
      const end = sql.indexOf(dollar[0], i + dollar[0].length);
      const stop = end < 0 ? sql.length : end + dollar[0].length;
      current += sql.slice(i, stop);
      i = stop;
    } else if (rest.startsWith("'")) {
      const end = /^'(?:[^']|'')*'?/.exec(rest)![0];
      current += end;
      i += end.length;
    } else if (rest.startsWith(';')) {
      statements.push(current);
      current = '';
      i++;
    } else {
      current += sql[i];
      i++;
    }
  }
  statements.push(current);
  return statements
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
