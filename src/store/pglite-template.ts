import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { listMigrations, type Migration } from './migrations.js';

/**
 * The template data directory `npm run build` makes (initdb and every migration, dumped by
 * PGlite as a gzipped tarball) and ships in dist/: a new embedded store starts from it instead
 * of running initdb, which costs seconds in WASM. Both paths sit at the package root's dist/,
 * reached from src/store (tsx) and dist/store alike, as migrations/ is.
 */
export const TEMPLATE_FILE = fileURLToPath(
  new URL('../../dist/pglite-template.tar.gz', import.meta.url),
);
/** What the template was made from: {@link TemplateLevel}. */
export const TEMPLATE_LEVEL_FILE = fileURLToPath(
  new URL('../../dist/pglite-template.json', import.meta.url),
);

const levelSchema = z.object({
  /** The PGlite that made it: another one may write another PostgreSQL's files. */
  pglite: z.string(),
  /** The last migration in it, e.g. `019_deploy_leases`. */
  migration: z.string(),
  /** sha256 over every migration's version, name and text: an edited migration is another level. */
  migrationsDigest: z.string(),
});
/** The migration level and engine a template was made at, written beside it. */
export type TemplateLevel = z.infer<typeof levelSchema>;

function pgliteVersion(): string {
  // The package's exports hide its package.json: read it beside the entry point (dist/index.js).
  const entry = import.meta.resolve('@electric-sql/pglite');
  const manifest = JSON.parse(readFileSync(new URL('../package.json', entry), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** The level a template made now, from these migrations, would have. */
export function currentLevel(migrations: Migration[] = listMigrations()): TemplateLevel {
  const digest = createHash('sha256');
  for (const migration of migrations) {
    digest.update(`${migration.version}\0${migration.name}\0${migration.sql}\0`);
  }
  return {
    pglite: pgliteVersion(),
    migration: migrations.at(-1)?.name ?? '',
    migrationsDigest: digest.digest('hex'),
  };
}

/** Where a new data directory comes from, and why, for the log. */
export type TemplateChoice =
  | { use: true; file: string }
  | { use: false; reason: 'no template' | 'other migrations' | 'other PGlite'; detail: string };

/**
 * Whether a new data directory may start from the template: it exists and was made at the
 * current migration level by the PGlite running now. Otherwise the caller runs initdb and the
 * migrations as without one, and says why.
 */
export function chooseTemplate(
  file = TEMPLATE_FILE,
  levelFile = TEMPLATE_LEVEL_FILE,
  current: TemplateLevel = currentLevel(),
): TemplateChoice {
  let level: TemplateLevel;
  try {
    statSync(file);
    level = levelSchema.parse(JSON.parse(readFileSync(levelFile, 'utf8')));
  } catch (error) {
    return {
      use: false,
      reason: 'no template',
      detail: `${file}: ${(error as Error).message} (npm run build makes it)`,
    };
  }
  if (level.pglite !== current.pglite) {
    return {
      use: false,
      reason: 'other PGlite',
      detail: `the template was made by PGlite ${level.pglite}, this is ${current.pglite}`,
    };
  }
  if (level.migrationsDigest !== current.migrationsDigest) {
    return {
      use: false,
      reason: 'other migrations',
      detail: `the template is at migration ${level.migration}, the migrations at ${current.migration}${level.migration === current.migration ? ' (edited since)' : ''}`,
    };
  }
  return { use: true, file };
}

const BLOCK = 512;

/** A NUL-terminated field of a tar header. */
function field(header: Buffer, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return bytes.toString('utf8', 0, end < 0 ? length : end);
}

/**
 * Unpacks the template (the ustar tarball PGlite's `dumpDataDir` writes: directories and
 * regular files) into `dir`, in this process and without PGlite: 0.1–0.2 s where letting PGlite
 * load it (`loadDataDir`) first starts its WASM engine, several times longer. Anything else in
 * the archive (a link, a pax header, a path out of `dir`) is refused rather than guessed at:
 * the caller falls back to initdb.
 */
export function unpackTemplate(file: string, dir: string): void {
  const tar = gunzipSync(readFileSync(file));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    offset += BLOCK;
    if (header.every((byte) => byte === 0)) break;
    const prefix = field(header, 345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${field(header, 0, 100)}`;
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const mode = parseInt(field(header, 100, 8).trim() || '0', 8) & 0o777;
    const type = String.fromCharCode(header[156] ?? 0);
    const parts = name.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..') || !Number.isSafeInteger(size)) {
      throw new Error(`template entry ${JSON.stringify(name)} is not a path inside the directory`);
    }
    const target = join(dir, ...parts);
    if (type === '5') {
      mkdirSync(target, { recursive: true, mode: mode || 0o700 });
    } else if (type === '0' || type === '\0') {
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      writeFileSync(target, tar.subarray(offset, offset + size), { mode: mode || 0o600 });
    } else {
      throw new Error(
        `template entry ${JSON.stringify(name)} has tar type ${JSON.stringify(type)}`,
      );
    }
    offset += Math.ceil(size / BLOCK) * BLOCK;
  }
}
