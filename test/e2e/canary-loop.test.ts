/**
 * The whole loop end to end: `cadence serve` (the built CLI) with the deployer and the canary
 * analysis both on; a real git repository with the service's manifests, its images pushed to the
 * real docker-registry, the test Kubernetes API server reached through a kubeconfig, and a real
 * Prometheus (Debian `prometheus`) judged by the analysis. `cadence canary web --commit X --wait`
 * applies the canary and blocks until the verdict, which the deployer carries out (promote, or
 * remove the canary).
 *
 * The one stand-in: the test API server runs no containers, so the Deployments' pods serve no
 * traffic. Two demo apps (prom-client golden signals, labelled service=web, namespace=production,
 * track=stable / track=canary) stand in for the stable and canary pods, Prometheus scrapes them
 * and a bounded loopback load generator sends them traffic; the test makes the canary demo app
 * regress (errors) when the canary it stands for is meant to be bad.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { cadenceBin, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { startDemoApp, startLoad, type DemoApp } from '../support/demo-app.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { createTestPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { pollUntil } from '../support/poll-until.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs the CLI without blocking this process (its demo apps must keep answering). */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cadenceBin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    // A guard for a loaded machine: a hang fails the test instead of stalling the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const eventually = <T>(what: string, check: () => T | undefined | Promise<T | undefined>) =>
  pollUntil(check, what, { timeoutMs: 60_000, intervalMs: 100 });

