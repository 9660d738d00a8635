/**
 * `/api/v1/deployments`, `/api/v1/incidents` and `/api/v1/streams` through the real app: the
 * shapes the dashboard reads and the 400s naming a bad filter. The queries themselves are
 * proved on both engines in test/dora/deployment-timeline.test.ts; this runs on PGlite only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/index.js';
import { postCdevents, testApp } from '../support/app.js';
import { scenario, settings } from '../support/dora-scenario.js';
import { openTestStore } from '../support/engines.js';

describe('timeline routes', () => {
  let store: Store;
  let app: FastifyInstance;
  let dispose: () => Promise<void>;
  const window = 'from=2026-03-01&to=2026-03-15';

  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    const built = testApp(store, { dora: settings });
    app = built.app;
    await postCdevents(app, scenario);
    await built.settle();
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  it('lists deployments with the metrics filters', async () => {
    const all = await app.inject({ url: `/api/v1/deployments?${window}` });
    assert.equal(all.statusCode, 200, all.body);
    assert.equal(all.json().deployments.length, 8);
    const team = await app.inject({ url: `/api/v1/deployments?${window}&team=platform` });
    assert.deepEqual(
      team.json().deployments.map((d: { service: string }) => d.service),
      ['api'],
    );
    const limited = await app.inject({ url: `/api/v1/deployments?${window}&limit=3` });
    assert.equal(limited.json().deployments.length, 3);
    // The default window is the 90 days up to now: the scenario is long before it.
    const recent = await app.inject({ url: '/api/v1/deployments' });
    assert.deepEqual(recent.json(), { deployments: [] });
  });

  it('lists incidents', async () => {
    const response = await app.inject({ url: `/api/v1/incidents?${window}&service=web` });
    assert.equal(response.statusCode, 200, response.body);
    const [incident] = response.json().incidents;
    assert.equal(incident.key, 'I1');
    assert.equal(incident.durationSeconds, 17.5 * 3600);
    assert.equal(incident.attributedTo[0].deployedAt, '2026-03-04T14:00:00.000Z');
  });

  it('lists the services, their environments and teams for the filters', async () => {
    const response = await app.inject({ url: '/api/v1/streams' });
    assert.equal(response.statusCode, 200, response.body);
    // `deployments` counts every row of the stream: attempts (D5 failed) and the rollback too.
    assert.deepEqual(response.json(), {
      services: [
        { service: 'api', environment: 'production', deployments: 1, team: 'platform' },
        { service: 'web', environment: 'production', deployments: 7, team: 'storefront' },
        { service: 'web', environment: 'staging', deployments: 1, team: 'storefront' },
      ],
      teams: ['platform', 'storefront'],
    });
  });

  const bad: [string, number, string][] = [
    ['/api/v1/deployments?limit=0', 400, 'limit'],
    ['/api/v1/deployments?limit=many', 400, 'limit'],
    ['/api/v1/deployments?limit=1001', 400, 'limit'],
    ['/api/v1/deployments?from=soon', 400, 'from'],
    ['/api/v1/deployments?from=2026-03-15&to=2026-03-01', 400, 'from'],
    ['/api/v1/deployments?bucket=week', 400, 'bucket'],
    ['/api/v1/incidents?colour=blue', 400, 'colour'],
    ['/api/v1/incidents?team=nobody', 404, 'team'],
    ['/api/v1/deployments?team=nobody', 404, 'team'],
  ];
  for (const [url, status, field] of bad) {
    it(`answers ${url} with ${status} naming ${field}`, async () => {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, status, response.body);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal(response.json().field, field);
    });
  }
});
