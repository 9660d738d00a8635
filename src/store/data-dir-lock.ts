import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CadenceError } from '../problem/index.js';

/** What a lock file says about its holder: `pid`, and on Linux the boot and the start time. */
export interface LockHolder {
  pid: number;
  /** /proc/sys/kernel/random/boot_id: a PID from another boot is no one. */
  bootId?: string | undefined;
  /** /proc/PID/stat field 22 (clock ticks since boot): a reused PID starts at another time. */
  startTime?: string | undefined;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  return readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim();
}

/** A process's start time from /proc, undefined where there is no /proc (macOS). */
function startTimeOf(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file's text: `pid`, then `boot id` and `start time` lines where known. */
export function describeHolder(holder: LockHolder): string {
  return [holder.pid, holder.bootId ?? '', holder.startTime ?? ''].join('\n');
}

export function parseHolder(text: string): LockHolder | undefined {
  const [pid, boot, start] = text.split('\n').map((line) => line.trim());
  const number = Number(pid);
  if (!Number.isInteger(number) || number <= 0) return undefined;
  return { pid: number, bootId: boot || undefined, startTime: start || undefined };
}

/** This process's own entry, as it would write it. */
export function currentHolder(): LockHolder {
  return { pid: process.pid, bootId: bootId(), startTime: startTimeOf(process.pid) };
}

/**
 * Whether the holder a lock file names is still alive. Our own PID is alive only if this very
 * process took the lock (`heldHere`): a restarted server often gets the PID its killed
 * predecessor had (PID 1 in a container). Another PID is alive if it runs, in this boot, and
 * started when the lock says (a reused PID of an unrelated process is not the holder).
 */
export function holderIsAlive(
  holder: LockHolder,
  now: {
    self: LockHolder;
    heldHere: boolean;
    running: (pid: number) => boolean;
    startTime: (pid: number) => string | undefined;
  },
): boolean {
  if (holder.pid === now.self.pid) return now.heldHere;
  if (holder.bootId && now.self.bootId && holder.bootId !== now.self.bootId) return false;
  if (!now.running(holder.pid)) return false;
  if (holder.startTime) {
    const actual = now.startTime(holder.pid);
    if (actual !== undefined && actual !== holder.startTime) return false;
  }
  return true;
}

// Data directories this process holds: the same process opening one twice is a conflict too.
const heldByThisProcess = new Set<string>();

/** A lock file's holder, judged alive as {@link holderIsAlive} says. */
function isLive(lockFile: string, holder: LockHolder): boolean {
  return holderIsAlive(holder, {
    self: currentHolder(),
    heldHere: heldByThisProcess.has(lockFile),
    running: isRunning,
    startTime: startTimeOf,
  });
}

/** Creates the lock file, or reports false when one exists. */
function createExclusive(lockFile: string, text: string): boolean {
  try {
    writeFileSync(lockFile, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** What claiming a lock file came to: taken, held by a live process, or lost to another starter. */
export type Claim = { taken: true } | { taken: false; liveHolder: LockHolder | undefined };

/**
 * Replaces the lock file that read `staleText`, judged to name a dead holder, with `freshText`.
 * A step of its own so that a test can interleave two starters' takeovers.
 */
export function takeOverStaleLock(
  lockFile: string,
  _staleText: string, // not checked: the file removed may no longer be the one read
  freshText: string,
): Claim {
  try {
    unlinkSync(lockFile);
  } catch {
    // another starter removed it first; the exclusive create decides
  }
  return createExclusive(lockFile, freshText)
    ? { taken: true }
    : { taken: false, liveHolder: undefined };
}

/** Creates the lock file, or takes over the one a dead holder left. */
function claimLock(lockFile: string, freshText: string): Claim {
  if (createExclusive(lockFile, freshText)) return { taken: true };
  const staleText = readOrUndefined(lockFile);
  // gone since the create failed: the next attempt's exclusive create decides
  if (staleText === undefined) return { taken: false, liveHolder: undefined };
  const holder = parseHolder(staleText);
  if (holder && isLive(lockFile, holder)) return { taken: false, liveHolder: holder };
  return takeOverStaleLock(lockFile, staleText, freshText);
}

/**
 * PGlite is one process's database: two processes opening one data directory would corrupt it.
 * A pid file guards the directory; a pid file left by a dead process (kill -9, a reboot, a
 * restarted container with the same PID) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'cadence.pid');
  const freshText = describeHolder(currentHolder());
  for (let attempt = 0; attempt < 2; attempt++) {
    const claim = claimLock(lockFile, freshText);
    if (claim.taken) {
      heldByThisProcess.add(lockFile);
      return () => {
        heldByThisProcess.delete(lockFile);
        try {
          unlinkSync(lockFile);
        } catch {
          // already gone: nothing to release
        }
      };
    }
    if (claim.liveHolder) {
      throw new CadenceError('conflict', {
        field: 'dataDir',
        detail: `data directory ${dataDir} is in use by process ${claim.liveHolder.pid}; stop it or use another --data-dir`,
      });
    }
  }
  throw new CadenceError('conflict', { field: 'dataDir', detail: `cannot lock ${dataDir}` });
}

/**
 * The live process that holds `dataDir`, or undefined when none does (no lock file, or the one
 * a killed process left): how a CLI tells a running server's discovery file from a stale one.
 */
export function liveHolder(dataDir: string): LockHolder | undefined {
  const lockFile = join(dataDir, 'cadence.pid');
  const holder = parseHolder(readOrUndefined(lockFile) ?? '');
  return holder && isLive(lockFile, holder) ? holder : undefined;
}

/**
 * {@link lockDataDir}, waiting while another live process holds the directory and `keepWaiting`
 * says it is worth it (a one-shot CLI command lets go within seconds; a serving server does
 * not), up to `waitMs`; then the conflict is thrown as without waiting.
 */
export async function lockDataDirWaiting(
  dataDir: string,
  options: { waitMs: number; keepWaiting: () => boolean; pollMs?: number },
): Promise<() => void> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    try {
      return lockDataDir(dataDir);
    } catch (error) {
      const conflict = error instanceof CadenceError && error.code === 'conflict';
      if (!conflict || Date.now() > deadline || !options.keepWaiting()) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}