describe('the canary loop: deploy, canary, judge on Prometheus, promote or roll back', () => {
  let registry: TestRegistry;
  let kube: KubeApiServer;
  let fixture: DeployFixture;
  let prometheus: TestPrometheus;
  let load: ReturnType<typeof startLoad>;
  let stableApp: DemoApp;
  let canaryApp: DemoApp;
  let cadence: CadenceProcess;
  let token: string;
  const dir = mkdtempSync(join(tmpdir(), 'cadence-canary-loop-'));
  const commits: string[] = [];
  const cli = (args: string[]) =>
    runCli([...args, '--server', cadence.url], {
      CADENCE_TOKEN: token,
      CADENCE_CREDENTIALS: join(dir, 'none.yaml'),
    });
  const deployment = (name: string) =>
    kube.get('apps', 'deployments', 'production', name) as Json | undefined;
  const image = (commit: string) => `${registry.host}/web:main-${commit.slice(0, 7)}`;
  /** Resolves when Cadence's router has routed every event it accepted (its backlog is 0). */
  const routedAll = () =>
    eventually('the router to route every accepted event', async () => {
      const response = await fetch(`${cadence.url}/metrics`);
      assert.equal(response.status, 200);
      const backlog = /^cadence_router_backlog_events (\d+)$/m.exec(await response.text());
      assert.ok(backlog, 'the backlog gauge is exported');
      return backlog[1] === '0' || undefined;
    });
  const live = async () => {
    const response = await fetch(`${cadence.url}/api/v1/metrics?service=web&environment=live`);
    assert.equal(response.status, 200);
    return ((await response.json()) as Json).overall as Json;
  };

  before(async () => {
    registry = await startRegistry({ kind: 'token', username: 'ci', password: 's3cret' });
    kube = await startKubeApiServer({ stepIntervalMs: 20 });
    const namespace = await kubectl(
      kube.kubeconfigPath,
      ['apply', '--server-side', '-f', '-'],
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: production }\n',
    );
    assert.equal(namespace.status, 0, namespace.stderr);
    fixture = await createDeployFixture(registry);
    for (let i = 0; i < 3; i++) commits.push(await fixture.commit());

    stableApp = await startDemoApp({ service: 'web', namespace: 'production', track: 'stable' });
    canaryApp = await startDemoApp({ service: 'web', namespace: 'production', track: 'canary' });
    prometheus = await createTestPrometheus({
      targets: [stableApp.target, canaryApp.target],
      scrapeIntervalMs: 1000,
    });
    load = startLoad([stableApp, canaryApp], { ratePerSecond: 10 });

    // client-node refuses plain http unless TLS verification is declared off (kubectl ignores it).
    const kubeconfig = join(dir, 'kubeconfig');
    const text = readFileSync(kube.kubeconfigPath, 'utf8');
    writeFileSync(
      kubeconfig,
      text.includes('insecure-skip-tls-verify')
        ? text
        : text.replace(/^(\s+)server: (.*)$/m, '$1server: $2\n$1insecure-skip-tls-verify: true'),
    );
    const configFile = join(dir, 'cadence.yaml');
    writeFileSync(
      configFile,
      stringify({
        router: { pollIntervalMs: 100 },
        kube: { kubeconfig },
        deployer: {
          enabled: true,
          cacheDir: join(dir, 'repositories'),
          services: {
            web: {
              repository: fixture.repo.dir,
              namespace: 'production',
              // Its own DORA environment, not the analysis's default ('production'): the
              // verdicts must count where the service's deploys do.
              environment: 'live',
              registry: { url: registry.url, username: 'ci', password: 's3cret' },
              canaryReplicas: 1,
            },
          },
        },
        // Seconds-long intervals, as the analysis e2e files use, so the file stays bounded.
        analysis: {
          prometheusUrl: prometheus.url,
          pollIntervalMs: 250,
          defaults: {
            warmupSeconds: 2,
            intervalSeconds: 6,
            intervals: 2,
            stepSeconds: 1,
            sampleWindowSeconds: 4,
            maxInconclusive: 4,
            evaluationDelaySeconds: 1,
            metrics: [
              { name: 'error-rate', critical: true, allowedIncrease: 1.2, minSamples: 5 },
              { name: 'latency-p95', minSamples: 5 },
            ],
          },
        },
      }),
    );
    const store = ['--config', configFile, '--data-dir', join(dir, 'data')];
    const created = await runCli(
      [
        'token',
        'create',
        'ci',
        '--services',
        'web',
        '--actions',
        'read,deploy,canary,promote,rollback',
        '--json',
        ...store,
      ],
      {},
    );
    assert.equal(created.status, 0, created.stderr);
    token = (JSON.parse(created.stdout) as { token: string }).token;
    cadence = await startCadence(store);
    // The first interval's 4 s windows need 4 s of history (5 scrapes, one a second).
    await prometheus.scraped(5);
  });

  after(async () => {
    if (cadence && cadence.child.exitCode === null) {
      cadence.child.kill('SIGTERM');
      await cadence.exited;
    }
    await load?.stop();
    await prometheus?.dispose();
    await stableApp?.close();
    await canaryApp?.close();
    await kube?.close();
    await registry?.stop();
    fixture?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('journey 1: stable at A, a healthy canary at B is judged and promoted (exit 0)', async () => {
    const [a, b] = [commits[0]!, commits[1]!];
    const deployed = await cli(['deploy', 'web', '--commit', a]);
    assert.equal(deployed.status, 0, deployed.stderr);
    assert.equal(deployment('web')!.spec.template.spec.containers[0].image, image(a));

    const waited = await cli(['canary', 'web', '--commit', b, '--wait', '--timeout', '120']);
    assert.equal(waited.status, 0, `${waited.stdout}${waited.stderr}`);
    assert.match(waited.stdout, /analysis canary-\S+: promoted \(pass\)/);
    // `--wait` streams each interval's judgement as it lands (stderr), not only the verdict.
    assert.match(waited.stderr, /^interval 0: pass/m);

    // The deployer carried the verdict out in the cluster: stable runs B, the canary is gone.
    assert.equal(deployment('web-canary'), undefined);
    const stable = deployment('web')!;
    assert.equal(stable.spec.template.spec.containers[0].image, image(b));
    assert.equal(stable.spec.template.metadata.labels.track, 'stable');
    const version = JSON.parse((await cli(['version', 'web', '--json'])).stdout) as Json;
    assert.equal(version.stable.commit, b);
    assert.equal(version.canary ?? undefined, undefined);

    const analyses = (await (await fetch(`${cadence.url}/api/v1/analyses`)).json()) as Json;
    const analysis = (analyses.analyses as Json[]).find((entry) => entry.status === 'promoted')!;
    assert.equal(analysis.service, 'web');
    assert.equal(analysis.namespace, 'production');
    assert.equal(analysis.revision, `main-${b.slice(0, 7)}`);
    assert.equal(analysis.actionResult.applied, true, JSON.stringify(analysis.actionResult));
    assert.equal(analysis.actionResult.recorded, true, 'the deployer recorded the promotion');

    // DORA in the service's environment: the first deploy and the promotion, once each; nothing failed.
    const metrics = await eventually('the deploy and the promotion count', async () => {
      const overall = await live();
      return overall.deployments >= 2 ? overall : undefined;
    });
    // Once the router has routed everything accepted, the count is final: it must stay 2.
    await routedAll();
    const settled = await live();
    assert.equal(settled.deployments, 2, JSON.stringify(settled));
    assert.equal(settled.changeFailureRate.numerator, 0);
    assert.equal(metrics.changeFailureRate.numerator, 0);
  });

  it('journey 2: a canary at C with raised errors is rolled back (exit 2), stable untouched', async () => {
    const [b, c] = [commits[1]!, commits[2]!];
    canaryApp.set({ errorRatio: 0.3 });
    // Let the regression reach Prometheus's samples before the canary's analysis starts.
    await eventually('the canary errors in Prometheus', async () => {
      const [errors] = await prometheus.values(
        'sum(http_requests_total{service="web",track="canary",code="500"})',
      );
      return (errors ?? 0) > 0 || undefined;
    });
    const waited = await cli(['canary', 'web', '--commit', c, '--wait', '--timeout', '120']);
    assert.equal(waited.status, 2, `${waited.stdout}${waited.stderr}`);
    assert.match(waited.stdout, /analysis canary-\S+: rolled-back \(fail\)/);

    assert.equal(deployment('web-canary'), undefined, 'the failed canary is removed');
    assert.equal(deployment('web')!.spec.template.spec.containers[0].image, image(b));
    const version = JSON.parse((await cli(['version', 'web', '--json'])).stdout) as Json;
    assert.equal(version.stable.commit, b, 'stable is not rolled back');

    const analyses = (await (await fetch(`${cadence.url}/api/v1/analyses`)).json()) as Json;
    const failed = (analyses.analyses as Json[]).find((entry) => entry.status === 'rolled-back')!;
    assert.equal(failed.revision, `main-${c.slice(0, 7)}`);
    assert.equal(failed.verdict, 'fail');
    assert.equal(failed.actionResult.applied, true, JSON.stringify(failed.actionResult));

    // The failed canary counts as a failed change: 1 of 3 deployments in its environment.
    const metrics = await eventually('the failed canary counts', async () => {
      const overall = await live();
      return overall.changeFailureRate.denominator >= 3 ? overall : undefined;
    });
    await routedAll();
    const settled = await live();
    assert.equal(settled.changeFailureRate.denominator, 3, JSON.stringify(settled));
    assert.equal(settled.changeFailureRate.numerator, 1, JSON.stringify(settled));
    assert.equal(metrics.changeFailureRate.numerator, 1);
  });
});
