import { createHash, randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * The text of one lock: its holder, then a token no other lock has, so that a file that still
 * reads what a starter read is that very lock, not a later one naming the same holder (a reused
 * PID where /proc gives no start time). Readers of the holder ignore the token line.
 */
export function lockText(holder: LockHolder): string {
  return `${describeHolder(holder)}\n${randomUUID()}`;
}

/** A file written whole beside `path`, for linking or renaming into place. */
function writeDraft(path: string, text: string): string {
  const draft = join(dirname(path), `.cadence-draft-${randomUUID()}`);
  writeFileSync(draft, text, { flag: 'wx' });
  return draft;
}

/**
 * Creates `path` holding `text`, or reports false when it exists. Linked into place from a
 * draft, so no reader ever sees it empty or half written (and takes that for a dead holder).
 */
function createExclusive(path: string, text: string): boolean {
  const draft = writeDraft(path, text);
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkIfThere(draft);
  }
}

/** Replaces `path` with `text` in one step: there is never a moment with no file at `path`. */
function replaceWhole(path: string, text: string): void {
  const draft = writeDraft(path, text);
  try {
    renameSync(draft, path);
  } catch (error) {
    unlinkIfThere(draft);
    throw error;
  }
}

/**
 * The guard that one takeover of `path` while it reads `staleText` needs: only the starter that
 * creates it may replace that stale file. It is named after the stale text, so starters that read
 * the same stale lock contend for one guard, and a later lock gets a guard of its own.
 */
export function takeoverGuardFile(path: string, staleText: string): string {
  const digest = createHash('sha256')
    .update(`${basename(path)}\n${staleText}`)
    .digest('hex');
  return join(dirname(path), `cadence.takeover-${digest.slice(0, 32)}`);
}

/** What claiming a lock file came to: taken, held by a live process, or lost to another starter. */
export type Claim = { taken: true } | { taken: false; liveHolder: LockHolder | undefined };

/**
 * Replaces the lock file that read `staleText`, judged to name a dead holder, with `freshText`,
 * unless another starter did first. Unlinking whatever is at `path` could remove a live lock
 * that replaced the stale one since it was read; instead the starter takes the stale text's
 * guard (exclusively, as a lock itself, so a guard its dead taker left is taken over the same
 * way) and then, as only the guard's holder may replace that stale file, finding it still there
 * means it stays until the rename over it. A step of its own so a test can interleave starters.
 */
export function takeOverStaleLock(path: string, staleText: string, freshText: string): Claim {
  const guard = takeoverGuardFile(path, staleText);
  const guardClaim = claimFile(guard, freshText);
  // another live starter is taking this very lock over: it is the holder now
  if (!guardClaim.taken) return guardClaim;
  try {
    if (readOrUndefined(path) !== staleText) return { taken: false, liveHolder: undefined };
    replaceWhole(path, freshText);
    return { taken: true };
  } finally {
    unlinkIfThere(guard);
  }
}

/** Creates a lock file (the data directory's, or a takeover guard), or takes over a dead one's. */
function claimFile(path: string, freshText: string): Claim {
  if (createExclusive(path, freshText)) return { taken: true };
  const staleText = readOrUndefined(path);
  // gone since the create failed: the next attempt's exclusive create decides
  if (staleText === undefined) return { taken: false, liveHolder: undefined };
  const holder = parseHolder(staleText);
  if (holder && isLive(path, holder)) return { taken: false, liveHolder: holder };
  return takeOverStaleLock(path, staleText, freshText);
}

/**
 * PGlite is one process's database: two processes opening one data directory would corrupt it.
 * A pid file guards the directory; a pid file left by a dead process (kill -9, a reboot, a
 * restarted container with the same PID) is taken over, by one starter only: of those that find
 * the same stale file, the one holding its takeover guard renames its own lock over it, and the
 * others then meet a live holder ({@link takeOverStaleLock}).
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'cadence.pid');
  const freshText = lockText(currentHolder());
  // A lost claim means another starter moved first; the next attempt finds its lock.
  for (let attempt = 0; attempt < 3; attempt++) {
    const claim = claimFile(lockFile, freshText);
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
