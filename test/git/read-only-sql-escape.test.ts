/**
 * `cadence sql` cannot write, read tables other than the git ones, or call superuser functions,
 * on either engine (issue 13, item 2). The bypass below committed writes on PostgreSQL when the
 * guard ended `--` comments at `\n` only and the wrapped query went through the simple protocol.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { runReadOnlySql } from '../../src/git/index.js';
import { CadenceError } from '../../src/problem/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';

const BYPASS =
  "select 1 as x --\r) as cadence_row; commit; insert into git_repositories (name, source, ref) values ('pwned', 'x', 'y'); create table pwned (a int); select * from (select 1 as x";

/** Everything a write could leave behind: a row, a table, a large object. */
async function footprint(store: Store): Promise<string> {
  const { rows } = await store.query<{ f: string }>(
    `select (select count(*) from git_repositories)::text || '/' ||
            (select count(*) from pg_class where relname like 'pwned%')::text || '/' ||
            (select count(*) from pg_largeobject_metadata)::text || '/' ||
            (select count(*) from deploy_tokens)::text as f`,
  );
  return rows[0]!.f;
}

async function refusal(promise: Promise<unknown>): Promise<CadenceError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CadenceError, String(error));
    return error;
  }
  assert.fail('the query ran');
}

for (const engine of engines) {
  describe(`cadence sql cannot escape on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      await store.query(
        "insert into git_repositories (name, source, ref) values ('gitops', '/tmp/x', 'HEAD')",
      );
    });
    after(() => dispose());

    it("refuses the issue's `--\\r` bypass and writes nothing", async () => {
      const before = await footprint(store);
      const error = await refusal(runReadOnlySql(store, BYPASS));
      assert.equal(error.field, 'query');
      assert.equal(await footprint(store), before);
    });

    it('reads the git tables', async () => {
      const result = await runReadOnlySql(store, 'select name from git_repositories');
      assert.deepEqual(result.rows, [['gitops']]);
    });

    const otherTables = ['deploy_tokens', 'events', 'schema_migrations', 'deployments', 'analyses'];
    for (const table of otherTables) {
      it(`refuses to read ${table}`, async () => {
        const error = await refusal(runReadOnlySql(store, `select * from ${table}`));
        assert.match(error.message, /permission denied|not allowed/);
      });
    }

    const superuserCalls = [
      "select pg_read_file('/etc/passwd')",
      "select pg_ls_dir('/')",
      "select lo_import('/etc/passwd')",
      'select pg_reload_conf()',
    ];
    for (const sql of superuserCalls) {
      it(`refuses ${sql}`, async () => {
        const before = await footprint(store);
        const error = await refusal(runReadOnlySql(store, sql));
        assert.match(error.message, /permission denied|not allowed|read-only/);
        assert.equal(await footprint(store), before);
      });
    }

    it('refuses to switch back to the connection role inside the query', async () => {
      const escapes = [
        "select set_config('role', 'none', true), (select count(*) from deploy_tokens)",
        "select set_config('role', 'none', true) as r, query_to_xml('select * from deploy_tokens', true, true, '') as x",
        "select \"set_config\"('role', 'none', true)",
        "select pg_catalog.SET_CONFIG('session_authorization', 'postgres', true)",
        "select query_to_xml('select 1', true, true, '')",
        "select ts_stat('select to_tsvector(token) from deploy_tokens')",
      ];
      for (const sql of escapes) {
        const error = await refusal(runReadOnlySql(store, sql));
        assert.equal(error.field, 'query', sql);
      }
      // The pool's connections are unchanged: the store still reads what the reader may not.
      const { rows } = await store.query<{ user: string }>('select current_user as user');
      assert.notEqual(rows[0]!.user, 'cadence_git_reader');
    });

    it('property: no mix of comments, quotes, semicolons, \\r and $$ writes or reads another table', async () => {
      const before = await footprint(store);
      const piece = fc.constantFrom(
        'select 1',
        ' ',
        '--',
        '\r',
        '\n',
        ';',
        "'",
        '"',
        '$$',
        '$t$',
        '/*',
        '*/',
        ')',
        '(',
        'E',
        '\\',
        ' as cadence_row',
        ' commit',
        ' rollback',
        " insert into git_repositories (name, source, ref) values ('pwned', 'x', 'y')",
        ' create table pwned (a int)',
        ' set transaction read write',
        ' select * from deploy_tokens',
        ' select * from events',
        ' select * from (select 1',
        " select set_config('role', 'none', false)",
      );
      await fc.assert(
        fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 14 }), async (pieces) => {
          const sql = pieces.join('');
          try {
            const result = await runReadOnlySql(store, sql);
            // A query that ran read nothing but constants and the git tables.
            assert.ok(!/deploy_tokens|events/.test(JSON.stringify(result)), sql);
          } catch (error) {
            assert.ok(error instanceof CadenceError, `${JSON.stringify(sql)}: ${String(error)}`);
          }
          assert.equal(await footprint(store), before, JSON.stringify(sql));
        }),
        { numRuns: 300 },
      );
    });
  });
}

if (engines.includes('postgres')) {
  describe('cadence sql on a PostgreSQL whose user is not a superuser', () => {
    it('migrates, and says how to set the reader role up when it cannot use it', async () => {
      const { default: pg } = await import('pg');
      const { randomBytes } = await import('node:crypto');
      const { openStore } = await import('../../src/store/index.js');
      const { testDatabaseUrl } = await import('../support/engines.js');
      const name = `cadence_owner_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: testDatabaseUrl() });
      await admin.connect();
      await admin.query(`create role ${name} login`);
      await admin.query(`create database ${name} owner ${name}`);
      const url = new URL(testDatabaseUrl());
      url.username = name;
      url.pathname = `/${name}`;
      try {
        const store = await openStore({ databaseUrl: url.toString(), poolSize: 2 });
        try {
          const error = await refusal(runReadOnlySql(store, 'select * from commits'));
          assert.equal(error.code, 'config-invalid');
          assert.match(error.message, /grant cadence_git_reader to/);
        } finally {
          await store.close();
        }
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.query(`drop owned by ${name}`).catch(() => undefined);
        await admin.query(`drop role if exists ${name}`);
        await admin.end();
      }
    });
  });
}
