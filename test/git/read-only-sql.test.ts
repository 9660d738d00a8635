/** `cadence sql`'s engine: one read-only query, askgit's blog query as written, on every engine. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importRepository, runReadOnlySql } from '../../src/git/index.js';
import { jsonObjectEntries, singleQuery } from '../../src/git/read-only-sql.js';
import { CadenceError } from '../../src/problem/index.js';
import type { Store } from '../../src/store/index.js';
import { engines, openTestStore } from '../support/engines.js';
import { GitFixture } from '../support/git-fixture.js';

const BLOG_QUERY =
  "select * from commits left join stats on stats.commit_id = commits.id where file like 'sync/prod%'";

describe('singleQuery', () => {
  const accepted: [sql: string, query: string][] = [
    ['select 1', 'select 1'],
    ['select 1;', 'select 1'],
    ['  select 1 ;  -- done\n', '  select 1 '],
    ["select ';' as a", "select ';' as a"],
    ["select 'it''s; ok'", "select 'it''s; ok'"],
    ["select E'a\\'; b'", "select E'a\\'; b'"],
    ['select $$;$$, $tag$ ; $tag$', 'select $$;$$, $tag$ ; $tag$'],
    ['select 1 as "a;b"', 'select 1 as "a;b"'],
    ['/* a; /* nested; */ b; */ select 1', '/* a; /* nested; */ b; */ select 1'],
    ['-- a comment; with a semicolon\nselect 1', '-- a comment; with a semicolon\nselect 1'],
    ['(select 1)', '(select 1)'],
    ['select 1 --\r', 'select 1 --\r'],
    [
      "select 'set_config' as config_name, e'\\'' as q",
      "select 'set_config' as config_name, e'\\'' as q",
    ],
    ['WITH x AS (select 1) select * from x', 'WITH x AS (select 1) select * from x'],
    ['values (1), (2)', 'values (1), (2)'],
    ['table commits', 'table commits'],
  ];
  for (const [sql, query] of accepted) {
    it(`accepts ${JSON.stringify(sql)}`, () => assert.equal(singleQuery(sql), query));
  }
  const refused: [sql: string, message: RegExp][] = [
    ['', /empty/],
    ['  -- only a comment', /empty/],
    ['select 1; select 2', /one statement at a time/],
    ["select 1; delete from commits where id = ';'", /one statement at a time/],
    ['delete from commits', /not DELETE/],
    ['drop table commits', /not DROP/],
    ['insert into stats values (1)', /not INSERT/],
    ['set transaction read write', /not SET/],
    ['explain select 1', /not EXPLAIN/],
    ['select 1 --\r; delete from commits', /one statement at a time/],
    ["select set_config('role', 'none', true)", /set_config is not allowed/],
    ['select "set_config"(1)', /set_config is not allowed/],
    ["select query_to_xml('select 1', true, true, '')", /query_to_xml is not allowed/],
    ['select U&"set\\005fconfig"(1)', /Unicode-escaped identifiers/],
  ];
  for (const [sql, message] of refused) {
    it(`refuses ${JSON.stringify(sql)}`, () => {
      assert.throws(
        () => singleQuery(sql),
        (error: unknown) =>
          error instanceof CadenceError && error.field === 'query' && message.test(error.message),
      );
    });
  }
});

describe('jsonObjectEntries', () => {
  it('keeps repeated keys and their order, and nested values whole', () => {
    assert.deepEqual(
      jsonObjectEntries('{"b":1,"a":"x,}","b":null,"c":{"d":[1,{"e":"]"}]},"f":[]}'),
      [
        ['b', 1],
        ['a', 'x,}'],
        ['b', null],
        ['c', { d: [1, { e: ']' }] }],
        ['f', []],
      ],
    );
    assert.deepEqual(jsonObjectEntries('{}'), []);
    assert.deepEqual(jsonObjectEntries('{"q\\"k":"v\\\\"}'), [['q"k', 'v\\']]);
  });
});

