/** The PGlite data-dir lock: a holder that is gone is taken over, a live one is a conflict. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CadenceError } from '../../src/problem/index.js';
import {
  currentHolder,
  describeHolder,
  holderIsAlive,
  lockDataDir,
  lockDataDirWaiting,
  parseHolder,
  takeOverStaleLock,
  takeoverGuardFile,
  type LockHolder,
} from '../../src/store/data-dir-lock.js';
import { openStore } from '../../src/store/index.js';

const self: LockHolder = { pid: 100, bootId: 'boot-a', startTime: '500' };

describe('holderIsAlive', () => {
  const running = (pid: number) => pid === 100 || pid === 200;
  const startTime = (pid: number) => (pid === 200 ? '900' : pid === 100 ? '500' : undefined);
  const cases: [name: string, holder: LockHolder, heldHere: boolean, alive: boolean][] = [
    ['our own PID, not locked by us: a predecessor with our PID', { pid: 100 }, false, false],
    ['our own PID, locked by this process', { pid: 100 }, true, true],
    ['a dead PID', { pid: 300, bootId: 'boot-a', startTime: '1' }, false, false],
    [
      'a live PID started when the lock says',
      { pid: 200, bootId: 'boot-a', startTime: '900' },
      false,
      true,
    ],
    [
      'a live PID reused by another process',
      { pid: 200, bootId: 'boot-a', startTime: '901' },
      false,
      false,
    ],
    ['a PID from another boot', { pid: 200, bootId: 'boot-b', startTime: '900' }, false, false],
    ['an old lock file with a live PID only', { pid: 200 }, false, true],
  ];
  for (const [name, holder, heldHere, alive] of cases) {
    it(name, () =>
      assert.equal(holderIsAlive(holder, { self, heldHere, running, startTime }), alive),
    );
  }

  it('reads what it writes, and an old pid-only file', () => {
    assert.deepEqual(parseHolder(describeHolder(self)), self);
    assert.deepEqual(parseHolder('42'), { pid: 42, bootId: undefined, startTime: undefined });
    assert.equal(parseHolder('garbage'), undefined);
  });
});

describe('lockDataDir', () => {
  const root = mkdtempSync(join(tmpdir(), 'cadence-lock-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('takes over a lock naming our own PID (a restart that got the same PID)', () => {
    const dir = join(root, 'own-pid');
    lockDataDir(dir)(); // creates the directory
    // A file naming our PID that this process did not write: the killed predecessor's.
    writeFileSync(join(dir, 'cadence.pid'), String(process.pid));
    const unlock = lockDataDir(dir);
    assert.deepEqual(parseHolder(readFileSync(join(dir, 'cadence.pid'), 'utf8')), currentHolder());
    unlock();
  });

  it('refuses a second lock from this same process', () => {
    const dir = join(root, 'twice');
    const unlock = lockDataDir(dir);
    assert.throws(
      () => lockDataDir(dir),
      (error: unknown) => error instanceof CadenceError && error.code === 'conflict',
    );
    unlock();
  });

  it('takes over a live PID whose start time differs (a reused PID)', () => {
    const dir = join(root, 'reused');
    lockDataDir(dir)();
    const parent = { ...currentHolder(), pid: process.ppid, startTime: '1' };
    writeFileSync(join(dir, 'cadence.pid'), describeHolder(parent));
    lockDataDir(dir)();
  });

  it('reopens a data directory after its server was killed with SIGKILL', async () => {
    const dir = join(root, 'killed');
    const storeModule = fileURLToPath(new URL('../../src/store/index.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const { openStore } = await import(${JSON.stringify(storeModule)});
         await openStore({ dataDir: ${JSON.stringify(dir)} });
         console.log('open');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8');
    while (!output.includes('open')) {
      const [chunk] = (await once(child.stdout, 'data')) as [string];
      output += chunk;
    }
    assert.equal(parseHolder(readFileSync(join(dir, 'cadence.pid'), 'utf8'))?.pid, child.pid);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const store = await openStore({ dataDir: dir });
    await store.ping();
    await store.close();
  });
});

/** A holder that is gone: a process that has exited (its start time rules out a reused PID). */
function deadHolder(): LockHolder {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  assert.ok(pid);
  return { ...currentHolder(), pid, startTime: '1' };
}

/** The lock another starting process would write (a PID above Linux's pid_max: no one here). */
const lockOfAnotherStarter = describeHolder({ pid: 2 ** 22 + 1 });

/** A data directory whose lock file a killed process left behind. */
function staleDataDir(dir: string): string {
  mkdirSync(dir);
  const lockFile = join(dir, 'cadence.pid');
  writeFileSync(lockFile, describeHolder(deadHolder()));
  return lockFile;
}

