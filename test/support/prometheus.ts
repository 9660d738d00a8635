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
import { pollUntil } from './poll-until.js';

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
  /**
   * Resolves when every target has answered `count` scrapes: the history an analysis window of
   * (count - 1) scrape intervals needs before its first interval can be judged.
   */
  scraped(count: number): Promise<void>;
  /** An instant query's values (empty while Prometheus has none, or does not answer). */
  values(promql: string): Promise<number[]>;
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
    await pollUntil(
      async () => {
        if (gone) throw new Error(`Prometheus exited:\n${logs.join('')}`);
        return fetch(`${url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        );
      },
      'Prometheus to be ready',
      { intervalMs: 100, detail: () => logs.join('') },
    );
  }

  async function stop() {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  }

  async function values(promql: string): Promise<number[]> {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(
      () => undefined,
    );
    if (!response?.ok) return [];
    const body = (await response.json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result.map((series) => Number(series.value[1]));
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
    values,
    async scraped(count) {
      await pollUntil(
        async () => {
          const answered = await values('sum_over_time(up{job="demo"}[1h])');
          return answered.length === options.targets.length && answered.every((n) => n >= count);
        },
        `${count} scrapes of every target`,
        { timeoutMs: 60_000, intervalMs: 250, detail: () => logs.join('') },
      );
    },
  };
}
