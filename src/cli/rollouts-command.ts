import { Command, Option } from 'commander';
import type { CadenceError } from '../problem/index.js';
import type { Rollout } from '../rollouts/index.js';
import {
  getJson,
  problemFromResponse,
  serverOption,
  serverUrl,
  unreachable,
} from './api-client.js';
import { renderTable } from './table.js';

const BAR_WIDTH = 24;

/** `[##########··········]  50%`: a rollout's progress as a text bar. */
export function progressBar(progress: number, width = BAR_WIDTH): string {
  const clamped = Math.min(1, Math.max(0, progress));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%`;
}

/** `1.2s` under two minutes, `3.5m` beyond; the dashboard writes it the same (web/src/format.ts). */
export function rolloutDuration(ms: number | null): string {
  if (ms === null) return '-';
  const seconds = ms / 1000;
  return seconds < 120 ? `${Math.round(seconds * 10) / 10}s` : `${Math.round(seconds / 6) / 10}m`;
}

const duration = (rollout: Rollout) => rolloutDuration(rollout.durationMs);

function row(rollout: Rollout, bars: boolean): string[] {
  return [
    `${rollout.namespace}/${rollout.deployment}`,
    rollout.revision,
    rollout.phase,
    bars
      ? progressBar(rollout.progress)
      : `${rollout.updated}/${rollout.desired} (${Math.round(rollout.progress * 100)}%)`,
    duration(rollout),
    rollout.images.join(','),
  ];
}

const HEADERS = ['DEPLOYMENT', 'REVISION', 'PHASE', 'PROGRESS', 'DURATION', 'IMAGES'];

/** One plain line per change, for pipes and logs. */
function plainLine(rollout: Rollout): string {
  return [
    `${rollout.namespace}/${rollout.deployment}`,
    `revision=${rollout.revision}`,
    `phase=${rollout.phase}`,
    `updated=${rollout.updated}/${rollout.desired}`,
    `progress=${Math.round(rollout.progress * 100)}%`,
    ...(rollout.phase === 'failed' && rollout.reason ? [`reason=${rollout.reason}`] : []),
    ...(rollout.phase !== 'failed' && rollout.deadlineExceededAt
      ? [`deadline-exceeded-at=${rollout.deadlineExceededAt}`]
      : []),
  ].join(' ');
}

interface StreamEvent {
  kind: 'rollout' | 'deleted';
  rollout: Rollout;
}

class StreamRefused extends Error {
  constructor(readonly problem: CadenceError) {
    super(problem.message);
  }
}

/**
 * Reads the server's rollouts stream (`event: rollout` and `event: deleted`) until it ends,
 * noting each event's id in `cursor`, so the next connection resumes after it.
 */
async function* rolloutStream(
  server: string,
  query: string,
  cursor: { lastEventId?: string },
): AsyncGenerator<StreamEvent> {
  let response: Response;
  try {
    response = await fetch(`${server}/api/v1/rollouts/stream${query}`, {
      headers: {
        accept: 'text/event-stream',
        ...(cursor.lastEventId ? { 'last-event-id': cursor.lastEventId } : {}),
      },
    });
  } catch (error) {
    throw unreachable(server, error);
  }
  if (!response.ok || !response.body) {
    const problem = problemFromResponse(response.status, await response.json().catch(() => ({})));
    // A full server may have room later; a bad filter never will.
    if (response.status === 503) throw problem;
    throw new StreamRefused(problem);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  // The reader rather than `for await`: with the DOM lib in the program (the browser tests),
  // ReadableStream's type has no async iterator.
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const id = lines.find((line) => line.startsWith('id: '));
      if (id) cursor.lastEventId = id.slice('id: '.length);
      const data = lines.find((line) => line.startsWith('data: '));
      const kind = lines.includes('event: deleted') ? 'deleted' : 'rollout';
      if ((lines.includes('event: rollout') || kind === 'deleted') && data) {
        yield { kind, rollout: JSON.parse(data.slice('data: '.length)) as Rollout };
      }
    }
  }
}

/**
 * The stream, followed across lost connections and server restarts: reconnects with a backoff
 * (0.5 s doubling to 5 s) and resumes after the last event id, so nothing is missed or repeated.
 * Says on stderr when the connection is lost and back. A refused request (bad filter) ends it.
 */
async function* followStream(
  server: string,
  query: string,
  log: (line: string) => void,
): AsyncGenerator<StreamEvent> {
  const cursor: { lastEventId?: string } = {};
  let delayMs = 500;
  let lost = false;
  for (;;) {
    try {
      for await (const event of rolloutStream(server, query, cursor)) {
        if (lost) {
          log(`reconnected to ${server}`);
          lost = false;
        }
        delayMs = 500;
        yield event;
      }
    } catch (error) {
      if (error instanceof StreamRefused) throw error.problem;
      if (!lost) {
        const reason = (error as Error).cause ?? (error as Error).message;
        log(`lost the stream from ${server} (${String(reason)}); reconnecting…`);
      }
      lost = true;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 5000);
  }
}

export function rolloutsCommand(): Command {
  return new Command('rollouts')
    .description('Deployment rollouts the watcher recorded: the latest of each, with progress')
    .addOption(serverOption())
    .option('--namespace <name>', 'one namespace')
    .option('--deployment <name>', 'one Deployment (with --namespace: its history)')
    .addOption(
      new Option('--phase <phase>', 'only rollouts in this phase').choices([
        'progressing',
        'complete',
        'failed',
      ]),
    )
    .option(
      '--watch',
      'keep following (reconnecting and resuming after a server restart): live progress bars on a terminal, a line per change otherwise',
    )
    .option('--json', 'print JSON (with --watch: one rollout per line)')
    .action(
      async (options: {
        server?: string;
        namespace?: string;
        deployment?: string;
        phase?: string;
        watch?: boolean;
        json?: boolean;
      }) => {
        const server = serverUrl(options.server);
        const params = new URLSearchParams();
        if (options.namespace) params.set('namespace', options.namespace);
        if (options.deployment) params.set('deployment', options.deployment);
        if (options.phase) params.set('phase', options.phase);
        const query = params.size > 0 ? `?${params.toString()}` : '';
        const tty = process.stdout.isTTY === true && !options.json;

        if (!options.watch) {
          const history = options.namespace && options.deployment && !options.phase;
          const { rollouts } = history
            ? await getJson<{ rollouts: Rollout[] }>(
                server,
                `/api/v1/rollouts/${encodeURIComponent(options.namespace!)}/${encodeURIComponent(options.deployment!)}`,
              )
            : await getJson<{ rollouts: Rollout[] }>(server, `/api/v1/rollouts${query}`);
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ rollouts }, null, 2)}\n`);
          } else if (rollouts.length === 0) {
            process.stdout.write('no rollouts recorded\n');
          } else {
            process.stdout.write(
              `${renderTable(
                HEADERS,
                rollouts.map((r) => row(r, tty)),
              )}\n`,
            );
          }
          return;
        }

        // Live view: the latest of each Deployment, redrawn in place on a terminal.
        const live = new Map<string, Rollout>();
        let drawnLines = 0;
        const redraw = () => {
          const rows = [...live.values()].map((rollout) => row(rollout, true));
          const text = renderTable(HEADERS, rows);
          if (drawnLines > 0) process.stdout.write(`\u001b[${drawnLines}F\u001b[J`);
          process.stdout.write(`${text}\n`);
          drawnLines = text.split('\n').length;
        };
        const log = (line: string) => process.stderr.write(`${line}\n`);
        for await (const { kind, rollout } of followStream(server, query, log)) {
          const key = `${rollout.namespace}/${rollout.deployment}`;
          if (kind === 'deleted') live.delete(key);
          else live.set(key, rollout);
          if (options.json)
            process.stdout.write(`${JSON.stringify({ ...rollout, event: kind })}\n`);
          else if (tty) redraw();
          else if (kind === 'deleted') process.stdout.write(`${key} deleted\n`);
          else process.stdout.write(`${plainLine(rollout)}\n`);
        }
      },
    );
}
