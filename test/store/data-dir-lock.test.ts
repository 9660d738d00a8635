/** The PGlite data-dir lock: a holder that is gone is taken over, a live one is a conflict. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
