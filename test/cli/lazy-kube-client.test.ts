/**
 * Store-only CLI commands, and a server without a `kube` section, never load
 * @kubernetes/client-node (about 0.3 s and 70 MB of every one-shot command, and 70 MB of an idle
 * server, before it was loaded lazily, src/kube/kube-client.ts). The CLI runs from the sources
 * with a preload that makes loading the client throw, by `import` and by `require` alike; the
 * control cases prove the preload does refuse it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const root = fileURLToPath(new URL('../../', import.meta.url));
const main = join(root, 'src/cli/main.ts');

const resolveHook = `export async function resolve(specifier, context, next) {
  if (specifier === '@kubernetes/client-node') throw new Error('REFUSED: client-node imported');
  return next(specifier, context);
}`;
const preload = `import Module, { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(resolveHook)}));
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === '@kubernetes/client-node') throw new Error('REFUSED: client-node required');
  return load.call(this, request, ...rest);
};`;
const refuseKubeClient = `data:text/javascript,${encodeURIComponent(preload)}`;

function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--import', refuseKubeClient, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CADENCE_CONFIG: '', CADENCE_SERVER: '' },
  });
}

describe('store-only CLI commands', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-lazy-kube-'));
  const dataDir = join(work, 'data');
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the preload refuses the Kubernetes client, imported or required', () => {
    const imported = run(['--input-type=module', '-e', "await import('@kubernetes/client-node')"]);
    assert.notEqual(imported.status, 0);
    assert.match(imported.stderr, /REFUSED: client-node imported/);
    const required = run([
      '--input-type=module',
      '-e',
      "await import('./src/kube/index.ts').then((kube) => kube.kubeClient())",
    ]);
    assert.notEqual(required.status, 0);
    assert.match(required.stderr, /REFUSED: client-node required/);
  });

  for (const args of [
    ['git', 'list'],
    ['sql', 'select count(*) as commits from commits'],
    ['token', 'create', 'ci', '--services', '*', '--actions', 'read'],
    ['token', 'list'],
  ]) {
    it(`cadence ${args.join(' ')} runs without loading it`, () => {
      const result = run([main, ...args, '--data-dir', dataDir]);
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /REFUSED/);
    });
  }

  it('cadence serve without a kube section starts and stops without loading it', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', refuseKubeClient, main, 'serve', '--port', '0'],
      {
        cwd: root,
        env: {
          ...process.env,
          CADENCE_CONFIG: '',
          CADENCE_DATA_DIR: join(work, 'served'),
          CADENCE_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"cadence listening"')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.doesNotMatch(output, /REFUSED/);
  });
});
