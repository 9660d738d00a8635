/**
 * The OpenAPI document against the real app: every route the app registers is documented (and
 * nothing else), every reference resolves, and real responses — successes and problems — match
 * the schema the document gives for their status. A field added to a response without its schema
 * in api-schemas.ts fails here; a route without its operation (config.api) cannot even register
 * (openapi-meta-schema.test.ts), and the document's form is checked there too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { importRepository } from '../../src/git/index.js';
import { builtinWebhookReceivers } from '../../src/sources/index.js';
import { routesOf } from '../../src/server/app.js';
import type { Store } from '../../src/store/index.js';
import { postCdevents } from '../support/app.js';
import { openTestStore } from '../support/engines.js';
import { buildVendoringRepo, VENDORING_RULES } from '../support/git-fixture.js';
import { documentOperations, everyRouteApp } from '../support/every-route-app.js';

interface Document {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
}

const cdevent = (type: string, timestamp: string, subject: unknown, cadence?: unknown) => ({
  context: {
    specversion: '0.5.1',
    id: `${type}-${timestamp}`,
    source: '/openapi',
    type,
    timestamp,
  },
  subject,
  ...(cadence ? { customData: { cadence } } : {}),
});

describe('OpenAPI document', () => {
  let store: Store;
  let app: FastifyInstance;
  let dispose: () => Promise<void>;
  let document: Document;
  let ajv: Ajv2020;
  const vendoring = buildVendoringRepo();
  const mirrorDir = mkdtempSync(join(tmpdir(), 'cadence-openapi-'));

  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    // The deployer's and updates' routes are registered only with them (nothing reaches a cluster).
    const built = everyRouteApp(store, {
      repository: vendoring.fixture.dir,
      cacheDir: mirrorDir,
      insecureDev: true,
    });
    app = built.app;
    const events = [
      cdevent(
        'dev.cdevents.change.merged.0.3.0',
        '2026-03-02T10:00:00Z',
        { id: 'acme/web#1', content: { repository: { id: 'acme/web' } } },
        {
          repository: 'acme/web',
          revision: 'r1',
          commits: [{ id: 'a1', timestamp: '2026-03-01T10:00:00Z' }],
        },
      ),
      cdevent(
        'dev.cdevents.service.deployed.0.3.0',
        '2026-03-02T12:00:00Z',
        { id: 'web', content: { environment: { id: 'production' }, artifactId: 'pkg:oci/web@v1' } },
        { repository: 'acme/web', revision: 'r1' },
      ),
      cdevent('dev.cdevents.incident.detected.0.3.0', '2026-03-02T13:00:00Z', {
        id: 'I1',
        content: { environment: { id: 'production' }, service: { id: 'web' } },
      }),
    ];
    await postCdevents(app, events);
    await built.settle();
    await importRepository(store, {
      source: vendoring.fixture.dir,
      name: 'vendoring',
      rulesYaml: VENDORING_RULES,
      mirrorDir,
    });
    document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    ajv = new Ajv2020({ strict: false, allErrors: true });
  });
  after(async () => {
    await app.close();
    await dispose();
    vendoring.fixture.remove();
    rmSync(mirrorDir, { recursive: true, force: true });
  });

  it('carries the version npm installed (package.json), whatever the package is named', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    assert.equal((document as unknown as { info: { version: string } }).info.version, pkg.version);
  });

  it('documents every route the app registers, and only those', () => {
    // The dashboard's built files (index.html, hashed assets) are served beside `/`, not API.
    const registered = routesOf(app)
      .filter((r) => r.url === '/openapi.json' || !/\.\w+$/.test(r.url))
      .map((r) => `${r.method.toLowerCase()} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = documentOperations(document)
      .map((operation) => `${operation.method.toLowerCase()} ${operation.path}`)
      .sort();
    assert.ok(registered.length > 10, 'routes were recorded');
    assert.deepEqual(documented, registered);
  });

  it('declares every path parameter and resolves every reference', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, operation] of Object.entries(item)) {
        const declared = (operation.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        assert.deepEqual(declared, inPath, `${method} ${path}`);
      }
    }
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)];
    assert.ok(refs.length > 0);
    for (const [, name] of refs) assert.ok(document.components.schemas[name!], `${name} resolves`);
  });

  it('lists the webhook sources the source registry has, not a list kept by hand', () => {
    const parameters = document.paths['/webhooks/{source}']?.post?.parameters as
      { name: string; schema?: { enum?: string[] } }[] | undefined;
    const source = parameters?.find((parameter) => parameter.name === 'source');
    assert.deepEqual(source?.schema?.enum, [...builtinWebhookReceivers().keys()]);
  });

  /** Checks a real response against the document's schema for its path, method and status. */
  async function conforms(method: 'GET' | 'POST', url: string, path: string, init = {}) {
    const response = await app.inject({ method, url, ...init });
    const documented = document.paths[path]?.[method.toLowerCase()]?.responses;
    assert.ok(documented, `${method} ${path} is documented`);
    const entry = documented[String(response.statusCode)];
    assert.ok(entry, `${method} ${url} answered ${response.statusCode}, not documented`);
    const [contentType, media] = Object.entries(entry.content ?? {})[0] ?? [];
    if (contentType)
      assert.match(
        String(response.headers['content-type']),
        new RegExp(`^${contentType.replace('+', '\\+')}`),
      );
    if (media?.schema) {
      // References point into the document's components: compile them beside the schema.
      const validate = ajv.compile({
        ...(media.schema as object),
        components: document.components,
      });
      const body: unknown = response.json();
      assert.ok(validate(body), `${method} ${url}: ${ajv.errorsText(validate.errors)}`);
    }
    return response;
  }

  const cases: [string, string, number][] = [
    ['/api/v1/metrics?from=2026-03-01&to=2026-03-15&bucket=week', '/api/v1/metrics', 200],
    ['/api/v1/metrics?from=2026-03-01&to=2026-03-15&service=web', '/api/v1/metrics', 200],
    ['/api/v1/metrics?bucket=fortnight', '/api/v1/metrics', 400],
    ['/api/v1/metrics?team=nobody', '/api/v1/metrics', 404],
    ['/api/v1/metrics/lead-time?from=2026-03-01&to=2026-03-15', '/api/v1/metrics/{metric}', 200],
    ['/api/v1/metrics/recovery-time?bucket=month', '/api/v1/metrics/{metric}', 200],
    ['/api/v1/metrics/happiness', '/api/v1/metrics/{metric}', 400],
    ['/deploy-frequency/week', '/deploy-frequency/{bucket}', 200],
    ['/deploy-frequency/hour', '/deploy-frequency/{bucket}', 400],
    ['/api/v1/events?limit=2', '/api/v1/events', 200],
    ['/api/v1/events?limit=0', '/api/v1/events', 400],
    ['/api/v1/events/1', '/api/v1/events/{seq}', 200],
    ['/api/v1/events/999', '/api/v1/events/{seq}', 404],
    ['/api/v1/cdevents?subjectType=service', '/api/v1/cdevents', 200],
    ['/api/v1/cadence/repositories', '/api/v1/cadence/repositories', 200],
    ['/api/v1/cadence/report?asOf=2024-02-20', '/api/v1/cadence/report', 200],
    ['/api/v1/cadence/report?repository=nope', '/api/v1/cadence/report', 404],
    ['/api/v1/streams', '/api/v1/streams', 200],
    ['/api/v1/deployments?from=2026-03-01&to=2026-03-15', '/api/v1/deployments', 200],
    ['/api/v1/deployments?limit=0', '/api/v1/deployments', 400],
    ['/api/v1/incidents?from=2026-03-01&to=2026-03-15', '/api/v1/incidents', 200],
    ['/api/v1/rollouts?phase=complete', '/api/v1/rollouts', 200],
    ['/api/v1/rollouts?phase=paused', '/api/v1/rollouts', 400],
    ['/api/v1/rollouts/default/web', '/api/v1/rollouts/{namespace}/{name}', 404],
    ['/api/v1/analyses?status=running', '/api/v1/analyses', 200],
    ['/api/v1/analyses?status=weird', '/api/v1/analyses', 400],
    ['/api/v1/analyses/nope', '/api/v1/analyses/{id}', 404],
    ['/api/v1/services', '/api/v1/services', 200],
    ['/api/v1/services/web', '/api/v1/services/{name}', 200],
    ['/api/v1/services/web/version', '/api/v1/services/{name}/version', 200],
    ['/api/v1/services/nope', '/api/v1/services/{name}', 404],
    ['/deployer', '/deployer', 200],
    ['/deployer/web/version', '/deployer/{name}/version', 200],
    ['/healthz', '/healthz', 200],
    ['/readyz', '/readyz', 200],
    ['/metrics', '/metrics', 200],
  ];
  for (const [url, path, status] of cases) {
    it(`GET ${url} answers ${status} as documented`, async () => {
      const response = await conforms('GET', url, path);
      assert.equal(response.statusCode, status, response.body);
    });
  }

  it('describes starting an analysis and reading it back, with its problems', async () => {
    const json = { 'content-type': 'application/json' };
    const started = await conforms('POST', '/api/v1/analyses', '/api/v1/analyses', {
      headers: json,
      payload: JSON.stringify({ service: 'web', revision: 'r2', id: 'openapi-1' }),
    });
    assert.equal(started.statusCode, 201, started.body);
    const detail = await conforms('GET', '/api/v1/analyses/openapi-1', '/api/v1/analyses/{id}');
    assert.equal(detail.statusCode, 200, detail.body);
    const bad = await conforms('POST', '/api/v1/analyses', '/api/v1/analyses', {
      headers: json,
      payload: JSON.stringify({ revision: 'r2' }),
    });
    assert.equal(bad.statusCode, 400);
    const notJson = await conforms('POST', '/api/v1/analyses', '/api/v1/analyses', {
      headers: { 'content-type': 'text/plain' },
      payload: 'service=web',
    });
    assert.equal(notJson.statusCode, 415);
  });

  it('describes intake answers: 202, 400, 415 and a webhook refused', async () => {
    const event = {
      specversion: '1.0',
      id: 'openapi-1',
      source: '/openapi',
      type: 'com.example.thing',
      data: {},
    };
    const post = (url: string, path: string, type: string, payload: string) =>
      conforms('POST', url, path, { headers: { 'content-type': type }, payload });
    assert.equal(
      (await post('/events', '/events', 'application/cloudevents+json', JSON.stringify(event)))
        .statusCode,
      202,
    );
    assert.equal(
      (await post('/events', '/events', 'application/cloudevents+json', '{"id":1}')).statusCode,
      400,
    );
    assert.equal((await post('/events', '/events', 'application/xml', '<e/>')).statusCode, 415);
    assert.equal((await post('/cdevents', '/cdevents', 'application/json', '{}')).statusCode, 400);
    assert.equal(
      (await post('/webhooks/nowhere', '/webhooks/{source}', 'application/json', '{}')).statusCode,
      404,
    );
  });
});
