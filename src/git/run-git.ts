import { execFile } from 'node:child_process';
import { CadenceError } from '../problem/index.js';

/**
 * The environment every git process runs with: never prompt for credentials (an import must fail,
 * not hang waiting on a terminal), and ignore the user's pager.
 */
export const gitEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_PAGER: 'cat',
});

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one short git command and returns its output whatever its exit code. */
export function tryGit(cwd: string, args: string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, env: gitEnv(), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(
            new CadenceError('unavailable', {
              field: 'git',
              detail: `cannot run git: ${error.message}`,
            }),
          );
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * Hides the user-info part of URLs (`https://x-access-token:SECRET@host/…` →
 * `https://***@host/…`): a token in a clone URL must not reach the tables, the API or a log.
 */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** The first meaningful line git printed on stderr, for an error message. */
export function gitErrorLine(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return redactCredentials(line ?? 'git failed without a message');
}

/** Runs one short git command; a non-zero exit is a CadenceError naming `field`. */
export async function runGit(cwd: string, args: string[], field = 'repository'): Promise<string> {
  const result = await tryGit(cwd, args);
  if (result.code !== 0) {
    throw new CadenceError('invalid-input', {
      field,
      detail: `git ${args[0]} failed: ${gitErrorLine(result.stderr)}`,
    });
  }
  return result.stdout;
}
