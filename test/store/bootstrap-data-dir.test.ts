/**
 * A new PGlite directory without a template is made by a child process (initdb and migrations)
 * and renamed into place whole; the flags passed on to that child are only those that load code.
 * (From the build's template: test/store/pglite-template.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  bootstrapPgliteDir,
  isInitialized,
  loaderFlags,
} from '../../src/store/bootstrap-data-dir.js';
import { openPglite } from '../../src/store/pglite-engine.js';
import { listMigrations } from '../../src/store/migrations.js';

describe('loaderFlags', () => {
  const cases: [string[], string[]][] = [
    [[], []],
    [
      ['--import', 'tsx', '-e', 'code'],
      ['--import', 'tsx'],
    ],
    [['--import=tsx', '--test-reporter=spec'], ['--import=tsx']],
    [
      ['--require', 'a.cjs', '--loader', 'b.mjs', '--max-old-space-size=100'],
      ['--require', 'a.cjs', '--loader', 'b.mjs'],
    ],
    [['--test', '--eval', 'x', '-r'], []],
  ];
  for (const [execArgv, expected] of cases) {
    it(`${JSON.stringify(execArgv)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(loaderFlags(execArgv), expected);
    });
  }
});

const NO_TEMPLATE = { use: false, reason: 'no template', detail: 'this test runs initdb' } as const;

describe('bootstrapPgliteDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'cadence-bootstrap-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates the cluster with every migration applied, and leaves no staging directory', async () => {
    const dir = join(root, 'pglite');
    // An empty directory (a bootstrap that never finished) gives way to the new cluster.
    mkdirSync(dir);
    assert.equal(isInitialized(dir), false);
    const made = await bootstrapPgliteDir(dir, NO_TEMPLATE);
    assert.equal(made?.from, 'initdb');
    assert.equal(isInitialized(dir), true);
    assert.deepEqual(readdirSync(root), ['pglite']);
    const store = await openPglite(dir);
    try {
      const { rows } = await store.query<{ version: number }>(
        'select version from schema_migrations order by version',
      );
      assert.deepEqual(
        rows.map((row) => row.version),
        listMigrations().map((migration) => migration.version),
      );
    } finally {
      await store.close();
    }
  });

  it('leaves an existing cluster alone', async () => {
    const dir = join(root, 'pglite');
    const store = await openPglite(dir);
    await store.query('create table kept (id int)');
    await store.close();
    assert.equal(await bootstrapPgliteDir(dir), undefined);
    const again = await openPglite(dir);
    try {
      assert.deepEqual((await again.query('select * from kept')).rows, []);
    } finally {
      await again.close();
    }
    assert.equal(existsSync(`${dir}.bootstrap-${process.pid}`), false);
  });
});