describe('lockDataDir, two starters taking over one stale lock', () => {
  const root = mkdtempSync(join(tmpdir(), 'cadence-lock-race-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the one that read it before the other took over loses, and the winner keeps its lock', () => {
    const dir = join(root, 'interleaved');
    const lockFile = staleDataDir(dir);
    // B reads the dead holder and judges it gone...
    const readByB = readFileSync(lockFile, 'utf8');
    // ...A takes the directory over meanwhile...
    const unlockA = lockDataDir(dir);
    const lockOfA = readFileSync(lockFile, 'utf8');
    // ...then B acts on what it read.
    const claimOfB = takeOverStaleLock(lockFile, readByB, lockOfAnotherStarter);
    assert.equal(claimOfB.taken, false, 'B took over the lock A holds');
    assert.equal(readFileSync(lockFile, 'utf8'), lockOfA);
    assert.deepEqual(readdirSync(dir), ['cadence.pid']);
    unlockA();
  });

  it('a lock written since that reads just like the stale one is not taken for it', () => {
    const dir = join(root, 'look-alike');
    mkdirSync(dir);
    const lockFile = join(dir, 'cadence.pid');
    // A predecessor with our PID, where /proc tells no start time: it wrote what we would write.
    const stale = describeHolder(currentHolder());
    writeFileSync(lockFile, stale);
    const unlockA = lockDataDir(dir);
    const lockOfA = readFileSync(lockFile, 'utf8');
    assert.equal(takeOverStaleLock(lockFile, stale, lockOfAnotherStarter).taken, false);
    assert.equal(readFileSync(lockFile, 'utf8'), lockOfA);
    unlockA();
  });

  it('a takeover whose starter died midway does not block the next one', () => {
    const dir = join(root, 'died-taking-over');
    const lockFile = staleDataDir(dir);
    // The dead starter's guard on the stale lock, and the guard of a second one that died taking
    // that guard over.
    const guard = takeoverGuardFile(lockFile, readFileSync(lockFile, 'utf8'));
    writeFileSync(guard, describeHolder(deadHolder()));
    writeFileSync(
      takeoverGuardFile(guard, readFileSync(guard, 'utf8')),
      describeHolder(deadHolder()),
    );
    const unlock = lockDataDir(dir);
    assert.deepEqual(parseHolder(readFileSync(lockFile, 'utf8')), currentHolder());
    assert.deepEqual(readdirSync(dir), ['cadence.pid']);
    unlock();
  });

  it('a live starter taking the stale lock over is the holder the others meet', () => {
    const dir = join(root, 'being-taken-over');
    const lockFile = staleDataDir(dir);
    const stale = readFileSync(lockFile, 'utf8');
    // The guard of another live process (our parent, named by PID only) in the midst of it.
    writeFileSync(takeoverGuardFile(lockFile, stale), describeHolder({ pid: process.ppid }));
    assert.throws(
      () => lockDataDir(dir),
      (error: unknown) =>
        error instanceof CadenceError &&
        error.code === 'conflict' &&
        error.message.includes(`in use by process ${process.ppid}`),
    );
    assert.equal(readFileSync(lockFile, 'utf8'), stale);
  });

  it('several processes racing for one stale lock: exactly one wins, round after round', async () => {
    const lockModule = fileURLToPath(new URL('../../src/store/data-dir-lock.ts', import.meta.url));
    // Each starter locks the directory named on each stdin line and says how that went; it keeps
    // what it won until it exits, so a winner stays a live holder for the round's losers.
    const starterScript = `const { lockDataDir } = await import(${JSON.stringify(lockModule)});
      const { createInterface } = await import('node:readline');
      console.log('ready');
      for await (const dir of createInterface({ input: process.stdin })) {
        try {
          lockDataDir(dir);
          console.log('won');
        } catch (error) {
          console.log(error.code ?? String(error));
        }
      }`;
    const starters = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', starterScript], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const nextLine = async () => String((await lines.next()).value);
      return { child, nextLine };
    });
    try {
      for (const starter of starters) assert.equal(await starter.nextLine(), 'ready');
      for (let round = 0; round < 40; round++) {
        const dir = join(root, `round-${round}`);
        const lockFile = staleDataDir(dir);
        for (const { child } of starters) child.stdin.write(`${dir}\n`);
        const outcomes = await Promise.all(starters.map((starter) => starter.nextLine()));
        const winners = starters.filter((_, index) => outcomes[index] === 'won');
        assert.equal(winners.length, 1, `round ${round}: ${outcomes.join(', ')}`);
        assert.deepEqual(
          outcomes.filter((outcome) => outcome !== 'won'),
          ['conflict', 'conflict', 'conflict'],
        );
        assert.equal(parseHolder(readFileSync(lockFile, 'utf8'))?.pid, winners[0]?.child.pid);
        assert.deepEqual(readdirSync(dir), ['cadence.pid']);
      }
    } finally {
      for (const { child } of starters) child.stdin.end();
      await Promise.all(starters.map(({ child }) => once(child, 'exit')));
    }
  });
});

describe('lockDataDirWaiting', () => {
  const root = mkdtempSync(join(tmpdir(), 'cadence-lock-wait-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('takes the directory once its holder lets go (a one-shot command ending)', async () => {
    const dir = join(root, 'busy');
    const release = lockDataDir(dir);
    let released = false;
    // The other holder, played by this process: it lets go a moment later.
    setTimeout(() => {
      released = true;
      release();
    }, 300);
    const unlock = await lockDataDirWaiting(dir, { waitMs: 60_000, keepWaiting: () => true });
    assert.ok(released, 'it waited for the holder');
    unlock();
  });

  it('does not wait when told the holder stays (a serving server)', async () => {
    const dir = join(root, 'served');
    const release = lockDataDir(dir);
    try {
      await assert.rejects(
        lockDataDirWaiting(dir, { waitMs: 60_000, keepWaiting: () => false }),
        (error: unknown) => error instanceof CadenceError && error.code === 'conflict',
      );
    } finally {
      release();
    }
  });
});
