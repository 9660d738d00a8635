import { Command, Option } from 'commander';
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

function duration(rollout: Rollout): string {
  if (rollout.durationMs === null) return '-';
  const seconds = rollout.durationMs / 1000;
  return seconds < 120 ? `${Math.round(seconds * 10) / 10}s` : `${Math.round(seconds / 6) / 10}m`;
}

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
    ...(rollout.reason ? [`reason=${rollout.reason}`] : []),
  ].join(' ');
}

/** Reads `event: rollout` server-sent events from the server's stream until it ends. */
async function* rolloutStream(server: string, query: string): AsyncGenerator<Rollout> {
  let response: Response;
  try {
    response = await fetch(`${server}/api/v1/rollouts/stream${query}`, {
      headers: { accept: 'text/event-stream' },
    });
  } catch (error) {
    throw unreachable(server, error);
  }
  if (!response.ok || !response.body) {
    throw problemFromResponse(response.status, await response.json().catch(() => ({})));
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
      const data = lines.find((line) => line.startsWith('data: '));
      if (lines.includes('event: rollout') && data) {
        yield JSON.parse(data.slice('data: '.length)) as Rollout;
      }
    }
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
      'keep following: live progress bars on a terminal, a line per change otherwise',
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
        for await (const rollout of rolloutStream(server, query)) {
          const key = `${rollout.namespace}/${rollout.deployment}`;
          const shown = live.get(key);
          // An older revision's late update does not replace the newer one shown.
          if (shown && shown.id > rollout.id) continue;
          live.set(key, rollout);
          if (options.json) process.stdout.write(`${JSON.stringify(rollout)}\n`);
          else if (tty) redraw();
          else process.stdout.write(`${plainLine(rollout)}\n`);
        }
      },
    );
}
