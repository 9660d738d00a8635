import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/index.js';
import { postCdevents, sampleEvent, structured, testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

const HOUR = 3_600_000;

/** The value of one sample in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

for (const engine of engines) {
  describe(`GET /metrics on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let settle: () => Promise<void>;
    let dispose: () => Promise<void>;
    const now = Date.now();
    const iso = (offsetHours: number) => new Date(now - offsetHours * HOUR).toISOString();

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app, settle } = testApp(store));
      const events = [
        {
          context: {
            specversion: '0.5.1',
            id: 'm-change',
            source: '/m',
            type: 'dev.cdevents.change.merged.0.3.0',
            timestamp: iso(30),
          },
          subject: { id: 'shop#7', content: { repository: { id: 'shop' } } },
          customData: {
            cadence: { revision: 'abc1234', commits: [{ id: 'c7', timestamp: iso(34) }] },
          },
        },
        {
          context: {
            specversion: '0.5.1',
            id: 'm-deploy',
            source: '/m',
            type: 'dev.cdevents.service.deployed.0.3.0',
            timestamp: iso(24),
          },
          subject: {
            id: 'shop',
            content: { environment: { id: 'production' }, artifactId: 'pkg:oci/shop' },
          },
          customData: { cadence: { revision: 'abc1234', repository: 'shop' } },
        },
      ];
      await postCdevents(app, events);
      await settle();
      // One more event left unrouted: the router's backlog.
      await app.inject({
        method: 'POST',
        url: '/events',
        headers: structured,
        payload: JSON.stringify(sampleEvent({ id: 'unrouted' })),
      });
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('exposes the DORA metrics per service and Cadence health', async () => {
      const response = await app.inject({ url: '/metrics' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const text = response.body;
      const shop = '{service="shop",environment="production"}';
      const q = (quantile: string) =>
        `{service="shop",environment="production",quantile="${quantile}"}`;
      assert.equal(sample(text, 'cadence_dora_deployments', shop), 1);
      assert.equal(
        sample(text, 'cadence_dora_deployment_frequency_per_second', shop),
        1 / 30 / 86_400,
      );
      assert.equal(sample(text, 'cadence_dora_lead_time_seconds', q('0.5')), 10 * 3600);
      assert.equal(sample(text, 'cadence_dora_lead_time_seconds', q('0.9')), 10 * 3600);
      assert.equal(sample(text, 'cadence_dora_change_failure_ratio', shop), 0);
      assert.equal(sample(text, 'cadence_dora_rework_ratio', shop), 0);
      assert.equal(sample(text, 'cadence_intake_events_total', '{endpoint="/cdevents"}'), 2);
      assert.equal(sample(text, 'cadence_intake_events_total', '{endpoint="/events"}'), 1);
      assert.equal(sample(text, 'cadence_router_backlog_events'), 1);
      assert.ok((sample(text, 'cadence_router_lag_seconds') ?? -1) >= 0);
      // Default process metrics under their standard names, as stock Node.js dashboards read.
      assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0);
      assert.ok(sample(text, 'nodejs_heap_size_used_bytes') !== undefined);
    });

    it('keeps the old names one release, marked deprecated in their help', async () => {
      const text = (await app.inject({ url: '/metrics' })).body;
      const shop = '{service="shop",environment="production"}';
      for (const [old, value] of [
        ['cadence_dora_deployments_per_day', 1 / 30],
        ['cadence_dora_lead_time_median_seconds', 10 * 3600],
        ['cadence_dora_lead_time_p90_seconds', 10 * 3600],
        ['cadence_dora_change_failure_rate', 0],
        ['cadence_dora_rework_rate', 0],
      ] as const) {
        assert.equal(sample(text, old, shop), value, old);
        assert.match(text, new RegExp(`^# HELP ${old} Deprecated: use \\S+`, 'm'));
      }
      assert.ok((sample(text, 'cadence_process_resident_memory_bytes') ?? 0) > 0);
      // No quantile or per-day in a Cadence name outside the deprecated ones (node's default
      // metrics keep their standard names).
      const names = new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('# TYPE '))
          .map((l) => l.split(' ')[2]!),
      );
      const ours = [...names].filter((n) => /^cadence_(dora|intake|router)_/.test(n));
      assert.ok(ours.length >= 12, ours.join(' '));
      for (const name of ours) {
        if (/_(median|p90|per_day)(_|$)|_rate$/.test(name))
          assert.ok(new RegExp(`^# HELP ${name} Deprecated`, 'm').test(text), name);
      }
    });

    it('times HTTP requests per route pattern, method and status', async () => {
      await app.inject({ url: '/api/v1/services/shop/doesnotexist-at-all' });
      await app.inject({ url: '/healthz' });
      const text = (await app.inject({ url: '/metrics' })).body;
      assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
      assert.ok(
        (sample(
          text,
          'http_request_duration_seconds_count',
          '{method="GET",route="/healthz",status_code="200"}',
        ) ?? 0) >= 1,
      );
      assert.ok(
        (sample(
          text,
          'http_request_duration_seconds_count',
          '{method="POST",route="/cdevents",status_code="202"}',
        ) ?? 0) >= 2,
      );
      // An unmatched path is one series, not one per URL.
      assert.doesNotMatch(text, /doesnotexist-at-all/);
    });
  });
}
