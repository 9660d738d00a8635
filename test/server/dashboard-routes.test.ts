/**
 * The dashboard's files at `/`: served from the build folder, API routes keep priority, an
 * unknown path stays a problem+json 404, and a checkout that was never built says so.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/index.js';
import { testApp } from '../support/app.js';
import { openTestStore } from '../support/engines.js';

describe('dashboard routes', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  const dir = mkdtempSync(join(tmpdir(), 'cadence-dashboard-'));
  const built = join(dir, 'built');
  let app: FastifyInstance;

  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    mkdirSync(join(built, 'assets'), { recursive: true });
    writeFileSync(join(built, 'index.html'), '<!doctype html><title>Cadence</title>');
    writeFileSync(join(built, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = testApp(store, { dashboardDir: built }).app;
  });
  after(async () => {
    await app.close();
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / without caching, and hashed assets for good', async () => {
    const index = await app.inject({ url: '/' });
    assert.equal(index.statusCode, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.equal(index.body, '<!doctype html><title>Cadence</title>');
    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  });

  it('leaves the API and health routes first, and unknown paths a problem+json 404', async () => {
    const health = await app.inject({ url: '/healthz' });
    assert.deepEqual(health.json(), { status: 'ok' });
    const metrics = await app.inject({ url: '/api/v1/metrics' });
    assert.equal(metrics.statusCode, 200);
    for (const url of ['/nope.html', '/api/v1/nope', '/assets/missing.js']) {
      const missing = await app.inject({ url });
      assert.equal(missing.statusCode, 404, url);
      assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
    }
  });

  it('says the dashboard is not built when the folder has no index.html', async () => {
    const bare = testApp(store, { dashboardDir: join(dir, 'never-built') }).app;
    try {
      const response = await bare.inject({ url: '/' });
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal(response.json().field, 'dashboard');
      assert.match(response.json().detail, /npm run build/);
    } finally {
      await bare.close();
    }
  });
});
