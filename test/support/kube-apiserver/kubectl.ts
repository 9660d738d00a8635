import { spawn, spawnSync } from 'node:child_process';
import { kubectlBinary } from '../tools.js';

/** The real kubectl against a kubeconfig: the tests' kubectl (test/support/tools.ts). */
export interface KubectlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The client's minor version: kubectl < 1.27 has no server-side field validation check. */
function kubectlMinor(): number {
  const result = spawnSync(kubectlBinary(), ['version', '--client', '-o', 'json'], {
    encoding: 'utf8',
  });
  try {
    return Number(
      (
        JSON.parse(result.stdout) as { clientVersion: { minor: string } }
      ).clientVersion.minor.replace(/\D/g, ''),
    );
  } catch {
    return 0;
  }
}

let minor: number | undefined;

/**
 * Extra flags for `kubectl apply`: kubectl before 1.27 validates against `/openapi/v2`
 * (protobuf), which the test server does not serve, so those clients skip client-side
 * validation. Current kubectl needs nothing (the server's OpenAPI v3 says it validates).
 */
export function applyFlags(): string[] {
  minor ??= kubectlMinor();
  return minor > 0 && minor < 27 ? ['--validate=false'] : [];
}

export function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: process.env.HOME ?? '/tmp' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Starts `kubectl … -w` and collects its output lines until stopped. */
export function kubectlWatch(kubeconfig: string, args: string[]) {
  const child = spawn(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  const lines: string[] = [];
  let buffer = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      for (const waiter of waiters.splice(0)) waiter();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    lines,
    stderr: () => stderr,
    /** Resolves when a line matches (or rejects after timeoutMs, a guard against hanging). */
    async waitFor(match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline)
          throw new Error(`kubectl -w printed no matching line:\n${lines.join('\n')}\n${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
