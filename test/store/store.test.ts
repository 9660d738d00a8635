import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CadenceError } from '../../src/problem/index.js';
import { openStore } from '../../src/store/index.js';
import { applyMigrations, listMigrations } from '../../src/store/migrations.js';
import { splitStatements } from '../../src/store/migrations.js';
import { createThrowawayDatabase, engines, openTestStore } from '../support/engines.js';

for (const engine of engines) {
  describe(`store on ${engine}`, () => {
    it('applies every migration once and records it', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const { rows } = await store.query<{ version: number }>(
          'select version from schema_migrations order by version',
        );
        assert.deepEqual(
          rows.map((row) => row.version),
          listMigrations().map((migration) => migration.version),
        );
        assert.deepEqual(await applyMigrations(store), [], 'a second run applies nothing');
      } finally {
        await dispose();
      }
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        await store.exec('create table t (n int primary key)');
        await store.transaction(async (tx) => {
          await tx.query('insert into t values ($1)', [1]);
        });
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.query('insert into t values ($1)', [2]);
            throw new Error('boom');
          }),
          /boom/,
        );
        const { rows } = await store.query<{ n: number }>('select n from t order by n');
        assert.deepEqual(rows, [{ n: 1 }]);
      } finally {
        await dispose();
      }
    });

    it('returns int8 as numbers, timestamptz as dates and jsonb as values', async () => {
      const { store, dispose } = await openTestStore(engine);
      try {
        const { rows } = await store.query<{ big: number; at: Date; doc: unknown }>(
          `select 9007199254740::int8 as big, '2026-01-02T03:04:05Z'::timestamptz as at, '{"a":[1]}'::jsonb as doc`,
        );
        assert.deepEqual(rows[0], {
          big: 9007199254740,
          at: new Date('2026-01-02T03:04:05Z'),
          doc: { a: [1] },
        });
      } finally {
        await dispose();
      }
    });
  });
}

describe('migrations on PostgreSQL', () => {
  it('lets replicas starting together take turns (each migration applied once)', async () => {
    const database = await createThrowawayDatabase();
    try {
      const stores = await Promise.all(
        [1, 2, 3].map(() => openStore({ databaseUrl: database.url, poolSize: 2 })),
      );
      const { rows } = await stores[0]!.query<{ n: number }>(
        'select count(*)::int8 as n from schema_migrations',
      );
      assert.equal(rows[0]?.n, listMigrations().length);
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await database.drop();
    }
  });

  it('runs every session with JIT off, in and out of transactions', async () => {
    const database = await createThrowawayDatabase();
    // Set before a connection's first query, not queued beside it (which pg deprecates). pg warns
    // once per process: this file runs in a process of its own (the runner's default isolation).
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    const store = await openStore({ databaseUrl: database.url, poolSize: 3 });
    try {
      const jit = 'select current_setting($1) as jit';
      // Three at once: each on its own pooled connection.
      const settings = await Promise.all([
        store.query<{ jit: string }>(jit, ['jit']),
        store.query<{ jit: string }>(jit, ['jit']),
        store.transaction((tx) => tx.query<{ jit: string }>(jit, ['jit'])),
      ]);
      assert.deepEqual(
        settings.map((r) => r.rows[0]?.jit),
        ['off', 'off', 'off'],
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
      await store.close();
      await database.drop();
    }
  });
});

describe('embedded data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps data across a restart and refuses a second process-level opener', async () => {
    const first = await openStore({ dataDir: dir });
    await first.query(
      `insert into events (source, id, type, specversion) values ('/s', '1', 't', '1.0')`,
    );
    await assert.rejects(
      openStore({ dataDir: dir }),
      (error: unknown) => error instanceof CadenceError && error.code === 'conflict',
    );
    await first.close();
    const second = await openStore({ dataDir: dir });
    const { rows } = await second.query<{ n: number }>('select count(*)::int8 as n from events');
    assert.equal(rows[0]?.n, 1);
    await second.close();
  });

  it('reports a directory held by another live process as a conflict', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const held = join(dir, 'held');
    mkdirSync(held);
    writeFileSync(join(held, 'cadence.pid'), String(process.ppid));
    await assert.rejects(
      openStore({ dataDir: held }),
      (error: unknown) => error instanceof CadenceError && error.code === 'conflict',
    );
  });
});

describe('splitStatements', () => {
  it('splits on semicolons and drops comments', () => {
    assert.deepEqual(
      splitStatements('-- a; comment\ncreate table a (x int);\n\ncreate index b on a (x);'),
      ['create table a (x int)', 'create index b on a (x)'],
    );
  });
});

describe('splitStatements with bodies', () => {
  const cases: [sql: string, statements: string[]][] = [
    [
      "do $$ begin perform 1; perform 2; end $$;\nselect ';';",
      ['do $$ begin perform 1; perform 2; end $$', "select ';'"],
    ],
    ['select $t$ a; $$ b; $t$; select 2', ['select $t$ a; $$ b; $t$', 'select 2']],
    [
      "select 'it''s; -- not a comment'; select 3",
      ["select 'it''s; -- not a comment'", 'select 3'],
    ],
    ['select 1 -- a; comment\r; select 4', ['select 1', 'select 4']],
  ];
  for (const [sql, statements] of cases) {
    it(`splits ${JSON.stringify(sql)}`, () => assert.deepEqual(splitStatements(sql), statements));
  }
});
