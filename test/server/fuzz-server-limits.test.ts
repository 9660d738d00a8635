/**
 * The HTTP shell's limits with real sockets on loopback (issue 13, item 5): a body that trickles
 * in is cut off, headers that never end are cut off, and idle sockets at the connection cap do
 * not keep `/healthz` out. Counts are bounded (a cap of 20, 60 sockets).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openFileLimit } from '../../src/server/connection-cap.js';
import { startServer } from '../../src/server/index.js';
import { type RunningServer } from '../../src/server/start-server.js';
import { pollUntil } from '../support/poll-until.js';

const CAP = 20;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Everything the server wrote before it closed the socket. */
function answerOf(socket: Socket): Promise<string> {
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  return new Promise((resolve) => socket.on('close', () => resolve(answer)));
}

describe('server limits', () => {
  let dir: string;
  let server: RunningServer;
  let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadence-limits-'));
    const config = loadConfig({ flags: { port: 0, dataDir: join(dir, 'data') } });
    config.router.enabled = false;
    config.server = {
      ...config.server,
      requestTimeoutMs: 1_000,
      headersTimeoutMs: 500,
      keepAliveTimeoutMs: 500,
      maxConnections: CAP,
    };
    server = await startServer(config, silentLogger);
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('cuts off a body that trickles in, with a problem+json 408', async () => {
    const socket = await open(port);
    const answer = answerOf(socket);
    socket.write(
      'POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 100000\r\n\r\n{',
    );
    // The slowloris client: a byte now and then, never the whole body.
    const drip = setInterval(() => socket.writable && socket.write(' '), 100);
    try {
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 408 /);
      assert.match(text, /application\/problem\+json/);
    } finally {
      clearInterval(drip);
    }
  });

  it('cuts off headers that never end', async () => {
    const socket = await open(port);
    const answer = answerOf(socket);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-A: b\r\n'), 100);
    try {
      assert.match(await answer, /^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  });

  it('answers /healthz while idle sockets fill the connection cap', async () => {
    const idle = await Promise.all(Array.from({ length: CAP * 3 }, () => open(port)));
    const closed = new Set<Socket>();
    for (const socket of idle) socket.on('close', () => closed.add(socket));
    try {
      // The oldest idle sockets make way: never more than the cap stay open.
      const count = () =>
        new Promise<number>((resolve, reject) =>
          server.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
        );
      await pollUntil(async () => (await count()) <= CAP, 'connections down to the cap');
      const response = await fetch(`${server.url}/healthz`);
      assert.equal(response.status, 200);
      await pollUntil(() => closed.size >= CAP * 2, 'the oldest idle sockets closed');
      assert.ok((await count()) <= CAP);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  it('reads the open-file limit from /proc/self/limits', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    assert.equal(openFileLimit(limits), 1024);
    assert.equal(openFileLimit('nothing'), undefined);
  });
});
