/**
 * `cadence events tail` against a real `cadence serve` on the embedded store, with reads behind a
 * token (server.auth.read): the CLI finds the token in CADENCE_TOKEN for every command, and the
 * tail prints the newest events first, then each new one once, in arrival order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cadenceBin,
  postEvent,
  runCadence,
  startCadence,
  type CadenceProcess,
} from '../support/cadence-process.js';
import { pollUntil } from '../support/poll-until.js';

const event = (id: string) => ({
  specversion: '1.0',
  id,
  source: '/ci/tail',
  type: 'com.example.build',
  data: { id },
});

describe('cadence events tail, reads behind a token', () => {
  let work: string;
  let server: CadenceProcess;
  let token: string;
  const env = () => ({ CADENCE_SERVER: server.url, CADENCE_CREDENTIALS: join(work, 'none.yaml') });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'cadence-tail-'));
    const dataDir = join(work, 'data');
    writeFileSync(join(work, 'cadence.yaml'), 'server:\n  auth: { read: true }\n');
    // The embedded store is one process's: mint the token before the server holds it.
    const minted = runCadence(
      ['token', 'create', 'viewer', '--services', '*', '--actions', 'read'],
      {
        CADENCE_DATA_DIR: dataDir,
      },
    );
    assert.equal(minted.status, 0, minted.stderr);
    token = minted.stdout.split('\n')[0]!;
    server = await startCadence(['--config', join(work, 'cadence.yaml')], {
      CADENCE_DATA_DIR: dataDir,
    });
    for (const id of ['a', 'b', 'c'])
      assert.equal((await postEvent(server.url, event(id))).status, 202);
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a read without a token with exit 5, and accepts CADENCE_TOKEN', () => {
    const anonymous = runCadence(['events', 'list'], env());
    assert.equal(anonymous.status, 5, anonymous.stderr);
    assert.match(anonymous.stderr, /token/);
    const listed = runCadence(['events', 'list', '--json'], { ...env(), CADENCE_TOKEN: token });
    assert.equal(listed.status, 0, listed.stderr);
    const ids = (JSON.parse(listed.stdout) as { id: string }[]).map((row) => row.id);
    assert.deepEqual(ids, ['a', 'b', 'c']);
  });

  it('prints the last N, then each new event once, in arrival order', async () => {
    const child = spawn(
      process.execPath,
      [cadenceBin, 'events', 'tail', '--last', '2', '--max', '5', '--interval-ms', '100', '--json'],
      {
        env: { ...process.env, ...env(), CADENCE_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = () => stdout.split('\n').filter(Boolean);
    // The tail has started once it printed the newest two; what is posted after must follow.
    await pollUntil(() => lines().length >= 2, 'the tail printed the newest events', {
      timeoutMs: 60_000,
    });
    for (const id of ['d', 'e', 'f'])
      assert.equal((await postEvent(server.url, event(id))).status, 202);
    assert.equal(await exited, 0, stderr);
    const printed = lines().map((line) => JSON.parse(line) as { id: string; seq: number });
    assert.deepEqual(
      printed.map((row) => row.id),
      ['b', 'c', 'd', 'e', 'f'],
    );
    const seqs = printed.map((row) => row.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      'arrival order',
    );
  });

  it('names a bad option and exits non-zero', () => {
    const bad = runCadence(['events', 'tail', '--last', 'ten'], { ...env(), CADENCE_TOKEN: token });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /last/);
  });
});
