import { Command } from 'commander';
import type { StoredCdevent, StoredEvent } from '../events/index.js';
import { getJson, serverOption, serverUrl } from './api-client.js';
import { renderTable } from './table.js';

function when(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\.\d+Z$/, 'Z') : '';
}

export function eventsCommand(): Command {
  const events = new Command('events').description('read the events that arrived');

  events
    .command('list')
    .description('list raw events in arrival order')
    .addOption(serverOption())
    .option('--type <type>', 'only this CloudEvent type')
    .option('--source <source>', 'only this CloudEvent source')
    .option('--after <seq>', 'only events after this sequence number', '0')
    .option('--limit <n>', 'at most this many events', '50')
    .option('--json', 'print JSON instead of a table')
    .action(
      async (options: {
        server?: string;
        type?: string;
        source?: string;
        after: string;
        limit: string;
        json?: boolean;
      }) => {
        const query = new URLSearchParams({ after: options.after, limit: options.limit });
        if (options.type) query.set('type', options.type);
        if (options.source) query.set('source', options.source);
        const { events: rows } = await getJson<{ events: StoredEvent[] }>(
          serverUrl(options.server),
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

  events
    .command('show')
    .description('show one event, its payload and the CDEvents made from it')
    .argument('<seq>', 'sequence number (from events list)')
    .addOption(serverOption())
    .option('--json', 'print JSON')
    .action(async (seq: string, options: { server?: string; json?: boolean }) => {
      const result = await getJson<{ event: StoredEvent; cdevents: StoredCdevent[] }>(
        serverUrl(options.server),
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
