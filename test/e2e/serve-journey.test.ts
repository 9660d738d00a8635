import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { postEvent, runCadence, startCadence } from '../support/cadence-process.js';
import { pollUntil } from '../support/poll-until.js';

describe('a newcomer runs cadence serve on the embedded store', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cadence-journey-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints help for every command', () => {
    for (const args of [
      ['--help'],
      ['serve', '--help'],
      ['events', '--help'],
      ['events', 'list', '--help'],
    ]) {
      const result = runCadence(args);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /Usage: cadence/);
    }
    const unknown = runCadence(['nope']);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown command/);
  });

  it('accepts events, lists and shows them, routes a Deployment rollout, and shuts down gracefully', async () => {
    const server = await startCadence(['--data-dir', dataDir]);
    try {
      const response = await postEvent(server.url, {
        specversion: '1.0',
        id: 'rollout-1',
        source: 'https://10.96.0.1:443',
        type: 'dev.knative.apiserver.resource.update',
        time: '2026-11-20T09:30:00Z',
        data: {
          kind: 'Deployment',
          metadata: {
            name: 'web',
            namespace: 'production',
            generation: 1,
            annotations: { 'deployment.kubernetes.io/revision': '1' },
          },
          spec: { replicas: 1, template: { spec: { containers: [{ image: 'web:1.0.0' }] } } },
          status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
        },
      });
      assert.equal(response.status, 202);

      // The router runs in the background: wait for the CDEvent.
      const seq = await pollUntil(
        () => {
          const listed = runCadence(['events', 'list', '--server', server.url, '--json']);
          assert.equal(listed.status, 0, listed.stderr);
          const [event] = JSON.parse(listed.stdout) as { seq: number; routedAt: string | null }[];
          return event?.routedAt ? event.seq : undefined;
        },
        'the event to be routed',
        { intervalMs: 100 },
      );
      assert.ok(seq > 0, 'the event was routed');
      const table = runCadence(['events', 'list', '--server', server.url]);
      assert.match(
        table.stdout,
        /dev\.knative\.apiserver\.resource\.update\s+https:\/\/10\.96\.0\.1:443\s+rollout-1\s+1 out/,
      );
      const shown = runCadence(['events', 'show', String(seq), '--server', server.url]);
      assert.equal(shown.status, 0, shown.stderr);
      assert.match(shown.stdout, /→ dev\.cdevents\.service\.deployed\.0\.3\.0 subject=web/);
      const missing = runCadence(['events', 'show', '424242', '--server', server.url]);
      assert.notEqual(missing.status, 0);
      assert.match(missing.stderr, /no event with seq 424242/);

      // An in-flight request finishes even though SIGTERM arrives while its body is still coming.
      const body = JSON.stringify({
        specversion: '1.0',
        id: 'in-flight',
        source: '/slow',
        type: 'com.example.slow',
      });
      const inFlight = new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/cloudevents+json',
            'content-length': Buffer.byteLength(body),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          server.child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 200);
      });
      assert.equal(await inFlight, 202);
      assert.deepEqual(await server.exited, { code: 0, signal: null });
    } finally {
      server.child.kill('SIGKILL');
    }

    // The data survived the restart, including the request that was in flight at SIGTERM.
    const again = await startCadence(['--data-dir', dataDir]);
    try {
      const listed = runCadence(['events', 'list', '--server', again.url, '--json']);
      const ids = (JSON.parse(listed.stdout) as { id: string }[]).map((event) => event.id);
      assert.deepEqual(ids, ['rollout-1', 'in-flight']);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });

  it('says clearly when the server is not running', () => {
    const result = runCadence(['events', 'list', '--server', 'http://127.0.0.1:9']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /cannot reach the Cadence server at http:\/\/127\.0\.0\.1:9/);
  });

  it('refuses a bad config with a message naming the key', () => {
    const result = runCadence(['serve', '--port', 'abc']);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /port/);
  });
});