let fixture: GitFixture;
let mirrorDir: string;
before(() => {
  fixture = GitFixture.create();
  fixture.commit('root', '2024-01-01T00:00:00Z', { 'README.md': 'x\n' });
  fixture.commit('sync prod', '2024-01-02T10:00:00Z', {
    'sync/prod/web.yaml': 'a\nb\n',
    'sync/production-notes.md': 'n\n',
    'sync/staging/web.yaml': 's\n',
  });
  fixture.commit(
    'sync prod again',
    '2024-01-03T10:00:00Z',
    { 'sync/prod/web.yaml': 'a\nc\n' },
    { offset: '+0200' },
  );
  mirrorDir = mkdtempSync(join(tmpdir(), 'cadence-mirrors-'));
});
after(() => {
  fixture.remove();
  rmSync(mirrorDir, { recursive: true, force: true });
});

for (const engine of engines) {
  describe(`read-only SQL on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      await importRepository(store, { source: fixture.dir, name: 'gitops', mirrorDir });
    });
    after(() => dispose());

    it("runs askgit's blog query as written, every column kept", async () => {
      const result = await runReadOnlySql(store, BLOG_QUERY);
      assert.deepEqual(result.columns, [
        'repository',
        'id',
        'message',
        'author_name',
        'author_email',
        'author_when',
        'committer_name',
        'committer_email',
        'committer_when',
        'parents',
        'parent_ids',
        'repository',
        'commit_id',
        'file',
        'additions',
        'deletions',
      ]);
      const rows = result.rows
        .map((row) => [row[2], row[5], row[11], row[13], row[14], row[15]])
        .sort((a, b) => (`${a[1]} ${a[3]}` < `${b[1]} ${b[3]}` ? -1 : 1));
      assert.deepEqual(rows, [
        ['sync prod', '2024-01-02T10:00:00+00:00', 'gitops', 'sync/prod/web.yaml', 2, 0],
        ['sync prod', '2024-01-02T10:00:00+00:00', 'gitops', 'sync/production-notes.md', 1, 0],
        // Times come back in UTC, whatever the committer's zone.
        ['sync prod again', '2024-01-03T10:00:00+00:00', 'gitops', 'sync/prod/web.yaml', 1, 1],
      ]);
    });

    it('names the columns of an empty result', async () => {
      const result = await runReadOnlySql(
        store,
        "select file, additions from stats where file = 'none';",
      );
      assert.deepEqual(result, { columns: ['file', 'additions'], rows: [] });
    });

    it('keeps the order the query asks for', async () => {
      const result = await runReadOnlySql(
        store,
        'select message, parents from commits order by author_when desc',
      );
      assert.deepEqual(result.rows, [
        ['sync prod again', 1],
        ['sync prod', 1],
        ['root', 0],
      ]);
    });

    it('refuses any write, even one the lexer lets through', async () => {
      const writes = [
        'with gone as (delete from commits returning *) select * from gone',
        "select nextval('events_seq_seq')",
        'select * from commits for update',
      ];
      for (const sql of writes) {
        await assert.rejects(runReadOnlySql(store, sql), (error: unknown) => {
          assert.ok(error instanceof CadenceError, String(error));
          assert.equal(error.field, 'query');
          assert.match(error.message, /query failed: .*(read-only|top level|permission denied)/);
          return true;
        });
      }
      const { rows } = await store.query<{ n: number }>('select count(*)::int4 as n from commits');
      assert.equal(rows[0]!.n, 3);
    });

    it('reports a bad query with the database message', async () => {
      await assert.rejects(
        runReadOnlySql(store, 'select nope from commits'),
        /query failed: column "nope" does not exist/,
      );
    });

    if (engine === 'postgres') {
      it('cancels a query that runs past the statement timeout', async () => {
        await assert.rejects(
          runReadOnlySql(store, 'select pg_sleep(5)', { timeoutMs: 100 }),
          /query cancelled: it ran longer than the statement timeout/,
        );
      });
    }
  });
}
