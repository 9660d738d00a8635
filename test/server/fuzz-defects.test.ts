/**
 * The hard edges the fuzzing found (issue 13, item 6), each reproduced on both engines:
 * none may answer 500, and every 4xx is application/problem+json naming the field at fault.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../../src/auth/index.js';
import { createEventWriter, type CloudEvent } from '../../src/events/index.js';
import type { Store } from '../../src/store/index.js';
import { sampleEvent, testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

function assertProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  field?: string,
): void {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(response.body) as { status: number; field?: string };
  assert.equal(body.status, status);
  if (field !== undefined) assert.equal(body.field, field, response.body);
}

/** Sends raw bytes to a listening server and returns the whole answer. */
async function rawExchange(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let answer = '';
  socket.on('data', (chunk: string) => (answer += chunk));
  socket.write(request);
  await new Promise((resolve) => socket.on('close', resolve));
  return answer;
}

for (const engine of engines) {
  describe(`no 500s on ${engine}`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app } = testApp(store));
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('overlapping batches written in different orders all succeed (no deadlock)', async () => {
      // Six writers (as six replicas' group commits) write the same new keys at the same moment,
      // half in reverse order: on PostgreSQL that deadlocked, and the request got a 500. Through
      // app.inject the requests' decoding staggers them too much to collide reliably.
      for (let round = 0; round < 5; round++) {
        const ids = Array.from({ length: 200 }, (_, i) => `overlap-${round}-${i}`);
        const writers = Array.from({ length: 6 }, () => createEventWriter(store));
        const outcomes = await Promise.allSettled(
          writers.map((writer, k) =>
            writer.write(
              (k % 2 ? [...ids].reverse() : ids).map((id): CloudEvent => ({
                specversion: '1.0',
                id,
                source: '/overlap',
                type: 'com.example.thing.happened',
                extensions: {},
                data: { round },
              })),
            ),
          ),
        );
        assert.deepEqual(
          outcomes.filter((outcome) => outcome.status === 'rejected'),
          [],
        );
        // Each event is stored exactly once, by whichever writer got there first.
        const stored = outcomes.flatMap((outcome) =>
          outcome.status === 'fulfilled' ? outcome.value.stored : [],
        );
        assert.equal(stored.filter(Boolean).length, ids.length);
      }
    });

    it('a NUL byte in a query parameter is a 400 naming it', async () => {
      assertProblem(await app.inject({ url: '/api/v1/events?type=a%00b' }), 400, 'type');
      assertProblem(await app.inject({ url: '/api/v1/deployments?service=%00' }), 400, 'service');
    });

    it('a NUL byte in a path parameter is a 400 naming it', async () => {
      assertProblem(await app.inject({ url: '/api/v1/rollouts/ns%00/web' }), 400, 'namespace');
      assertProblem(await app.inject({ url: '/api/v1/analyses/a%00b' }), 400, 'id');
    });

    it('JSON nested 6,000 deep is a 400 naming the body', async () => {
      const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`;
      const event = JSON.stringify(sampleEvent({ data: '__deep__' })).replace('"__deep__"', deep);
      // Starting an analysis always needs a token: the body is read only after authorization.
      const { name, secret } = await createToken(store, {
        name: 'deep-json',
        services: ['*'],
        actions: ['canary'],
      });
      for (const [url, contentType, payload] of [
        ['/events', 'application/cloudevents+json', event],
        ['/cdevents', 'application/json', deep],
        ['/api/v1/analyses', 'application/json', `{"service":${deep}}`],
      ] as const) {
        const response = await app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': contentType, authorization: `Bearer ${name}:${secret}` },
          payload,
        });
        assertProblem(response, 400, 'body');
      }
    });

    it("Fastify's own errors are problem+json", async () => {
      assertProblem(
        await app.inject({
          method: 'POST',
          url: '/events',
          headers: { 'content-type': 'application/cloudevents+json', 'content-length': '5' },
          payload: 'x'.repeat(2 * 1024 * 1024),
        }),
        413,
      );
      assertProblem(await app.inject({ url: '/nowhere' }), 404, 'path');
      assertProblem(await app.inject({ url: '/api/v1/events/%E0%A4%A' }), 400);
    });

    it("Node's client errors (a bad request line, too large headers) are problem+json", async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      for (const [request, status] of [
        ['NOT A REQUEST\r\n\r\n', 400],
        [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ] as const) {
        const answer = await rawExchange(port, request);
        assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), answer);
        assert.match(answer, /content-type: application\/problem\+json/i, answer);
        const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { status: number };
        assert.equal(body.status, status);
      }
    });
  });
}
