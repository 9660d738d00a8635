/**
 * Issue 17 with real parts, on both engines: the test Kubernetes API server, the real kubectl,
 * the built `cadence serve` with the watcher on, a real Prometheus scraping it. `kubectl scale`
 * shows within one watch event; a rollout past its deadline that completes late is complete
 * (and, by default, not a failed deployment); `kubectl delete` removes the Deployment from the
 * live view, the stream and `/metrics`; a Cadence restarted mid-rollout records it once with
 * its completion, and `cadence rollouts --watch` carries on across the restart. Every PromQL
 * query of grafana/rollouts.json returns what the API gives.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LiveRollout, Rollout } from '../../src/rollouts/index.js';
import { cadenceBin, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { createThrowawayDatabase, engines } from '../support/engines.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { applyFlags, kubectl } from '../support/kube-apiserver/kubectl.js';
import { pollUntil } from '../support/poll-until.js';
import { createTestPrometheus, freePort, type TestPrometheus } from '../support/prometheus.js';

const eventually = <T>(check: () => Promise<T | undefined>, what: string) =>
  pollUntil(check, what, { timeoutMs: 45_000 });

function deployment(name: string, image: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: ${name}, image: "${image}"}]}
`;
}

interface PromPanel {
  title: string;
  targets?: { expr: string; instant?: boolean }[];
}
const promDashboard = JSON.parse(
  readFileSync(new URL('../../grafana/rollouts.json', import.meta.url), 'utf8'),
) as { panels: PromPanel[] };
const promQuery = (title: string) => {
  const panel = promDashboard.panels.find((p) => p.title === title && p.targets);
  assert.ok(panel, `panel ${title}`);
  // Grafana's substitution for the All value of $namespace (allValue .*).
  return panel.targets![0]!.expr.replaceAll('$namespace', '.*');
};

/** Prometheus's histogram_quantile over cumulative bucket counts (linear within a bucket). */
function histogramQuantile(q: number, seconds: number[], buckets: number[]): number {
  const rank = q * seconds.length;
  let lower = 0;
  let below = 0;
  for (const upper of buckets) {
    const within = seconds.filter((s) => s <= upper).length;
    if (within >= rank) return lower + ((upper - lower) * (rank - below)) / (within - below);
    lower = upper;
    below = within;
  }
  return buckets[buckets.length - 1]!;
}

