import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { StoredCdevent, StoredEvent } from '../events/index.js';
import { CadenceError } from '../problem/index.js';
import { getJson } from './api-client.js';
import { addTargetOptions, commandTarget, type TargetFlags } from './command-target.js';
import { renderTable } from './table.js';

function when(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\.\d+Z$/, 'Z') : '';
}

interface TailOptions extends TargetFlags {
  type?: string;
  source?: string;
  last: string;
  max?: string;
  intervalMs: string;
  json?: boolean;
}

function count(name: string, value: string, min: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new CadenceError('invalid-input', {
      field: name,
      detail: `must be a whole number >= ${min}`,
    });
  }
  return parsed;
}

/**
 * `events tail`: pages forward from the newest events with `after=`, so nothing that arrives
 * between two polls is skipped and nothing is printed twice. A server that goes away is waited
 * for (said once on stderr); a refusal (bad filter, no token) ends the command.
 */
async function tailEvents(options: TailOptions): Promise<void> {
  const server = await commandTarget(options, 'api');
  const last = count('last', options.last, 0);
  const max = options.max === undefined ? Infinity : count('max', options.max, 1);
  const intervalMs = count('interval-ms', options.intervalMs, 50);
  const filter = new URLSearchParams();
  if (options.type) filter.set('type', options.type);
  if (options.source) filter.set('source', options.source);
  const page = (query: Record<string, string>) =>
    getJson<{ events: StoredEvent[] }>(
      server,
      `/api/v1/events?${new URLSearchParams({ ...Object.fromEntries(filter), ...query })}`,
    );
  let printed = 0;
  const print = (event: StoredEvent) => {
    process.stdout.write(
      options.json
        ? `${JSON.stringify(event)}\n`
        : `${[event.seq, when(event.receivedAt), event.type, event.source, event.id].join('  ')}\n`,
    );
    printed += 1;
  };
  // The newest event (even when --last 0) is where following starts.
  const start = await page({ from: 'newest', limit: String(Math.max(1, last)) });
  let after = start.events.at(-1)?.seq ?? 0;
  for (const event of last === 0 ? [] : start.events) if (printed < max) print(event);
  let lost = false;
  while (printed < max) {
    await sleep(intervalMs);
    let events: StoredEvent[];
    try {
      ({ events } = await page({ after: String(after), limit: '1000' }));
    } catch (error) {
      if (!(error instanceof CadenceError) || error.code !== 'unavailable') throw error;
      if (!lost) process.stderr.write(`${error.message}; waiting for it\n`);
      lost = true;
      continue;
    }
    if (lost) process.stderr.write('reconnected\n');
    lost = false;
    for (const event of events) {
      if (printed >= max) break;
      print(event);
      after = event.seq;
    }
  }
}

export function eventsCommand(): Command {
  const events = new Command('events').description('read the events that arrived');

  addTargetOptions(events.command('list').description('list raw events in arrival order'), 'api')
    .option('--type <type>', 'only this CloudEvent type')
    .option('--source <source>', 'only this CloudEvent source')
    .option('--after <seq>', 'only events after this sequence number', '0')
    .option('--limit <n>', 'at most this many events', '50')
    .option('--json', 'print JSON instead of a table')
    .action(
      async (
        options: TargetFlags & {
          type?: string;
          source?: string;
          after: string;
          limit: string;
          json?: boolean;
        },
      ) => {
        const query = new URLSearchParams({ after: options.after, limit: options.limit });
        if (options.type) query.set('type', options.type);
        if (options.source) query.set('source', options.source);
        const { events: rows } = await getJson<{ events: StoredEvent[] }>(
          await commandTarget(options, 'api'),
          `/api/v1/events?${query}`,
        );
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write(
            'no events yet: POST CloudEvents to /events or CDEvents to /cdevents\n',
          );
          return;
        }
        process.stdout.write(
          `${renderTable(
            ['SEQ', 'RECEIVED', 'TYPE', 'SOURCE', 'ID', 'ROUTED'],
            rows.map((event) => [
              String(event.seq),
              when(event.receivedAt),
              event.type,
              event.source,
              event.id,
              event.routedAt ? `${event.routeOutputs ?? 0} out` : 'pending',
            ]),
          )}\n`,
        );
      },
    );

  addTargetOptions(
    events
      .command('tail')
      .description(
        'follow events as they arrive (the last --last first), one line each, until Ctrl-C',
      ),
    'api',
  )
    .option('--type <type>', 'only this CloudEvent type')
    .option('--source <source>', 'only this CloudEvent source')
    .option('--last <n>', 'start with this many of the newest events', '10')
    .option('--max <n>', 'exit after printing this many events')
    .option('--interval-ms <ms>', 'how often to ask the server for new events', '1000')
    .option('--json', 'one JSON object a line (NDJSON)')
    .action(async (options: TailOptions) => tailEvents(options));

  addTargetOptions(
    events
      .command('show')
      .description('show one event, its payload and the CDEvents made from it')
      .argument('<seq>', 'sequence number (from events list)'),
    'api',
  )
    .option('--json', 'print JSON')
    .action(async (seq: string, options: TargetFlags & { json?: boolean }) => {
      const result = await getJson<{ event: StoredEvent; cdevents: StoredCdevent[] }>(
        await commandTarget(options, 'api'),
        `/api/v1/events/${encodeURIComponent(seq)}`,
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const { event, cdevents } = result;
      const lines = [
        `seq:          ${event.seq}`,
        `type:         ${event.type}`,
        `source:       ${event.source}`,
        `id:           ${event.id}`,
        `time:         ${event.time ?? '-'}`,
        `received:     ${when(event.receivedAt)}`,
        `content type: ${event.datacontenttype ?? '-'}`,
        `extensions:   ${JSON.stringify(event.extensions)}`,
        `routed:       ${event.routedAt ? `${when(event.routedAt)} (${event.routeOutputs} CDEvents)` : 'pending'}`,
      ];
      if (event.routeNote) lines.push(`note:         ${event.routeNote}`);
      lines.push(
        'data:',
        event.data_base64 !== undefined
          ? `  (base64) ${event.data_base64}`
          : JSON.stringify(event.data ?? null, null, 2),
      );
      for (const cdevent of cdevents) lines.push(`→ ${cdevent.type} subject=${cdevent.subjectId}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  return events;
}
