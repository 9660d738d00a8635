/** The notifier family against a real local HTTP receiver: what each target type is sent. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  createNotifier,
  createNotifiers,
  noopNotifier,
  notificationTargetSchema,
  type Notice,
} from '../../src/notify/index.js';
import { silentLogger } from '../../src/log/index.js';

const notice: Notice = {
  kind: 'canary.verdict',
  text: 'Canary web v2: promoted',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Canary web v2: promoted*' } }],
  facts: { service: 'web', status: 'promoted' },
};

describe('notifiers', () => {
  const received: { path: string; body: unknown }[] = [];
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          path: request.url ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        });
        response.statusCode = request.url === '/refuse' ? 500 : 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const table: [type: 'slack' | 'webhook', expected: unknown][] = [
    ['slack', { text: notice.text, blocks: notice.blocks }],
    ['webhook', { kind: 'canary.verdict', service: 'web', status: 'promoted' }],
  ];
  for (const [type, expected] of table) {
    it(`${type}: sends ${JSON.stringify(expected).slice(0, 60)}…`, async () => {
      const notifier = createNotifier({ type, url: `${base}/${type}` }, silentLogger);
      assert.equal(notifier.type, type);
      await notifier.notify(notice);
      assert.deepEqual(
        received.filter((entry) => entry.path === `/${type}`).at(-1)?.body,
        expected,
      );
    });
  }

  it('one notifier per configured target, in order', () => {
    const targets = [
      { type: 'webhook', url: `${base}/a` },
      { type: 'slack', url: `${base}/b` },
    ] as const;
    assert.deepEqual(
      createNotifiers(targets, silentLogger).map((notifier) => notifier.type),
      ['webhook', 'slack'],
    );
  });

  it('a refusing or unreachable target is logged, never thrown', async () => {
    const lines: { msg: string; status?: number }[] = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    await createNotifier({ type: 'webhook', url: `${base}/refuse` }, logger).notify(notice);
    // Port 1 on loopback: nothing listens there.
    await createNotifier({ type: 'slack', url: 'http://127.0.0.1:1/' }, logger).notify(notice);
    assert.deepEqual(
      lines.map((line) => [line.msg, line.status]),
      [
        ['notification refused', 500],
        ['notification failed', undefined],
      ],
    );
  });

  it('the no-op notifier sends nothing', async () => {
    const before = received.length;
    await noopNotifier.notify(notice);
    assert.equal(received.length, before);
  });

  it('a target of an unknown type is refused by the config schema, naming the field', () => {
    const parsed = notificationTargetSchema.safeParse({ type: 'pager', url: `${base}/x` });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['type']);
  });
});
