/**
 * The CLI's one HTTP client: every command that talks to a running server goes through `send`
 * (JSON with `request`/`getJson`, NDJSON with `postForLines`, the rollouts' event stream with
 * `responseLines`), so an HTTP status becomes the same error, and the same exit code, whichever
 * command met it. Which server, and with which credential, is decided in command-target.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CadenceError, type ProblemCode } from '../problem/index.js';
import { cadenceVersion } from '../version/index.js';

/** `~/.config/cadence/credentials.yaml`: a default token and tokens per server URL. */
const credentialsSchema = z.looseObject({
  token: z.string().min(1).optional(),
  servers: z.record(z.string(), z.looseObject({ token: z.string().min(1) })).optional(),
});

function credentialsPath(): string {
  return (
    process.env.CADENCE_CREDENTIALS ??
    join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'cadence', 'credentials.yaml')
  );
}

/** The token: --token, else CADENCE_TOKEN, else the credentials file (this server's, or its default). */
export function tokenFor(server: string, flag: string | undefined): string | undefined {
  if (flag) return flag;
  if (process.env.CADENCE_TOKEN) return process.env.CADENCE_TOKEN;
  const path = credentialsPath();
  if (!existsSync(path)) return undefined;
  const parsed = credentialsSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new CadenceError('invalid-input', {
      field: 'credentials',
      detail: `${path} must hold token: NAME:SECRET and/or servers: {URL: {token: NAME:SECRET}}`,
    });
  }
  return parsed.data.servers?.[server]?.token ?? parsed.data.token;
}

/** `NAME:SECRET` goes as HTTP Basic, a bare secret as Bearer. */
export function authorization(token: string | undefined): Record<string, string> {
  if (!token) return {};
  return token.includes(':')
    ? { authorization: `Basic ${Buffer.from(token).toString('base64')}` }
    : { authorization: `Bearer ${token}` };
}

/**
 * The problem code for a server's HTTP status (the inverse of problemStatus for what a client
 * can meet); any other 4xx is the request's fault, any other 5xx the server's.
 *
 * @example problemCodeForStatus(401) // 'unauthorized'
 */
export function problemCodeForStatus(status: number): ProblemCode {
  const known: Record<number, ProblemCode> = {
    400: 'invalid-input',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not-found',
    409: 'conflict',
    413: 'payload-too-large',
    415: 'unsupported-media-type',
    422: 'invalid-input',
    429: 'backlogged',
  };
  return known[status] ?? (status >= 500 ? 'unavailable' : 'invalid-input');
}

/**
 * The CLI's exit codes (README, "Exit codes"): 0 ok, 1 failure (a refused value, a conflict, an
 * unreachable server), 2 usage (commander: an unknown option, a missing argument), 3
 * inconclusive (an analysis without a verdict), 4 not found, 5 unauthorized or forbidden.
 * canary-wait and deploy --wait keep their own 2 for "rolled back" (analyses-command.ts).
 */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  inconclusive: 3,
  notFound: 4,
  unauthorized: 5,
} as const;

/** @example exitCodeForProblem('not-found') // 4 */
export function exitCodeForProblem(code: ProblemCode): number {
  switch (code) {
    case 'not-found':
      return EXIT_CODES.notFound;
    case 'unauthorized':
    case 'forbidden':
      return EXIT_CODES.unauthorized;
    case 'invalid-input':
    case 'payload-too-large':
    case 'unsupported-media-type':
    case 'unavailable':
    case 'conflict':
    case 'config-invalid':
    case 'backlogged':
      return EXIT_CODES.failure;
  }
}

/** A non-2xx answer as a CadenceError, keeping the problem's field and detail. */
export function problemFromResponse(status: number, body: unknown): CadenceError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  return new CadenceError(problemCodeForStatus(status), {
    field: typeof problem.field === 'string' ? problem.field : 'server',
    detail: typeof problem.detail === 'string' ? problem.detail : `server answered ${status}`,
  });
}

export function unreachable(server: string, error: unknown): CadenceError {
  const reason = String((error as Error).cause ?? (error as Error).message);
  return new CadenceError('unavailable', {
    field: 'server',
    detail: `cannot reach the Cadence server at ${server} (${reason}); start it with 'cadence serve' or pass --server`,
  });
}

/**
 * A server a command talks to, with the headers that authenticate it there: chosen for every
 * command in one place, `commandTarget` (command-target.ts).
 */
export interface ServerTarget {
  url: string;
  /** Authorization for this server: a token for one named, the local credential for one found. */
  headers: Record<string, string>;
}

/**
 * Sends one request and answers the response once it is 2xx; an unreachable server, or any
 * other status (its problem+json read), is a CadenceError. The one place the CLI calls fetch.
 */
export async function send(
  target: ServerTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': `cadence-cli/${cadenceVersion()}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...target.headers,
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  } catch (error) {
    throw unreachable(target.url, error);
  }
  if (!response.ok) {
    throw problemFromResponse(response.status, await response.json().catch(() => ({})));
  }
  return response;
}

/** Sends one request; a JSON body back, or the answer's problem as a CadenceError. */
export async function request<T>(
  target: ServerTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { body?: unknown } = {},
): Promise<T> {
  const response = await send(target, method, path, options);
  return (await response.json().catch(() => ({}))) as T;
}

/** GET a JSON document from the server; a problem+json answer becomes a CadenceError. */
export function getJson<T>(target: ServerTarget, path: string): Promise<T> {
  return request<T>(target, 'GET', path);
}

/**
 * The lines of a streamed answer as they arrive (NDJSON, server-sent events), the last one
 * included when the body ends without a newline. A connection lost mid-body is `unavailable`.
 */
export async function* responseLines(target: ServerTarget, response: Response) {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  // The reader rather than `for await`: with the DOM lib in the program (the browser tests),
  // ReadableStream's type has no async iterator.
  const reader = response.body.getReader();
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw unreachable(target.url, error);
    }
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      yield buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
    }
  }
  buffer += decoder.decode();
  if (buffer !== '') yield buffer;
}

/**
 * POSTs a JSON body and hands each line of an NDJSON answer to `onLine` as it arrives (a
 * streamed import's progress); a non-2xx answer is its problem, as for {@link request}.
 */
export async function postForLines(
  target: ServerTarget,
  path: string,
  body: unknown,
  onLine: (line: unknown) => void,
): Promise<void> {
  const response = await send(target, 'POST', path, {
    headers: { accept: 'application/x-ndjson, application/json' },
    body,
  });
  for await (const line of responseLines(target, response)) {
    if (line.trim()) onLine(JSON.parse(line));
  }
}
