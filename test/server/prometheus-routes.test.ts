import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Router } from '../../src/events/index.js';
import type { Store } from '../../src/store/index.js';
import { routeAll, sampleEvent, structured, testApp } from '../support/app.js';
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
    let router: Router;
    let dispose: () => Promise<void>;
    const now = Date.now();
    const iso = (offsetHours: number) => new Date(now - offsetHours * HOUR).toISOString();

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app, router } = testApp(store));
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
      for (const body of events) {
        const response = await app.inject({
          method: 'POST',
          url: '/cdevents',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        assert.equal(response.statusCode, 202, response.body);
      }
      await routeAll(router);
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
      assert.equal(sample(text, 'cadence_dora_deployments', shop), 1);
      assert.equal(sample(text, 'cadence_dora_deployments_per_day', shop), 1 / 30);
      assert.equal(sample(text, 'cadence_dora_lead_time_median_seconds', shop), 10 * 3600);
      assert.equal(sample(text, 'cadence_dora_change_failure_rate', shop), 0);
      assert.equal(sample(text, 'cadence_intake_events_total', '{endpoint="/cdevents"}'), 2);
      assert.equal(sample(text, 'cadence_intake_events_total', '{endpoint="/events"}'), 1);
      assert.equal(sample(text, 'cadence_router_backlog_events'), 1);
      assert.ok((sample(text, 'cadence_router_lag_seconds') ?? -1) >= 0);
      assert.ok((sample(text, 'cadence_process_resident_memory_bytes') ?? 0) > 0);
    });
  });
}