for (const engine of engines) {
  describe(`rollouts follow the cluster (${engine})`, () => {
    const work = mkdtempSync(join(tmpdir(), 'cadence-follow-'));
    let kube: KubeApiServer;
    let cadence: CadenceProcess;
    let prometheus: TestPrometheus;
    let database: Awaited<ReturnType<typeof createThrowawayDatabase>> | undefined;
    let args: string[];
    let url: string;
    const run = async (command: string[], input?: string) => {
      const result = await kubectl(kube.kubeconfigPath, command, input);
      assert.equal(result.status, 0, result.stderr);
      return result;
    };
    const apply = (manifest: string) =>
      run(['apply', '--server-side', ...applyFlags(), '-f', '-'], manifest);
    const get = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${url}${path}`);
      assert.equal(response.status, 200, path);
      return (await response.json()) as T;
    };
    const live = async (name?: string) => {
      const { rollouts } = await get<{ rollouts: LiveRollout[] }>('/api/v1/rollouts');
      return name ? rollouts.find((r) => r.deployment === name) : rollouts;
    };
    const liveOne = async (name: string) => (await live(name)) as LiveRollout | undefined;
    const history = async (name: string) => {
      const response = await fetch(`${url}/api/v1/rollouts/shop/${name}`);
      if (response.status === 404) return [];
      return ((await response.json()) as { rollouts: Rollout[] }).rollouts;
    };
    const instant = async (expr: string) => {
      const response = await fetch(
        `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      const body = (await response.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result;
    };

    before(async () => {
      kube = await startKubeApiServer({ stepIntervalMs: 30 });
      await apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
      const config = join(work, 'cadence.yaml');
      const port = await freePort();
      writeFileSync(
        config,
        `server:\n  port: ${port}\nkube:\n  kubeconfig: ${kube.kubeconfigPath}\n  namespaces: [shop]\n  watch: true\nrouter:\n  pollIntervalMs: 100\n`,
      );
      database = engine === 'postgres' ? await createThrowawayDatabase() : undefined;
      args = [
        '--config',
        config,
        '--port',
        String(port),
        ...(database ? ['--database-url', database.url] : ['--data-dir', join(work, 'data')]),
      ];
      cadence = await startCadence(args);
      url = cadence.url;
      prometheus = await createTestPrometheus({
        targets: [`127.0.0.1:${port}`],
        scrapeIntervalMs: 500,
      });
      await eventually(
        async () => (kube.requests.some((r) => r.query.watch === 'true') ? true : undefined),
        'the watcher watching',
      );
    });
    after(async () => {
      if (cadence && cadence.child.exitCode === null) {
        cadence.child.kill('SIGTERM');
        await cadence.exited;
      }
      await prometheus?.dispose();
      await kube?.close();
      await database?.drop();
      rmSync(work, { recursive: true, force: true });
    });

    it('kubectl scale: the new counts within one watch event, the rollout record kept', async () => {
      await apply(deployment('web', 'registry.example/web:1.0', 3));
      await eventually(
        async () => ((await liveOne('web'))?.phase === 'complete' ? true : undefined),
        'web complete',
      );
      kube.controller.pause();
      try {
        await run(['scale', 'deployment/web', '--replicas=6', '-n', 'shop']);
        assert.equal(kube.controller.step(), 1); // the controller's one status write
        const scaling = await eventually(async () => {
          const now = await liveOne('web');
          return now?.desired === 6 ? now : undefined;
        }, 'desired 6 in the live view');
        assert.deepEqual([scaling.updated, scaling.phase], [4, 'progressing']);
      } finally {
        kube.controller.resume();
      }
      const scaled = await eventually(async () => {
        const now = await liveOne('web');
        return now?.available === 6 && now.phase === 'complete' ? now : undefined;
      }, '6/6');
      assert.equal(scaled.progress, 1);
      const records = await history('web');
      assert.equal(records.length, 1, 'a scale is not a rollout');
      assert.equal(records[0]!.desired, 3);
    });

    it('past its progress deadline, then complete: complete, the miss kept, no failed deployment', async () => {
      kube.controller.failNextRollout('shop', 'api');
      await apply(deployment('api', 'registry.example/api:1.0', 2));
      const missed = await eventually(async () => {
        const now = await liveOne('api');
        return now?.phase === 'failed' ? now : undefined;
      }, 'api failed');
      assert.equal(missed.reason, 'ProgressDeadlineExceeded');
      assert.ok(kube.controller.completeStalledRollout('shop', 'api'));
      const late = await eventually(async () => {
        const now = await liveOne('api');
        return now?.phase === 'complete' ? now : undefined;
      }, 'api complete late');
      assert.equal(`${late.updated}/${late.desired}`, '2/2');
      assert.equal(late.progress, 1);
      assert.ok(late.deadlineExceededAt);
      const metrics = await eventually(async () => {
        const { overall } = await get<{
          overall: {
            deployments: number;
            changeFailureRate: { numerator: number; denominator: number };
          };
        }>('/api/v1/metrics?service=api&environment=shop');
        return overall.deployments === 1 ? overall : undefined;
      }, 'api counted');
      assert.equal(
        metrics.changeFailureRate.numerator,
        0,
        'the default: a late completion is not a failure',
      );
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.match(
        text,
        /cadence_rollout_phase\{namespace="shop",deployment="api",phase="complete"\} 1/,
      );
      assert.match(text, /cadence_rollout_progress_ratio\{namespace="shop",deployment="api"\} 1/);
    });

    it('the Grafana PromQL panels return what the API gives', async () => {
      const rollouts = (await live()) as LiveRollout[];
      const completed = (await Promise.all(rollouts.map((r) => history(r.deployment))))
        .flat()
        .filter((r) => r.phase === 'complete');
      // Prometheus has scraped the current state once the ratios agree.
      await eventually(async () => {
        const result = await instant(promQuery('Rollout progress'));
        const count = await instant(promQuery('Completed rollouts'));
        return result.length === rollouts.length &&
          rollouts.every((r) =>
            result.some(
              (s) => s.metric.deployment === r.deployment && Number(s.value[1]) === r.progress,
            ),
          ) &&
          Number(count[0]?.value[1]) === completed.length
          ? true
          : undefined;
      }, 'Prometheus caught up');
      const phases = await instant(promQuery('Rollout phase'));
      assert.deepEqual(
        phases.map((s) => `${s.metric.deployment} ${s.metric.phase}`).sort(),
        rollouts.map((r) => `${r.deployment} ${r.phase}`).sort(),
      );
      const replicas = await instant(promQuery('Replicas'));
      for (const r of rollouts) {
        for (const kind of ['desired', 'updated', 'ready', 'available'] as const) {
          const sample = replicas.find(
            (s) => s.metric.deployment === r.deployment && s.metric.kind === kind,
          );
          assert.equal(Number(sample?.value[1]), r[kind], `${r.deployment} ${kind}`);
        }
      }
      const seconds = completed.map((r) => r.durationMs! / 1000);
      const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
      const [meanSample] = await instant(promQuery('Mean rollout duration'));
      assert.ok(
        Math.abs(Number(meanSample!.value[1]) - mean) < 1e-3,
        `${meanSample!.value[1]} vs ${mean}`,
      );
      for (const sample of await instant(promQuery('Mean duration per Deployment'))) {
        const own = completed
          .filter((r) => r.deployment === sample.metric.deployment)
          .map((r) => r.durationMs! / 1000);
        const expected = own.reduce((a, b) => a + b, 0) / own.length;
        assert.ok(Math.abs(Number(sample.value[1]) - expected) < 1e-3, sample.metric.deployment);
      }
      const { ROLLOUT_DURATION_BUCKETS } = await import('../../src/rollouts/rollout-metrics.js');
      for (const sample of await instant(promQuery('Rollout duration p90'))) {
        const own = completed
          .filter((r) => r.deployment === sample.metric.deployment)
          .map((r) => r.durationMs! / 1000);
        const expected = histogramQuantile(0.9, own, ROLLOUT_DURATION_BUCKETS);
        assert.ok(
          Math.abs(Number(sample.value[1]) - expected) < 1e-6,
          `${sample.metric.deployment} p90`,
        );
      }
    });

    it('kubectl delete: gone from the live view, the stream, /metrics and Prometheus; history kept', async () => {
      const controller = new AbortController();
      const stream = await fetch(`${url}/api/v1/rollouts/stream?deployment=api`, {
        signal: controller.signal,
      });
      const reader = stream.body!.getReader();
      let text = '';
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })().catch(() => undefined);
      await run(['delete', 'deployment', 'api', '-n', 'shop']);
      await eventually(
        async () => ((await liveOne('api')) ? undefined : true),
        'api gone from the API',
      );
      await eventually(
        async () => (text.includes('event: deleted') ? true : undefined),
        'the stream says so',
      );
      controller.abort();
      await reading;
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.doesNotMatch(metrics, /deployment="api"/);
      await eventually(
        async () =>
          (await instant('cadence_rollout_phase{deployment="api"}')).length === 0
            ? true
            : undefined,
        'api series gone from Prometheus',
      );
      const kept = await history('api');
      assert.equal(kept.length, 1);
      assert.ok(kept[0]!.deletedAt);
    });

    it('Cadence restarted mid-rollout: one record, its completion, and --watch carries on', async () => {
      const watching = spawn(
        process.execPath,
        [cadenceBin, 'rollouts', '--watch', '--server', url, '--deployment', 'web'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      let errors = '';
      watching.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      watching.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      try {
        await eventually(
          async () => (/shop\/web revision=1 phase=complete/.test(output) ? true : undefined),
          'watch started',
        );
        kube.controller.pause();
        try {
          await apply(deployment('web', 'registry.example/web:2.0', 6));
          kube.controller.step();
          kube.controller.step();
          await eventually(async () => {
            const rows = await history('web');
            return rows[0]?.revision === '2' && rows[0].updated >= 1 ? true : undefined;
          }, 'web@2 in progress');
          await eventually(
            async () => (/shop\/web revision=2 phase=progressing/.test(output) ? true : undefined),
            'watch saw it',
          );
          cadence.child.kill('SIGTERM');
          assert.equal((await cadence.exited).code, 0);
          for (let step = 0; step < 12; step += 1) kube.controller.step();
          cadence = await startCadence(args);
        } finally {
          kube.controller.resume();
        }
        const rows = await eventually(async () => {
          const records = await history('web');
          return records[0]?.revision === '2' && records[0].phase === 'complete'
            ? records
            : undefined;
        }, 'web@2 complete after the restart');
        assert.deepEqual(
          rows.map((r) => `${r.revision}:${r.phase}`),
          ['2:complete', '1:complete'],
        );
        await eventually(
          async () =>
            /shop\/web revision=2 phase=complete updated=6\/6/.test(output) ? true : undefined,
          '--watch shows the completion after the restart',
        );
        assert.match(errors, /lost the stream/);
        assert.match(errors, /reconnected/);
        const lines = output
          .split('\n')
          .filter((line) => line.includes('revision=2 phase=complete'));
        assert.equal(lines.length, 1, 'resumed, not replayed');
        await eventually(async () => {
          const { overall } = await get<{ overall: { deployments: number } }>(
            '/api/v1/metrics?service=web&environment=shop',
          );
          return overall.deployments === 2 ? true : undefined;
        }, 'web counted twice: revision 1 and 2, no duplicate');
      } finally {
        watching.kill('SIGTERM');
      }
    });
  });
}
