/**
 * The discovery file: written owner-only, read back while its writer holds the data directory,
 * ignored once that process is gone (a kill -9 leaves the file behind).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DISCOVERY_FILE,
  newLocalCredential,
  readDiscovery,
  removeDiscovery,
  writeDiscovery,
} from '../../src/discovery/index.js';
import { lockDataDir } from '../../src/store/data-dir-lock.js';

describe('discovery file', () => {
  const root = mkdtempSync(join(tmpdir(), 'cadence-discovery-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is readable by its owner only, found while the directory is held, gone on removal', () => {
    const dir = join(root, 'held');
    const unlock = lockDataDir(dir);
    try {
      const credential = newLocalCredential();
      assert.match(credential, /^cadence-local:[A-Za-z0-9_-]{43}$/);
      const remove = writeDiscovery(dir, { url: 'http://127.0.0.1:8080', credential });
      assert.equal(statSync(join(dir, DISCOVERY_FILE)).mode & 0o777, 0o600);
      assert.deepEqual(readDiscovery(dir), {
        url: 'http://127.0.0.1:8080',
        credential,
        pid: process.pid,
      });
      remove();
      assert.equal(existsSync(join(dir, DISCOVERY_FILE)), false);
      assert.equal(readDiscovery(dir), undefined);
    } finally {
      unlock();
    }
  });

  it('stays owner-only when a killed writer left a wider staging file with its pid', () => {
    const dir = join(root, 'staging');
    const unlock = lockDataDir(dir);
    try {
      const staging = join(dir, `${DISCOVERY_FILE}.${process.pid}`);
      writeFileSync(staging, 'left behind\n', { mode: 0o644 });
      const credential = newLocalCredential();
      writeDiscovery(dir, { url: 'http://127.0.0.1:8080', credential });
      assert.equal(statSync(join(dir, DISCOVERY_FILE)).mode & 0o777, 0o600);
      assert.equal(readDiscovery(dir)?.credential, credential);
      removeDiscovery(dir);
      assert.equal(existsSync(join(dir, DISCOVERY_FILE)), false);
      removeDiscovery(dir); // nothing to remove: no error
    } finally {
      unlock();
    }
  });

  it('is ignored when no process holds the directory any more', () => {
    const dir = join(root, 'unlocked');
    const unlock = lockDataDir(dir);
    writeDiscovery(dir, { url: 'http://127.0.0.1:8080', credential: newLocalCredential() });
    unlock();
    assert.equal(existsSync(join(dir, DISCOVERY_FILE)), true);
    assert.equal(readDiscovery(dir), undefined);
  });

  it("is ignored when it names another process than the lock's live holder", async () => {
    const dir = join(root, 'other');
    const unlock = lockDataDir(dir);
    try {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
      await once(child, 'exit');
      writeFileSync(
        join(dir, DISCOVERY_FILE),
        JSON.stringify({ url: 'http://127.0.0.1:1', credential: 'x', pid: child.pid }),
      );
      assert.equal(readDiscovery(dir), undefined);
    } finally {
      unlock();
    }
  });

  it('is ignored when it is not a discovery file', () => {
    const dir = join(root, 'garbage');
    const unlock = lockDataDir(dir);
    try {
      for (const text of ['', 'not json', '{"url":"nope","credential":"x","pid":1}']) {
        writeFileSync(join(dir, DISCOVERY_FILE), text);
        assert.equal(readDiscovery(dir), undefined, text);
      }
    } finally {
      unlock();
    }
  });
});
