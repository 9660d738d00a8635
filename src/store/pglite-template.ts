import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
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

/** One tar header: where its entry goes, what it is and how many bytes follow it. */
function entryOf(header: Buffer, dir: string) {
  const prefix = field(header, 345, 155);
  const name = `${prefix ? `${prefix}/` : ''}${field(header, 0, 100)}`;
  const size = parseInt(field(header, 124, 12).trim() || '0', 8);
  const mode = parseInt(field(header, 100, 8).trim() || '0', 8) & 0o777;
  const type = String.fromCharCode(header[156] ?? 0);
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..') || !Number.isSafeInteger(size)) {
    throw new Error(`template entry ${JSON.stringify(name)} is not a path inside the directory`);
  }
  if (type !== '5' && type !== '0' && type !== '\0') {
    throw new Error(`template entry ${JSON.stringify(name)} has tar type ${JSON.stringify(type)}`);
  }
  return { target: join(dir, ...parts), directory: type === '5', mode, size };
}

/**
 * Unpacks the template (the ustar tarball PGlite's `dumpDataDir` writes: directories and
 * regular files) into `dir`, in this process and without PGlite: a fraction of a second where
 * letting PGlite load it (`loadDataDir`) first starts its WASM engine, several times longer.
 * Streamed, a block at a time: the whole archive unzipped at once (~60 MB, most of it a WAL
 * segment) stayed in a server's RSS after it. Anything else in the archive (a link, a pax
 * header, a path out of `dir`) is refused rather than guessed at: the caller falls back to initdb.
 */
export async function unpackTemplate(file: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let pending: Buffer = Buffer.alloc(0);
  // The file being written and its bytes still to come, then the padding to its block's end.
  let open: { fd: number; left: number } | undefined;
  let padding = 0;
  let ended = false;
  try {
    for await (const chunk of createReadStream(file).pipe(createGunzip())) {
      if (ended) continue; // the archive's closing blocks
      pending = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
      while (!ended) {
        if (open) {
          const length = Math.min(open.left, pending.length);
          writeSync(open.fd, pending, 0, length);
          open.left -= length;
          pending = pending.subarray(length);
          if (open.left > 0) break;
          closeSync(open.fd);
          open = undefined;
        }
        if (padding > 0) {
          const length = Math.min(padding, pending.length);
          padding -= length;
          pending = pending.subarray(length);
          if (padding > 0) break;
        }
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((byte) => byte === 0)) {
          ended = true;
          break;
        }
        const entry = entryOf(header, dir);
        if (entry.directory) {
          mkdirSync(entry.target, { recursive: true, mode: entry.mode || 0o700 });
          continue;
        }
        mkdirSync(dirname(entry.target), { recursive: true, mode: 0o700 });
        open = { fd: openSync(entry.target, 'w', entry.mode || 0o600), left: entry.size };
        padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
      }
    }
  } finally {
    if (open) closeSync(open.fd);
  }
  if (open || !ended) throw new Error('the template archive ends in the middle of an entry');
}
