/**
 * The whole loop through a real `cadence serve`: analyses started over the API run in the
 * server's own runner against a real Prometheus scraping demo apps; `cadence canary-wait`
 * exits 0 on promotion and 2 on rollback; verdicts are notified to a local webhook and a
 * Slack-compatible receiver; and a failed canary raises change failure rate in
 * /api/v1/metrics. This server runs without the deployer (analyses are started over the API),
 * so the verdicts change nothing in a cluster and the analysis records that; the journey with
 * the deployer and the test Kubernetes API server is test/e2e/canary-loop.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { cadenceBin, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { startDemoApp, startLoad, type DemoApp } from '../support/demo-app.js';
import { createTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { pollUntil } from '../support/poll-until.js';

/** Runs the CLI without blocking this process (its demo apps must keep answering). */
function cadence(
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cadenceBin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Received {
  path: string;
  body: Record<string, unknown>;
}

describe('canary analysis through cadence serve and the CLI', () => {
  const apps: DemoApp[] = [];
  let prometheus: TestPrometheus;
  let load: ReturnType<typeof startLoad>;
  let cadenceServer: CadenceProcess;
  let canaryToken: string;
  let receiver: Server;
  const received: Received[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cadence-canary-cli-'));

  before(async () => {
    apps.push(
      await startDemoApp({ service: 'good', track: 'stable' }),
      await startDemoApp({ service: 'good', track: 'canary' }),
      await startDemoApp({ service: 'bad', track: 'stable' }),
      await startDemoApp({ service: 'bad', track: 'canary', behaviour: { errorRatio: 0.25 } }),
    );
    prometheus = await createTestPrometheus({
      targets: apps.map((app) => app.target),
      scrapeIntervalMs: 1000,
    });
    load = startLoad(apps, { ratePerSecond: 10 });
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({
          path: request.url ?? '',
          body: JSON.parse(body) as Record<string, unknown>,
        });
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const config = join(dir, 'cadence.yaml');
    writeFileSync(
      config,
      stringify({
        router: { pollIntervalMs: 100 },
        analysis: {
          prometheusUrl: prometheus.url,
          pollIntervalMs: 250,
          defaults: {
            warmupSeconds: 2,
            intervalSeconds: 6,
            intervals: 2,
            stepSeconds: 1,
            sampleWindowSeconds: 4,
            maxInconclusive: 4,
            evaluationDelaySeconds: 1,
            metrics: [
              { name: 'error-rate', critical: true, allowedIncrease: 1.2, minSamples: 5 },
              { name: 'latency-p95', minSamples: 5 },
            ],
          },
          notifications: [
            { type: 'webhook', url: `http://127.0.0.1:${port}/webhook` },
            { type: 'slack', url: `http://127.0.0.1:${port}/slack` },
          ],
        },
      }),
    );
    // Starting an analysis drives a canary verdict: it needs a token with `canary` (issue 13).
    const minted = await cadence([
      'token',
      'create',
      'ci',
      '--services',
      '*',
      '--actions',
      'canary',
      '--json',
      '--data-dir',
      join(dir, 'data'),
    ]);
    assert.equal(minted.status, 0, minted.stderr);
    canaryToken = (JSON.parse(minted.stdout) as { token: string }).token;
    cadenceServer = await startCadence(['--config', config, '--data-dir', join(dir, 'data')]);
    // The first interval's 4 s windows need 4 s of history (5 scrapes, one a second).
    await prometheus.scraped(5);
  });

  after(async () => {
    if (cadenceServer && cadenceServer.child.exitCode === null) {
      cadenceServer.child.kill('SIGTERM');
      await cadenceServer.exited;
    }
    await load?.stop();
    await prometheus?.dispose();
    for (const app of apps) await app.close();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const changeFailureRate = async () => {
    const response = await fetch(`${cadenceServer.url}/api/v1/metrics`);
    const report = (await response.json()) as {
      overall: {
        changeFailureRate: { numerator: number; denominator: number; rate: number | null };
      };
    };
    return report.overall.changeFailureRate;
  };

  it('canary-wait exits 0 on promote and 2 on rollback; notifications sent; the failed canary counts in change failure rate', async () => {
    // One earlier successful deployment, so the rate has something to rise from.
    const deployed = await fetch(`${cadenceServer.url}/cdevents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        context: {
          specversion: '0.5.1',
          id: 'earlier-deploy',
          source: '/test',
          type: 'dev.cdevents.service.deployed.0.3.0',
          timestamp: new Date(Date.now() - 3_600_000).toISOString(),
        },
        subject: {
          id: 'bad',
          source: '/test',
          content: { environment: { id: 'production' }, artifactId: 'pkg:generic/bad@v1' },
        },
      }),
    });
    assert.equal(deployed.status, 202, await deployed.text());
    const before = await changeFailureRate();
    assert.equal(before.numerator, 0);

    const start = async (service: string) => {
      const response = await fetch(`${cadenceServer.url}/api/v1/analyses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${canaryToken}` },
        body: JSON.stringify({ service, revision: `${service}-v2` }),
      });
      assert.equal(response.status, 201, await response.clone().text());
      return ((await response.json()) as { id: string }).id;
    };
    const good = await start('good');
    const bad = await start('bad');

    const [goodWait, badWait] = await Promise.all([
      cadence(['canary-wait', good, '--server', cadenceServer.url, '--timeout', '60']),
      cadence(['canary-wait', bad, '--server', cadenceServer.url, '--timeout', '60']),
    ]);
    assert.equal(goodWait.status, 0, `${goodWait.stdout}${goodWait.stderr}`);
    assert.match(goodWait.stdout, /good: promoted/);
    assert.match(goodWait.stderr, /interval 0: pass/);
    assert.equal(badWait.status, 2, `${badWait.stdout}${badWait.stderr}`);
    assert.match(badWait.stdout, /bad: rolled-back/);

    const listed = await cadence(['analyses', '--server', cadenceServer.url, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    const analyses = JSON.parse(listed.stdout) as {
      id: string;
      status: string;
      actionResult: { applied: boolean };
    }[];
    assert.deepEqual(analyses.map((a) => a.status).sort(), ['promoted', 'rolled-back']);
    assert.ok(
      analyses.every((a) => a.actionResult.applied === false),
      'no deployer connected: nothing applied',
    );
    const shown = await cadence(['analyses', bad, '--server', cadenceServer.url]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /status rolled-back, verdict fail/);
    // Each track's mean and sample count behind the judgement, then why.
    assert.match(shown.stdout, /error-rate +0\.\d+ \(n=\d+\) +0 \(n=\d+\) .*high: p = /);

    // Verdict notifications: the generic webhook gets the verdict, Slack a message.
    await pollUntil(() => received.length >= 4, 'the four notifications', { intervalMs: 200 });
    const webhook = received
      .filter((entry) => entry.path === '/webhook')
      .map((entry) => entry.body);
    assert.deepEqual(
      webhook.map((body) => `${body.service} ${body.status} ${body.verdict}`).sort(),
      ['bad rolled-back fail', 'good promoted pass'],
    );
    const slack = received
      .filter((entry) => entry.path === '/slack')
      .map((entry) => String(entry.body.text));
    assert.deepEqual(slack.sort(), [
      'Canary bad bad-v2: rolled back',
      'Canary good good-v2: promoted',
    ]);

    // The promotion is a deployment, the failed canary a failed one: 1 of 3 failed.
    await pollUntil(
      async () => (await changeFailureRate()).denominator === 3,
      'the three deployments to count',
      { intervalMs: 200 },
    );
    const afterwards = await changeFailureRate();
    assert.equal(afterwards.numerator, 1);
    assert.ok(afterwards.rate! > (before.rate ?? 0));

    // Bad input: an unknown analysis, a bad timeout.
    const unknown = await cadence(['canary-wait', 'nope', '--server', cadenceServer.url]);
    assert.equal(unknown.status, 4);
    assert.match(unknown.stderr, /no analysis nope/);
    const badTimeout = await cadence([
      'canary-wait',
      good,
      '--server',
      cadenceServer.url,
      '--timeout',
      'soon',
    ]);
    assert.equal(badTimeout.status, 1);
    assert.match(badTimeout.stderr, /--timeout/);
    const badPost = await fetch(`${cadenceServer.url}/api/v1/analyses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${canaryToken}` },
      body: JSON.stringify({ service: 'good', analysis: { judge: 'coin-flip' } }),
    });
    assert.equal(badPost.status, 400);
    assert.equal(badPost.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await badPost.json()) as { field: string }).field, 'analysis.judge');
  });
});
