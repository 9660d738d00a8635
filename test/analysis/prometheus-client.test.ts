/**
 * The Prometheus client and the built-in queries against a real Prometheus scraping two demo
 * apps (stable and canary) under load, and the four outcomes: values, no values, refused,
 * unreachable (a closed port, and a server that never answers).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createPrometheusClient } from '../../src/analysis/index.js';
import {
  builtinQueries,
  promDuration,
  renderQuery,
  resolveMetrics,
} from '../../src/analysis/metric-queries.js';
import { type PrometheusClient } from '../../src/analysis/prometheus-client.js';
import { CadenceError } from '../../src/problem/index.js';
import { startDemoApp, startLoad, type DemoApp } from '../support/demo-app.js';
import { createTestPrometheus, freePort, type TestPrometheus } from '../support/prometheus.js';
import { pollUntil } from '../support/poll-until.js';

const labels = (track: string) => ({
  service: 'shop',
  namespace: 'default',
  track,
  interval: '2s',
});

describe('PromQL templates', () => {
  it('fills placeholders and escapes label values', () => {
    assert.equal(
      renderQuery('up{service="{{service}}",track="{{ track }}"}[{{interval}}]', {
        ...labels('canary'),
        service: 'we"b',
      }),
      'up{service="we\\"b",track="canary"}[2s]',
    );
  });
  it('refuses an unknown placeholder', () => {
    assert.throws(
      () => renderQuery('up{pod="{{pod}}"}', labels('canary')),
      (error: unknown) => error instanceof CadenceError && error.field === 'metrics.query',
    );
  });
  it('resolves: the metric’s own query, else the service override, else the built-in', () => {
    const metrics = resolveMetrics(
      [
        { name: 'error-rate' },
        { name: 'latency-p95' },
        { name: 'queue', query: 'q{track="{{track}}"}' },
      ],
      { 'latency-p95': 'custom' },
    );
    assert.deepEqual(
      metrics.map((metric) => metric.query),
      [builtinQueries['error-rate'], 'custom', 'q{track="{{track}}"}'],
    );
  });
  it('refuses a metric that is neither built in nor given a query, naming it', () => {
    assert.throws(
      () => resolveMetrics([{ name: 'error-rate' }, { name: 'toString' }]),
      (error: unknown) => error instanceof CadenceError && error.field === 'metrics.1.query',
    );
  });
  it('durations', () => {
    assert.equal(promDuration(30), '30s');
    assert.equal(promDuration(1.5), '1500ms');
  });
});

describe('Prometheus client against a real Prometheus', () => {
  let stable: DemoApp;
  let canary: DemoApp;
  let prometheus: TestPrometheus;
  let client: PrometheusClient;
  let load: ReturnType<typeof startLoad>;

  before(async () => {
    stable = await startDemoApp({ service: 'shop', track: 'stable' });
    canary = await startDemoApp({
      service: 'shop',
      track: 'canary',
      behaviour: { errorRatio: 0.5 },
    });
    prometheus = await createTestPrometheus({
      targets: [stable.target, canary.target],
      scrapeIntervalMs: 500,
    });
    client = createPrometheusClient({ url: prometheus.url, timeoutMs: 2000 });
    load = startLoad([stable, canary], { ratePerSecond: 20 });
    // Wait until both tracks have a rate over a 2 s window.
    await pollUntil(
      async () => {
        // Both tracks: each target has its own scrape schedule, so one may be a scrape behind.
        const outcomes = await Promise.all(
          ['stable', 'canary'].map((track) =>
            client.query(renderQuery(builtinQueries['request-rate'], labels(track)), new Date()),
          ),
        );
        return outcomes.every((outcome) => outcome.outcome === 'values');
      },
      'data in Prometheus',
      { intervalMs: 250, detail: () => prometheus.logs.join('') },
    );
  });
  after(async () => {
    await load?.stop();
    await prometheus?.dispose();
    await stable?.close();
    await canary?.close();
  });

  it('every built-in signal has values for both tracks; the canary’s errors show', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 3000);
    for (const [name, template] of Object.entries(builtinQueries)) {
      for (const track of ['stable', 'canary']) {
        const outcome = await client.queryRange(
          renderQuery(template, labels(track)),
          start,
          end,
          1,
        );
        assert.equal(outcome.outcome, 'values', `${name} ${track}: ${JSON.stringify(outcome)}`);
      }
    }
    const errors = async (track: string) => {
      const outcome = await client.query(
        renderQuery(builtinQueries['error-rate'], labels(track)),
        end,
      );
      assert.equal(outcome.outcome, 'values');
      return outcome.outcome === 'values' ? outcome.points[0]![1] : NaN;
    };
    assert.equal(await errors('stable'), 0);
    const canaryErrors = await errors('canary');
    assert.ok(canaryErrors > 0.3 && canaryErrors < 0.7, `canary error rate ${canaryErrors}`);
  });

  it('a service without traffic is "no values", not an error', async () => {
    const outcome = await client.queryRange(
      renderQuery(builtinQueries['latency-p95'], { ...labels('canary'), service: 'nobody' }),
      new Date(Date.now() - 3000),
      new Date(),
      1,
    );
    assert.equal(outcome.outcome, 'no-values');
  });

  it('a bad query is "refused", with Prometheus’s reason', async () => {
    const outcome = await client.query('sum(rate(', new Date());
    assert.equal(outcome.outcome, 'refused');
    assert.match(outcome.outcome === 'refused' ? outcome.detail : '', /bad_data|parse/);
  });

  it('a closed port is "unreachable"', async () => {
    const closed = createPrometheusClient({ url: `http://127.0.0.1:${await freePort()}` });
    const outcome = await closed.query('up', new Date());
    assert.equal(outcome.outcome, 'unreachable');
    assert.match(outcome.outcome === 'unreachable' ? outcome.detail : '', /ECONNREFUSED/);
  });

  it('a server that never answers is "unreachable" after the timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const outcome = await createPrometheusClient({
        url: `http://127.0.0.1:${port}`,
        timeoutMs: 300,
      }).query('up', new Date());
      assert.equal(outcome.outcome, 'unreachable');
      assert.match(outcome.outcome === 'unreachable' ? outcome.detail : '', /Timeout/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
