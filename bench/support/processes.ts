import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The CLI the benchmarks drive, as a user runs it (needs `npm run build`). */
export const cadenceBin = fileURLToPath(new URL('../../bin/cadence.js', import.meta.url));

/** A server process and the URL it announced. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
}

/**
 * Starts `node ARGS` and resolves with the URL it logs (`"url":"…"`, as `cadence serve` and the
 * bare intake server announce themselves at info level).
 */
export async function startAnnounced(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, CADENCE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"url":"([^"]+)"/.exec(buffer);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, url };
}

/** `cadence serve` on a free port, with the given options. */
export function serveCadence(args: string[], env?: NodeJS.ProcessEnv): Promise<ServerProcess> {
  return startAnnounced([cadenceBin, 'serve', '--port', '0', ...args], env);
}

/** SIGTERM, then wait for the process to exit. */
export async function stopProcess(server: { child: ChildProcess }): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** A process's CPU seconds so far (utime + stime; clock ticks are 1/100 s on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
