import { Command, Option } from 'commander';
import { CadenceError } from '../problem/index.js';
import type { Rollout } from '../rollouts/index.js';
import { getJson, responseLines, send, type ServerTarget } from './api-client.js';
import { addTargetOptions, commandTarget, type TargetFlags } from './command-target.js';
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

/**
 * Reads the server's rollouts stream (`event: rollout` and `event: deleted`) until it ends,
 * noting each event's id in `cursor`, so the next connection resumes after it.
 */
async function* rolloutStream(
  server: ServerTarget,
  query: string,
  cursor: { lastEventId?: string },
): AsyncGenerator<StreamEvent> {
  const response = await send(server, 'GET', `/api/v1/rollouts/stream${query}`, {
    headers: {
      accept: 'text/event-stream',
      ...(cursor.lastEventId ? { 'last-event-id': cursor.lastEventId } : {}),
    },
  });
  // One event is the lines up to a blank one.
  let lines: string[] = [];
  for await (const line of responseLines(server, response)) {
    if (line !== '') {
      lines.push(line);
      continue;
    }
    const event = lines;
    lines = [];
    const id = event.find((field) => field.startsWith('id: '));
    if (id) cursor.lastEventId = id.slice('id: '.length);
    const data = event.find((field) => field.startsWith('data: '));
    const kind = event.includes('event: deleted') ? 'deleted' : 'rollout';
    if ((event.includes('event: rollout') || kind === 'deleted') && data) {
      yield { kind, rollout: JSON.parse(data.slice('data: '.length)) as Rollout };
    }
  }
}

/**
 * The stream, followed across lost connections and server restarts: reconnects with a backoff
 * (0.5 s doubling to 5 s) and resumes after the last event id, so nothing is missed or repeated.
 * Says on stderr when the connection is lost and back. A refused request (bad filter) ends it.
 */
async function* followStream(
  server: ServerTarget,
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
          log(`reconnected to ${server.url}`);
          lost = false;
        }
        delayMs = 500;
        yield event;
      }
    } catch (error) {
      // A server away, restarting or full may be back; a refusal (a bad filter, no token) stays.
      if (error instanceof CadenceError && error.code !== 'unavailable') throw error;
      if (!lost) {
        log(`lost the stream from ${server.url} (${(error as Error).message}); reconnecting…`);
      }
      lost = true;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 5000);
  }
}

export function rolloutsCommand(): Command {
  return addTargetOptions(
    new Command('rollouts').description(
      'Deployment rollouts the watcher recorded: the latest of each, with progress',
    ),
    'api',
  )
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
      async (
        options: TargetFlags & {
          namespace?: string;
          deployment?: string;
          phase?: string;
          watch?: boolean;
          json?: boolean;
        },
      ) => {
        const server = await commandTarget(options, 'api');
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
