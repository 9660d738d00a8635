import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pollUntil } from './poll-until.js';

/** The built CLI, exactly as `npx cadence` runs it (the test command builds first). */
export const cadenceBin = fileURLToPath(new URL('../../bin/cadence.js', import.meta.url));

export interface CadenceProcess {
  child: ChildProcess;
  url: string;
  logs: string[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `cadence serve` on a free loopback port and waits until it listens. */
export async function startCadence(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CadenceProcess> {
  const child = spawn(
    process.execPath,
    [cadenceBin, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
    {
      env: { ...process.env, CADENCE_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    // Only a hang guard, generous for a loaded machine; the child is stopped so that a test
    // whose start failed does not hang on the process's open pipes.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cadence did not start:\n${logs.join('\n')}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'cadence listening' && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`cadence exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return { child, url, logs, exited };
}

/** Runs a CLI command to completion. */
export function runCadence(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cadenceBin, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    // A hang guard only: a first command on a fresh embedded directory bootstraps it in a child
    // process, which takes well over 30 s on the shared machine under load.
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export async function postEvent(url: string, event: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  });
}

/**
 * Waits until a running server has routed and projected everything it accepted: reads only
 * read, so a number that depends on a later projection (an incident meeting its deployment) is
 * read once the metrics' freshness says nothing is pending.
 */
export async function untilCounted(url: string): Promise<void> {
  await pollUntil(async () => {
    const response = await fetch(`${url}/api/v1/metrics`);
    const body = (await response.json()) as { freshness?: { pending: Record<string, number> } };
    const pending = body.freshness?.pending;
    return pending !== undefined && Object.values(pending).every((count) => count === 0);
  }, 'everything accepted routed and projected');
}
