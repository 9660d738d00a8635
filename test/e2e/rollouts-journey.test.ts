/**
 * The rollout journey with real parts: the test Kubernetes API server, the real kubectl and the
 * built `cadence serve` with the watcher on. kubectl applies Deployments; Cadence, through
 * client-node and a kubeconfig only, records their rollouts, sends their CDEvents through the
 * intake, and the DORA metrics count them. A watch dropped mid-rollout is resumed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Rollout } from '../../src/rollouts/index.js';
import {
  cadenceBin,
  runCadence,
  startCadence,
  type CadenceProcess,
} from '../support/cadence-process.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { applyFlags, kubectl } from '../support/kube-apiserver/kubectl.js';
import { pollUntil } from '../support/poll-until.js';

const eventually = <T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) =>
  pollUntil(check, what, { timeoutMs });

function deployment(name: string, image: string, replicas = 3): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: production
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: ${name}
        image: ${image}
`;
}

describe('cluster rollouts become deployments in the DORA metrics', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-rollouts-'));
  let kube: KubeApiServer;
  let cadence: CadenceProcess;
  const apply = async (manifest: string) => {
    const result = await kubectl(
      kube.kubeconfigPath,
      ['apply', '--server-side', ...applyFlags(), '-f', '-'],
      manifest,
    );
    assert.equal(result.status, 0, result.stderr);
  };
  const history = async (name: string) => {
    const response = await fetch(`${cadence.url}/api/v1/rollouts/production/${name}`);
    if (response.status === 404) return [];
    assert.equal(response.status, 200);
    return ((await response.json()) as { rollouts: Rollout[] }).rollouts;
  };
  const finished = (name: string, revision: string, phase: Rollout['phase']) =>
    eventually(async () => {
      const rows = await history(name);
      return rows[0]?.revision === revision && rows[0].phase === phase ? rows : undefined;
    }, `${name}@${revision} ${phase}`);
  const metrics = async (service: string) => {
    const response = await fetch(`${cadence.url}/api/v1/metrics?service=${service}`);
    assert.equal(response.status, 200);
    return (
      (await response.json()) as {
        overall: {
          deployments: number;
          changeFailureRate: { numerator: number; denominator: number };
        };
      }
    ).overall;
  };

  before(async () => {
    kube = await startKubeApiServer({ stepIntervalMs: 30 });
    await apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: production}\n');
    const config = join(work, 'cadence.yaml');
    writeFileSync(
      config,
      `kube:\n  kubeconfig: ${kube.kubeconfigPath}\n  namespaces: [production]\n  watch: true\nrouter:\n  pollIntervalMs: 100\n`,
    );
    cadence = await startCadence(['--config', config, '--data-dir', join(work, 'data')]);
    // The watcher starts after the server listens; a rollout it first sees finished sends nothing.
    await eventually(
      async () =>
        kube.requests.some((request) => request.query.watch === 'true') ? true : undefined,
      'the watcher watching',
    );
  });
  after(async () => {
    if (cadence && cadence.child.exitCode === null) {
      cadence.child.kill('SIGTERM');
      await cadence.exited;
    }
    await kube?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('records a kubectl-applied rollout as complete and counts it as a deployment', async () => {
    await apply(deployment('web', 'registry.example/web:1.0'));
    const [rollout] = await finished('web', '1', 'complete');
    assert.deepEqual(rollout!.images, ['registry.example/web:1.0']);
    assert.equal(rollout!.progress, 1);
    assert.ok(rollout!.endedAt && rollout!.durationMs !== null);
    const overall = await eventually(async () => {
      const value = await metrics('web');
      return value.deployments === 1 ? value : undefined;
    }, 'the deployment in /api/v1/metrics');
    assert.equal(overall.changeFailureRate.denominator, 1);
    const prometheus = await (await fetch(`${cadence.url}/metrics`)).text();
    assert.match(
      prometheus,
      /cadence_rollout_progress_ratio\{namespace="production",deployment="web"\} 1/,
    );
  });

  it('records a rollout past its progress deadline as failed; replaced, it is a failed deployment', async () => {
    kube.controller.failNextRollout('production', 'api');
    await apply(deployment('api', 'registry.example/api:1.0', 2));
    const [rollout] = await finished('api', '1', 'failed');
    assert.equal(rollout!.reason, 'ProgressDeadlineExceeded');
    // Within kube.lateCompletionGraceSeconds it may still complete: replaced by a fix, it won't.
    await apply(deployment('api', 'registry.example/api:1.1', 2));
    await finished('api', '2', 'complete');
    const overall = await eventually(async () => {
      const value = await metrics('api');
      return value.changeFailureRate.denominator === 2 ? value : undefined;
    }, 'the failed deployment in /api/v1/metrics');
    assert.equal(overall.changeFailureRate.numerator, 1);
    assert.equal(overall.deployments, 1);
  });

  it('resumes after the watch is dropped mid-rollout: one rollout, completion not missed', async () => {
    const watches = () => kube.requests.filter((request) => request.query.watch === 'true').length;
    kube.controller.pause();
    try {
      await apply(deployment('web', 'registry.example/web:2.0', 4));
      kube.controller.step();
      kube.controller.step();
      await eventually(async () => {
        const rows = await history('web');
        return rows[0]?.revision === '2' && rows[0].updated === 1 ? true : undefined;
      }, 'the upgrade in progress');
      const before = watches();
      assert.ok(kube.dropWatches() >= 1);
      for (let step = 0; step < 6; step += 1) kube.controller.step();
      await eventually(async () => (watches() > before ? true : undefined), 'a new watch');
    } finally {
      kube.controller.resume();
    }
    const rows = await finished('web', '2', 'complete');
    assert.deepEqual(
      rows.map((row) => `${row.revision}:${row.phase}`),
      ['2:complete', '1:complete'],
    );
    await eventually(async () => {
      const value = await metrics('web');
      return value.deployments === 2 ? value : undefined;
    }, 'two deployments of web');
  });

  it('cadence rollouts lists them, and --watch prints a line per change', async () => {
    const listed = runCadence(['rollouts', '--server', cadence.url]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /production\/web\s+2\s+complete\s+4\/4 \(100%\)/);
    assert.match(listed.stdout, /production\/api\s+2\s+complete/);
    const json = runCadence(['rollouts', '--server', cadence.url, '--json', '--phase', 'complete']);
    assert.deepEqual(
      (JSON.parse(json.stdout) as { rollouts: Rollout[] }).rollouts.map((r) => r.deployment).sort(),
      ['api', 'web'],
    );
    const bad = runCadence(['rollouts', '--server', cadence.url, '--phase', 'exploded']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--phase/);

    const watching = spawn(
      process.execPath,
      [cadenceBin, 'rollouts', '--watch', '--server', cadence.url, '--deployment', 'cart'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    watching.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const line = (pattern: RegExp) =>
      eventually(async () => (pattern.test(output) ? true : undefined), `a line ${pattern}`);
    kube.controller.pause();
    try {
      await apply(deployment('cart', 'registry.example/cart:1.0', 2));
      kube.controller.step();
      kube.controller.step();
      await line(/production\/cart revision=1 phase=progressing updated=1\/2 progress=50%/);
      kube.controller.resume();
      await line(/production\/cart revision=1 phase=complete updated=2\/2 progress=100%/);
    } finally {
      kube.controller.resume();
      watching.kill('SIGTERM');
    }
  });

  it('shuts down gracefully with the watcher running', async () => {
    cadence.child.kill('SIGTERM');
    const { code } = await cadence.exited;
    assert.equal(code, 0);
  });
});
