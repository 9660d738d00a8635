/**
 * The one decision of where a CLI command runs (src/cli/command-target.ts), table-driven:
 * `--server` (or CADENCE_SERVER) > the server holding the data directory (its discovery file,
 * written here by a process that really holds the directory's lock) > the store itself for a
 * store command, the default server for any other; and which credential goes with each. A
 * directory held without a discovery file is waited for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  commandTarget,
  DEFAULT_SERVER,
  isLocalStore,
  type CommandKind,
  type TargetFlags,
} from '../../src/cli/command-target.js';
import { writeDiscovery } from '../../src/discovery/index.js';
import type { CadenceError } from '../../src/problem/index.js';
import { lockDataDir } from '../../src/store/data-dir-lock.js';

const basic = (token: string) => `Basic ${Buffer.from(token).toString('base64')}`;

describe('commandTarget', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-target-'));
  const held = join(work, 'held');
  const free = join(work, 'free');
  const credential = 'cadence-local:local-secret';
  let unlock: () => void;
  const saved = { ...process.env };
  before(() => {
    unlock = lockDataDir(held);
    writeDiscovery(held, { url: 'http://127.0.0.1:4321', credential });
  });
  after(() => {
    unlock();
    rmSync(work, { recursive: true, force: true });
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  type Expected = { url: string; authorization?: string } | 'store';
  const cases: [string, TargetFlags, Record<string, string>, CommandKind, Expected][] = [
    [
      '--server wins over a held directory, with --token',
      { server: 'https://cadence.example/', dataDir: held, token: 'ci:s1' },
      {},
      'store',
      { url: 'https://cadence.example', authorization: basic('ci:s1') },
    ],
    [
      'CADENCE_SERVER is --server, with CADENCE_TOKEN',
      { dataDir: held },
      { CADENCE_SERVER: 'http://other:8080', CADENCE_TOKEN: 'ci:s2' },
      'api',
      { url: 'http://other:8080', authorization: basic('ci:s2') },
    ],
    [
      'a store command goes to the server holding the directory, with its local credential',
      { dataDir: held },
      { CADENCE_TOKEN: 'ci:not-for-this-server' },
      'store',
      { url: 'http://127.0.0.1:4321', authorization: `Bearer ${credential}` },
    ],
    [
      'an API command too',
      { dataDir: held },
      {},
      'api',
      { url: 'http://127.0.0.1:4321', authorization: `Bearer ${credential}` },
    ],
    [
      'CADENCE_DATA_DIR names the directory as --data-dir does',
      {},
      { CADENCE_DATA_DIR: held },
      'store',
      { url: 'http://127.0.0.1:4321', authorization: `Bearer ${credential}` },
    ],
    [
      '--token replaces the local credential',
      { dataDir: held, token: 'admin:s3' },
      {},
      'api',
      { url: 'http://127.0.0.1:4321', authorization: basic('admin:s3') },
    ],
    [
      'no server holds it: a store command opens the store',
      { dataDir: free },
      {},
      'store',
      'store',
    ],
    [
      'no server holds it: an API command goes to the default server',
      { dataDir: free },
      {},
      'api',
      { url: DEFAULT_SERVER },
    ],
    [
      'PostgreSQL: opened here, a discovery file notwithstanding',
      { dataDir: held, databaseUrl: 'postgres://db.example/cadence' },
      {},
      'store',
      'store',
    ],
  ];
  for (const [name, flags, env, kind, expected] of cases) {
    it(name, async () => {
      for (const key of ['CADENCE_SERVER', 'CADENCE_TOKEN', 'CADENCE_DATA_DIR', 'CADENCE_CONFIG'])
        delete process.env[key];
      process.env.CADENCE_CREDENTIALS = join(work, 'no-credentials.yaml');
      Object.assign(process.env, env);
      const target = await commandTarget(flags, kind as 'store');
      if (expected === 'store') {
        assert.ok(isLocalStore(target), JSON.stringify(target));
        return;
      }
      assert.ok(!isLocalStore(target));
      assert.equal(target.url, expected.url);
      assert.equal(target.headers.authorization, expected.authorization);
    });
  }

  // While a live process holds a directory without a discovery file (a server still starting,
  // another command), a command waits: for the file, or for the directory to be let go. The
  // other process is played here, by this one: it writes the file, or unlocks, a moment later.
  it('waits for a starting server to write its discovery file, then goes there', async () => {
    const starting = join(work, 'starting');
    const unlockStarting = lockDataDir(starting);
    try {
      setTimeout(() => writeDiscovery(starting, { url: 'http://127.0.0.1:5555', credential }), 300);
      const target = await commandTarget({ dataDir: starting }, 'store');
      assert.ok(!isLocalStore(target));
      assert.equal(target.url, 'http://127.0.0.1:5555');
    } finally {
      unlockStarting();
    }
  });

  it('refuses, naming dataDir, when the holder never announces a server (no default URL)', async () => {
    const silent = join(work, 'silent');
    const unlockSilent = lockDataDir(silent);
    try {
      const refused = (error: CadenceError) =>
        error.code === 'conflict' && error.field === 'dataDir' && /process \d+/.test(error.message);
      const flags = { dataDir: silent, holderWaitMs: 300 };
      await assert.rejects(commandTarget(flags, 'api'), refused);
      await assert.rejects(commandTarget(flags, 'store'), refused);
    } finally {
      unlockSilent();
    }
  });

  it('waits for another command to let the directory go, then opens the store', async () => {
    const busy = join(work, 'busy');
    const unlockBusy = lockDataDir(busy);
    let released = false;
    setTimeout(() => {
      released = true;
      unlockBusy();
    }, 300);
    const target = await commandTarget({ dataDir: busy }, 'store');
    assert.ok(released, 'it waited for the holder');
    assert.ok(isLocalStore(target));
  });
});
