/**
 * A real Prometheus (Debian `prometheus`, installed by scripts/install-test-deps.sh) on a free
 * loopback port with its own config and data directory, scraping the given targets every
 * `scrapeIntervalMs`. `stop()` and `start()` again keep the port and the data (its TSDB is on
 * disk), as a Prometheus restarted in production would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TestPrometheus {
  url: string;
  logs: string[];
  /** Starts it (again); resolves when it is ready. */
  start(): Promise<void>;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export async function createTestPrometheus(options: {
  targets: readonly string[];
  scrapeIntervalMs?: number;
}): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const interval = `${options.scrapeIntervalMs ?? 1000}ms`;
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      'scrape_configs:',
      '  - job_name: demo',
      '    honor_labels: true',
      '    static_configs:',
      `      - targets: [${options.targets.map((target) => JSON.stringify(target)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;

  async function start() {
    child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    let gone = false;
    exited = new Promise((resolve) => child!.once('exit', () => resolve()));
    void exited.then(() => (gone = true));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (gone) throw new Error(`Prometheus exited:\n${logs.join('')}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`Prometheus not ready:\n${logs.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function stop() {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  }

  await start();
  return {
    url,
    logs,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
