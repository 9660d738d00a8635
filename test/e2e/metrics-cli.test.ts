/**
 * `cadence metrics` against a running server on the embedded store: a deployment, a change and
 * an incident go in as CDEvents; the table and --json come out; a bad flag is a clear error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCadence, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { pollUntil } from '../support/poll-until.js';

const event = (type: string, id: string, timestamp: string, subject: object, cadence?: object) => ({
  context: { specversion: '0.5.1', id, source: '/e2e', type: `dev.cdevents.${type}`, timestamp },
  subject,
  ...(cadence ? { customData: { cadence } } : {}),
});

describe('cadence metrics', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cadence-metrics-'));
  let server: CadenceProcess;
  before(async () => {
    server = await startCadence(['--data-dir', dataDir]);
    const events = [
      event(
        'change.merged.0.3.0',
        'c1',
        '2026-06-01T10:00:00Z',
        { id: 'shop#1', content: { repository: { id: 'shop' } } },
        {
          repository: 'shop',
          revision: 'aaa1111',
          commits: [{ id: 'x1', timestamp: '2026-06-01T06:00:00Z' }],
        },
      ),
      event(
        'service.deployed.0.3.0',
        'd1',
        '2026-06-01T12:00:00Z',
        { id: 'shop', content: { environment: { id: 'production' }, artifactId: 'pkg:oci/shop' } },
        { repository: 'shop', revision: 'aaa1111' },
      ),
    ];
    for (const body of events) {
      const response = await fetch(`${server.url}/cdevents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 202, await response.text());
    }
    // The router runs in the background: wait until both CDEvents are stored.
    await pollUntil(async () => {
      const { cdevents } = (await (await fetch(`${server.url}/api/v1/cdevents`)).json()) as {
        cdevents: unknown[];
      };
      return cdevents.length === 2;
    }, 'both CDEvents to be stored');
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const window = ['--from', '2026-06-01', '--to', '2026-06-08'];

  it('prints the metrics as a table with DORA tiers', () => {
    const result = runCadence(['metrics', '--server', server.url, ...window]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /all services, production, 2026-06-01 to 2026-06-08/);
    assert.match(result.stdout, /lead time for changes\s+6h median, 6h p90 \(1\)\s+elite/);
    assert.match(result.stdout, /change failure rate\s+0% \(0\/1\)\s+elite/);
  });

  it('prints JSON with --json', () => {
    const result = runCadence(['metrics', '--server', server.url, ...window, '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.overall.deployments, 1);
    assert.equal(report.overall.leadTime.median, 6 * 3600);
  });

  it('refuses a bad bucket and reports a bad window from the server', () => {
    const bucket = runCadence(['metrics', '--server', server.url, '--bucket', 'fortnight']);
    assert.notEqual(bucket.status, 0);
    assert.match(bucket.stderr, /fortnight/);
    const backwards = runCadence([
      'metrics',
      '--server',
      server.url,
      '--from',
      '2026-06-08',
      '--to',
      '2026-06-01',
    ]);
    assert.equal(backwards.status, 1);
    assert.match(backwards.stderr, /from must be before to \(from\)/);
  });
});
