import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CadenceError } from '../problem/index.js';
import { chooseTemplate, unpackTemplate, type TemplateChoice } from './pglite-template.js';

const run = promisify(execFile);

// The script beside this module: .js in dist/, .ts when the sources run through tsx.
const bootstrapScript = fileURLToPath(
  new URL(`./pglite-bootstrap${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

const WITH_VALUE = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);

/**
 * The node flags that load code (tsx when the sources run directly), without the rest: a test
 * runner's flags, or `-e CODE`, would make the child run something else than the bootstrap.
 *
 * @example loaderFlags(['--import', 'tsx', '-e', 'code']) // ['--import', 'tsx']
 */
export function loaderFlags(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (WITH_VALUE.has(flag) && i + 1 < execArgv.length) {
      kept.push(flag, execArgv[++i]!);
    } else if ([...WITH_VALUE].some((name) => flag.startsWith(`${name}=`))) {
      kept.push(flag);
    }
  }
  return kept;
}

/** Whether `dir` already holds a PostgreSQL cluster (initdb writes PG_VERSION). */
export function isInitialized(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION'));
}

/** How a new data directory was made: from the build's template, or by initdb and why. */
export type Bootstrap =
  | { from: 'template'; durationMs: number }
  | {
      from: 'initdb';
      durationMs: number;
      reason: Exclude<TemplateChoice, { use: true }>['reason'] | 'unreadable template';
      detail: string;
    };

/** initdb and the migrations into `staging`, in a child process. */
async function initdbInChild(dir: string, staging: string): Promise<void> {
  const flags = loaderFlags(process.execArgv);
  try {
    await run(process.execPath, [...flags, bootstrapScript, staging], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new CadenceError('unavailable', {
      field: 'dataDir',
      detail: `cannot create the embedded store in ${dir}: ${stderr || (error as Error).message}`,
      cause: error,
    });
  }
}

/**
 * Creates PGlite's data directory: unpacked from the template `npm run build` made when its
 * migration level and PGlite are the current ones (no initdb, no WASM: a fraction of a second),
 * else by initdb and the migrations in a short child process, so that the caller, often a server
 * that runs for weeks, never holds initdb's memory. Either writes into a staging directory that
 * is renamed into place only when complete: a bootstrap killed halfway leaves no half-made
 * cluster behind, and the next start begins again. Returns how it was made, undefined when the
 * directory already existed.
 */
export async function bootstrapPgliteDir(
  dir: string,
  template: TemplateChoice = chooseTemplate(),
): Promise<Bootstrap | undefined> {
  if (isInitialized(dir)) return undefined;
  const started = performance.now();
  const staging = `${dir}.bootstrap-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  let made: Bootstrap;
  const elapsed = () => Math.round(performance.now() - started);
  let unreadable: string | undefined;
  if (template.use) {
    try {
      await unpackTemplate(template.file, staging);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      unreadable = `${template.file}: ${(error as Error).message}`;
    }
  }
  if (template.use && unreadable === undefined) {
    made = { from: 'template', durationMs: elapsed() };
  } else {
    await initdbInChild(dir, staging);
    made = template.use
      ? {
          from: 'initdb',
          durationMs: elapsed(),
          reason: 'unreadable template',
          detail: unreadable!,
        }
      : { from: 'initdb', durationMs: elapsed(), reason: template.reason, detail: template.detail };
  }
  // A directory left from before (empty, or a crashed bootstrap's) gives way to the new one.
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return made;
}
