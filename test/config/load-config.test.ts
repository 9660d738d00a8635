import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaults, loadConfig, routerWorkers } from '../../src/config/index.js';
import { CadenceError } from '../../src/problem/index.js';

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('gives the defaults with nothing set', () => {
    const config = loadConfig();
    assert.equal(config.server.port, defaults.server.port);
    assert.equal(config.server.bodyLimitBytes, 1024 * 1024);
    assert.equal(config.store.dataDir, './.cadence');
    assert.equal(config.store.databaseUrl, undefined);
    assert.equal(config.routes.length, defaults.routes.length);
    assert.equal(config.dora.identityWindowSeconds, 3600);
  });

  it('layers file < environment < flags', () => {
    const path = file(
      'layers.yaml',
      'server:\n  port: 9000\n  host: 0.0.0.0\nstore:\n  dataDir: /from/file\n',
    );
    const config = loadConfig({
      file: path,
      env: { CADENCE_PORT: '9100', DATABASE_URL: 'postgres://env/db' },
      flags: { port: 9200 },
    });
    assert.equal(config.server.port, 9200);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.store.dataDir, '/from/file');
    assert.equal(config.store.databaseUrl, 'postgres://env/db');
    assert.equal(loadConfig({ file: path, env: { CADENCE_PORT: '9100' } }).server.port, 9100);
  });

  const refusals: [string, string, NodeJS.ProcessEnv, string][] = [
    ['a typo in a key', 'server:\n  prot: 1\n', {}, 'server.prot'],
    ['a port out of range', 'server:\n  port: 70000\n', {}, 'server.port'],
    ['a non-numeric env port', '', { CADENCE_PORT: 'abc' }, 'server.port'],
    [
      'a route with no transformers',
      'routes:\n  - type: x\n    transformers: []\n',
      {},
      'routes.0.transformers',
    ],
    [
      'a zero identity window',
      'dora:\n  identityWindowSeconds: 0\n',
      {},
      'dora.identityWindowSeconds',
    ],
    [
      'an identity window over a day',
      'dora:\n  identityWindowSeconds: 90000\n',
      {},
      'dora.identityWindowSeconds',
    ],
    ['no router workers', 'router:\n  workers: 0\n', {}, 'router.workers'],
    ['router workers on the embedded store', 'router:\n  workers: 2\n', {}, 'router.workers'],
    [
      'as many router workers as pool connections',
      'router:\n  workers: 4\nstore:\n  poolSize: 4\n',
      { DATABASE_URL: 'postgres://env/db' },
      'router.workers',
    ],
    ['YAML that is not a mapping', '- a\n- b\n', {}, 'config'],
    ['broken YAML', 'server: [\n', {}, 'config'],
  ];
  for (const [name, text, env, field] of refusals) {
    it(`refuses ${name}, naming ${field}`, () => {
      const path = file(`${name.replaceAll(' ', '-')}.yaml`, text);
      assert.throws(
        () => loadConfig({ file: path, env }),
        (error: unknown) =>
          error instanceof CadenceError && error.code === 'config-invalid' && error.field === field,
      );
    });
  }

  it("routes with the engine's number of workers unless told, and as told on PostgreSQL", () => {
    assert.equal(routerWorkers(loadConfig()), 1);
    const postgres = { DATABASE_URL: 'postgres://env/db' };
    assert.equal(routerWorkers(loadConfig({ env: postgres })), 2);
    const path = file('workers.yaml', 'router:\n  workers: 3\n');
    assert.equal(routerWorkers(loadConfig({ file: path, env: postgres })), 3);
    assert.equal(
      routerWorkers(loadConfig({ file: file('one.yaml', 'router:\n  workers: 1\n') })),
      1,
    );
  });

  it('refuses a service named version, saying the name is reserved', () => {
    const path = file(
      'version-service.yaml',
      'deployer:\n  services:\n    version: { repository: /r, namespace: production }\n',
    );
    assert.throws(
      () => loadConfig({ file: path }),
      (error: unknown) =>
        error instanceof CadenceError &&
        error.field === 'deployer.services.version' &&
        /version is reserved \(GET \/deployer\/version\)/.test(error.message),
    );
  });

  it('says which file it cannot read', () => {
    assert.throws(
      () => loadConfig({ file: join(dir, 'missing.yaml') }),
      /cannot read config file .*missing\.yaml/,
    );
  });
});
