import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { clusterServer, loadKubeConfig } from '../../src/kube/index.js';
import { CadenceError } from '../../src/problem/index.js';
import { kubeconfigYaml } from '../support/kube-apiserver/index.js';

describe('kube settings and kubeconfig', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-kubeconfig-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const file = join(work, 'kubeconfig');
  writeFileSync(file, kubeconfigYaml('http://127.0.0.1:6443', { token: 't0ken' }));

  it('is off by default, with all namespaces', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.kube, {
      namespaces: [],
      watch: false,
      lateCompletionGraceSeconds: 3600,
      rolloutStreams: 100,
    });
  });

  it('refuses an unknown key in the kube section', () => {
    const yaml = join(work, 'bad.yaml');
    writeFileSync(yaml, 'kube:\n  watchh: true\n');
    assert.throws(
      () => loadConfig({ file: yaml, env: {} }),
      (error: unknown) => {
        assert.ok(error instanceof CadenceError);
        assert.match(error.message, /watchh/);
        return true;
      },
    );
  });

  it('loads a kubeconfig file and its context', () => {
    const config = loadKubeConfig({ kubeconfig: file, context: 'test' });
    assert.equal(clusterServer(config), 'http://127.0.0.1:6443');
    assert.equal(config.getCurrentUser()?.token, 't0ken');
  });

  it('names the setting at fault for a missing file or context', () => {
    const fault = (settings: Parameters<typeof loadKubeConfig>[0], field: string) =>
      assert.throws(
        () => loadKubeConfig(settings),
        (error: unknown) =>
          error instanceof CadenceError && error.code === 'config-invalid' && error.field === field,
      );
    fault({ kubeconfig: join(work, 'missing') }, 'kube.kubeconfig');
    fault({ kubeconfig: file, context: 'production' }, 'kube.context');
  });
});
