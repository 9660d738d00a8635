/**
 * The template data directory `npm run build` makes: a directory unpacked from it has the schema
 * (tables, columns, indexes, constraints, functions, roles and grants) and the migration level
 * of one made by initdb and the migrations; a template of another level, another PGlite, a
 * missing or an unreadable one falls back to initdb and says why. The template here is made by
 * the same script the build runs (from the sources), in a temporary directory.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { bootstrapPgliteDir } from '../../src/store/bootstrap-data-dir.js';
import { listMigrations } from '../../src/store/migrations.js';
import { openPglite } from '../../src/store/pglite-engine.js';
import {
  chooseTemplate,
  currentLevel,
  unpackTemplate,
  type TemplateLevel,
} from '../../src/store/pglite-template.js';

const script = fileURLToPath(new URL('../../src/store/pglite-bootstrap.ts', import.meta.url));

/** Everything the migrations make, as catalog rows: equal listings, equal schemas. */
const SCHEMA_LISTINGS = {
  columns: `select table_name, column_name, ordinal_position, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = 'public' order by 1, 2`,
  indexes: `select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by 1, 2`,
  constraints: `select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
    from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`,
  functions: `select proname, pg_get_function_identity_arguments(oid) as args, md5(prosrc) as body
    from pg_proc where pronamespace = 'public'::regnamespace order by 1, 2`,
  views: `select viewname, definition from pg_views where schemaname = 'public' order by 1`,
  sequences: `select sequence_name, data_type from information_schema.sequences
    where sequence_schema = 'public' order by 1`,
  roles: `select rolname, rolcanlogin, rolsuper from pg_roles where rolname not like 'pg\\_%' order by 1`,
  grants: `select grantee, table_name, privilege_type from information_schema.role_table_grants
    where table_schema = 'public' order by 1, 2, 3`,
  migrations: 'select version, name from schema_migrations order by version',
} as const;

async function schemaOf(dir: string): Promise<Record<string, unknown[]>> {
  const store = await openPglite(dir);
  try {
    const listing: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(SCHEMA_LISTINGS)) {
      listing[name] = (await store.query(sql)).rows;
    }
    return listing;
  } finally {
    await store.close();
  }
}

describe('the template data directory', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-template-'));
  const template = join(work, 'pglite-template.tar.gz');
  const level = join(work, 'pglite-template.json');
  after(() => rmSync(work, { recursive: true, force: true }));

  before(() => {
    execFileSync(process.execPath, ['--import', 'tsx', script, '--make-template', template]);
  });

  it('records the current migration level and PGlite beside it', () => {
    const choice = chooseTemplate(template, level);
    assert.deepEqual(choice, { use: true, file: template });
    assert.equal(currentLevel().migration, listMigrations().at(-1)!.name);
  });

  it('gives a directory with the schema and migration level of one made by initdb', async () => {
    const fromTemplate = join(work, 'from-template', 'pglite');
    const made = await bootstrapPgliteDir(fromTemplate, chooseTemplate(template, level));
    assert.equal(made?.from, 'template');
    assert.deepEqual(readdirSync(join(work, 'from-template')), ['pglite']);

    // initdb, reached by the fallback for an archive the unpacker refuses (a symbolic link).
    const odd = join(work, 'odd');
    mkdirSync(odd);
    symlinkSync('/etc/passwd', join(odd, 'PG_VERSION'));
    const oddTemplate = join(work, 'odd.tar.gz');
    execFileSync('tar', ['-czf', oddTemplate, '-C', odd, '.']);
    const fromInitdb = join(work, 'from-initdb', 'pglite');
    const fallback = await bootstrapPgliteDir(fromInitdb, { use: true, file: oddTemplate });
    assert.equal(fallback?.from, 'initdb');
    assert.equal(fallback?.from === 'initdb' && fallback.reason, 'unreadable template');
    assert.match(fallback?.from === 'initdb' ? fallback.detail : '', /tar type "2"/);

    const [expected, actual] = [await schemaOf(fromInitdb), await schemaOf(fromTemplate)];
    assert.ok(expected.columns!.length > 50, 'the listing covers the tables');
    assert.ok(expected.roles!.some((role) => JSON.stringify(role).includes('cadence_git_reader')));
    assert.deepEqual(actual, expected);
    assert.deepEqual(
      actual.migrations!.map((row) => (row as { version: number }).version),
      listMigrations().map((migration) => migration.version),
    );
  });

  const current = currentLevel();
  const cases: [string, Partial<TemplateLevel> | 'missing', string][] = [
    ['missing', 'missing', 'no template'],
    ['made from other migrations', { migrationsDigest: 'f00' }, 'other migrations'],
    ['made by another PGlite', { pglite: '0.0.1' }, 'other PGlite'],
  ];
  for (const [what, change, reason] of cases) {
    it(`is not used when ${what}: ${reason}`, () => {
      const dir = mkdtempSync(join(work, 'level-'));
      const file = join(dir, 't.tar.gz');
      const levelFile = join(dir, 't.json');
      if (change !== 'missing') {
        writeFileSync(file, '');
        writeFileSync(levelFile, JSON.stringify({ ...current, ...change }));
      }
      const choice = chooseTemplate(file, levelFile, current);
      assert.equal(choice.use, false);
      assert.equal(!choice.use && choice.reason, reason);
    });
  }

  it('refuses a path out of the directory', async () => {
    const dir = mkdtempSync(join(work, 'escape-'));
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'outside'), 'x');
    const archive = join(dir, 'escape.tar.gz');
    // -P: GNU tar keeps the leading ../ it would otherwise strip.
    execFileSync('tar', ['-P', '-czf', archive, '-C', join(dir, 'in'), '../outside']);
    await assert.rejects(
      unpackTemplate(archive, join(dir, 'into')),
      /not a path inside the directory/,
    );
  });
});
