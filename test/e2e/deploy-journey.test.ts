/**
 * The deployer end to end, every part real: `cadence serve` (the built CLI) with the deployer
 * on, a real git repository, the real docker-registry with the bearer-token flow, the test
 * Kubernetes API server reached through a kubeconfig (the same client-node path as a real
 * cluster), curl and the `cadence` CLI as the clients, and a local webhook receiver.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { cadenceBin, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { createDeployFixture, type DeployFixture } from '../support/deploy-fixture.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { kubectl } from '../support/kube-apiserver/kubectl.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';
import { pollUntil } from '../support/poll-until.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function curl(args: string[]): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', [
      '--silent',
      '--show-error',
      '--write-out',
      '\n%{http_code}',
      ...args,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`curl exited ${code}: ${err}`));
      const newline = out.lastIndexOf('\n');
      resolve({
        status: Number(out.slice(newline + 1)),
        body: JSON.parse(out.slice(0, newline) || '{}') as Json,
      });
    });
  });
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cadenceBin, ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    // A generous bound for a loaded machine: a hang fails the test instead of stalling the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const eventually = <T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
) => pollUntil(check, what, { timeoutMs: 60_000, intervalMs: 50 });

describe('deployer journey: cadence serve + git + docker-registry + Kubernetes API', () => {
  let registry: TestRegistry;
  let kube: KubeApiServer;
  let fixture: DeployFixture;
  let cadence: CadenceProcess;
  let webhook: Server;
  let dir: string;
  let configFile: string;
  let ci: string;
  let other: string;
  const notifications: Json[] = [];
  let first: string;
  let second: string;
  const cli = (args: string[], token = ci) =>
    runCli([...args, '--server', cadence.url], {
      CADENCE_TOKEN: token,
      CADENCE_CREDENTIALS: join(dir, 'none.yaml'),
    });
  const deployment = (name: string) =>
    kube.get('apps', 'deployments', 'production', name) as Json | undefined;
  const pods = () => kube.list('', 'pods', 'production') as Json[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadence-deploy-e2e-'));
    registry = await startRegistry({ kind: 'token', username: 'ci', password: 's3cret' });
    kube = await startKubeApiServer({ stepIntervalMs: 20 });
    const namespace = await kubectl(
      kube.kubeconfigPath,
      ['apply', '--server-side', '-f', '-'],
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: production }\n',
    );
    assert.equal(namespace.status, 0, namespace.stderr);
    fixture = await createDeployFixture(registry);
    first = await fixture.commit();
    second = await fixture.commit();
    webhook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        notifications.push(JSON.parse(body) as Json);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    // client-node refuses plain http unless TLS verification is declared off (kubectl ignores it).
    const kubeconfig = join(dir, 'kubeconfig');
    const text = readFileSync(kube.kubeconfigPath, 'utf8');
    writeFileSync(
      kubeconfig,
      text.includes('insecure-skip-tls-verify')
        ? text
        : text.replace(/^(\s+)server: (.*)$/m, '$1server: $2\n$1insecure-skip-tls-verify: true'),
    );
    configFile = join(dir, 'cadence.yaml');
    writeFileSync(
      configFile,
      stringify({
        kube: { kubeconfig },
        deployer: {
          enabled: true,
          cacheDir: join(dir, 'repositories'),
          services: {
            web: {
              repository: fixture.repo.dir,
              namespace: 'production',
              registry: { url: registry.url, username: 'ci', password: 's3cret' },
              canaryReplicas: 1,
            },
          },
          notify: {
            webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/slack`,
          },
        },
      }),
    );
    const store = ['--config', configFile, '--data-dir', join(dir, 'data')];
    const refused = await runCli(['serve', '--port', '0', ...store], {});
    assert.notEqual(refused.status, 0, 'no tokens: the server must refuse to start');
    assert.match(refused.stderr, /no tokens exist.*cadence token create/);

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
    ci = (JSON.parse(created.stdout) as { token: string }).token;
    const otherCreated = await runCli(
      ['token', 'create', 'other', '--services', 'api', '--actions', 'read,deploy', ...store],
      {},
    );
    other = otherCreated.stdout.split('\n')[0]!;
    assert.match(other, /^other:cdt_/);
    cadence = await startCadence(store);
  });

  after(async () => {
    cadence?.child.kill('SIGTERM');
    await cadence?.exited;
    if (webhook) await new Promise((resolve) => webhook.close(resolve));
    await kube?.close();
    await registry?.stop();
    fixture?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys at a commit with curl --data: the Deployment is applied with the image and labels, rolls out, and counts in DORA', async () => {
    const [name, secret] = [ci.slice(0, ci.indexOf(':')), ci.slice(ci.indexOf(':') + 1)];
    const url = new URL(cadence.url);
    const response = await curl([
      '--data',
      `commit=${first.slice(0, 7)}`,
      `http://${name}:${secret}@${url.host}/deployer/web/deploy`,
    ]);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.commit, first);
    const live = deployment('web')!;
    const container = live.spec.template.spec.containers[0];
    assert.equal(container.image, `${registry.host}/web:main-${first.slice(0, 7)}`);
    assert.equal(live.spec.template.spec.containers[1].image, 'debian:wheezy');
    assert.deepEqual(live.spec.template.metadata.labels, {
      app: 'web',
      track: 'stable',
      version: `main-${first.slice(0, 7)}`,
    });
    assert.ok(
      container.env.some(
        (entry: Json) => entry.name === 'CADENCE_TRACK' && entry.value === 'stable',
      ),
    );
    assert.ok(
      (live.metadata.managedFields as Json[]).some(
        (entry) => entry.manager === 'cadence' && entry.operation === 'Apply',
      ),
      'applied server-side by field manager cadence',
    );
    const patches = kube.requests.filter(
      (request) => request.method === 'PATCH' && request.path.includes('/namespaces/production/'),
    );
    assert.ok(
      patches.every((request) => request.contentType?.startsWith('application/apply-patch+yaml')),
    );
    assert.deepEqual(
      patches.map((request) => request.query.dryRun ?? 'apply'),
      ['All', 'All', 'apply', 'apply'],
      'a dry run of every object before the first change',
    );
    const rolled = await eventually('the rollout completes', () => {
      const status = deployment('web')?.status as Json | undefined;
      return status?.availableReplicas === 2 && status.updatedReplicas === 2 ? status : undefined;
    });
    assert.equal(rolled.replicas, 2);
    const metrics = await eventually('the deploy shows in DORA metrics', async () => {
      const body = (await (
        await fetch(`${cadence.url}/api/v1/metrics?service=web&environment=production`)
      ).json()) as Json;
      return body.overall.deployments === 1 ? body : undefined;
    });
    assert.equal(metrics.scope.service, 'web');
  });

  it('starts a canary from the CLI: two tracks run, the Service selects both', async () => {
    const result = await cli(['canary', 'web', '--commit', second.slice(0, 10)]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /canary web: main-\w+ .* applied Deployment\/web-canary/);
    const canary = deployment('web-canary')!;
    assert.equal(canary.spec.replicas, 1);
    assert.equal(
      canary.spec.template.spec.containers[0].image,
      `${registry.host}/web:main-${second.slice(0, 7)}`,
    );
    await eventually('stable and canary pods run', () => {
      const tracks = pods().map((pod) => pod.metadata.labels.track as string);
      return tracks.filter((track) => track === 'canary').length === 1 &&
        tracks.filter((track) => track === 'stable').length === 2
        ? true
        : undefined;
    });
    const selector = (kube.get('', 'services', 'production', 'web') as Json).spec
      .selector as Record<string, string>;
    assert.deepEqual(selector, { app: 'web' });
    const selected = pods().filter((pod) =>
      Object.entries(selector).every(([key, value]) => pod.metadata.labels[key] === value),
    );
    assert.deepEqual([...new Set(selected.map((pod) => pod.metadata.labels.track))].sort(), [
      'canary',
      'stable',
    ]);
    const version = JSON.parse((await cli(['version', 'web', '--json'])).stdout) as Json;
    assert.equal(version.stable.commit, first);
    assert.equal(version.canary.commit, second);
  });

  it('promotes: the canary version becomes stable and the canary is deleted', async () => {
    const result = await cli(['promote', 'web', '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(
      (JSON.parse(result.stdout) as Json).removed.map((ref: Json) => ref.name),
      ['web-canary'],
    );
    assert.equal(deployment('web-canary'), undefined);
    assert.equal(
      deployment('web')!.spec.template.spec.containers[0].image,
      `${registry.host}/web:main-${second.slice(0, 7)}`,
    );
    await eventually('the promoted version rolls out', () => {
      const status = deployment('web')!.status as Json;
      return status.updatedReplicas === 2 && status.availableReplicas === 2 && status.replicas === 2
        ? true
        : undefined;
    });
  });

  it('rolls back to the previous stable revision', async () => {
    const result = await cli(['rollback', 'web']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      deployment('web')!.spec.template.spec.containers[0].image,
      `${registry.host}/web:main-${first.slice(0, 7)}`,
    );
    const again = await cli(['rollback', 'web']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /no canary and no previous stable version/);
  });

  it('refuses a missing image tag before anything changes, and tells the webhook', async () => {
    const unpushed = await fixture.commit({ push: false });
    const requestsBefore = kube.requests.length;
    const before = JSON.stringify(deployment('web'));
    const result = await cli(['deploy', 'web', '--commit', unpushed]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no image tag <branch>-<sha> for commit/);
    assert.equal(kube.requests.length, requestsBefore, 'not one request reached the cluster');
    assert.equal(JSON.stringify(deployment('web')), before);
    const notification = await eventually('the webhook was told', () =>
      notifications.find((n) => /^Cadence: deploy web .* failed \(validate\)/.test(String(n.text))),
    );
    assert.match(notification.text, /deploy web/);
  });

  it('refuses a manifest the cluster does not accept at the dry run, changing nothing', async () => {
    const bad = fixture.repo.commit('ingress', '2026-11-25T10:00:00Z', {
      'kubernetes/zz-ingress.yaml':
        'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: web }\nspec: {}\n',
    });
    await registry.push('web', `main-${bad.slice(0, 7)}`);
    const before = JSON.stringify(deployment('web'));
    const result = await cli(['deploy', 'web', '--commit', bad]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /dry run: apply Ingress production\/web/);
    assert.equal(JSON.stringify(deployment('web')), before);
    fixture.repo.git(['rm', '--quiet', 'kubernetes/zz-ingress.yaml']);
    fixture.repo.git(['commit', '--quiet', '-m', 'no ingress']);
  });

  it('refuses a token for another service (403)', async () => {
    const result = await cli(['deploy', 'web', '--commit', first], other);
    assert.equal(result.status, 5, 'forbidden exits 5 (src/cli/api-client.ts EXIT_CODES)');
    assert.match(result.stderr, /token other may not deploy web/);
    const response = await fetch(`${cadence.url}/api/v1/services/web/deploy`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(other).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `commit=${first}`,
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  it('serializes two concurrent deploys of one service', async () => {
    const auth = {
      authorization: `Basic ${Buffer.from(ci).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const start = kube.requests.length;
    const responses = await Promise.all(
      [first, second].map((commit) =>
        fetch(`${cadence.url}/deployer/web/deploy`, {
          method: 'PUT',
          headers: auth,
          body: `commit=${commit}`,
        }),
      ),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      [200, 200],
    );
    const patches = kube.requests.slice(start).filter((request) => request.method === 'PATCH');
    // each deploy is dry-run + apply of two objects; serialized, the two never interleave
    assert.deepEqual(
      patches.map((request) => request.query.dryRun ?? 'apply'),
      ['All', 'All', 'apply', 'apply', 'All', 'All', 'apply', 'apply'],
    );
    const shown = JSON.parse((await cli(['show', 'web', '--json'])).stdout) as Json;
    const [later, earlier] = (shown.operations as Json[]).slice(0, 2);
    assert.ok(
      Date.parse(earlier!.startedAt) + earlier!.durationMs <= Date.parse(later!.startedAt) + 1,
      'the second began after the first ended',
    );
  });

  it('lists services and completes their names in bash', async () => {
    const names = await cli(['ls', '--names']);
    assert.equal(names.stdout, 'web\n');
    const table = await cli(['ls']);
    assert.match(table.stdout, /^SERVICE\s+NAMESPACE\s+STABLE\s+CANARY\nweb\s+production\s+main-/);
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    writeFileSync(
      join(bin, 'cadence'),
      `#!/bin/sh\nexec "${process.execPath}" "${join(import.meta.dirname, '../../bin/cadence.js')}" "$@" --server ${cadence.url}\n`,
      { mode: 0o755 },
    );
    const script = (await runCli(['completion', 'bash'], {})).stdout;
    writeFileSync(join(dir, 'completion.bash'), script);
    const completed = execFileSync(
      'bash',
      [
        '-c',
        `source ${join(dir, 'completion.bash')}; COMP_WORDS=(cadence deploy w); COMP_CWORD=2; _cadence; echo "\${COMPREPLY[@]}"`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CADENCE_TOKEN: ci },
      },
    );
    assert.equal(
      completed.trim(),
      'web',
      execFileSync('bash', ['-c', 'cadence ls --names 2>&1; true'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CADENCE_TOKEN: ci },
      }),
    );
  });

  it('keeps the previous versions: `cadence versions` lists them, `rollback --to` returns to any', async () => {
    const third = await fixture.commit();
    assert.equal((await cli(['deploy', 'web', '--commit', third])).status, 0);
    const listed = await cli(['versions', 'web']);
    assert.equal(listed.status, 0, listed.stderr);
    const version = (sha: string) => `main-${sha.slice(0, 7)}`;
    assert.match(
      listed.stdout,
      new RegExp(`^\\s+VERSION\\s+COMMIT\\s+TAG\\s+DEPLOYED\nstable\\s+${version(third)}`),
    );
    for (const kept of [first, second]) {
      assert.match(
        listed.stdout,
        new RegExp(`kept \\d\\s+${version(kept)}\\s+${kept.slice(0, 12)}`),
      );
    }
    assert.match(listed.stdout, /roll back with: cadence rollback web --to VERSION/);

    const before = JSON.stringify(deployment('web'));
    const unknown = await cli(['rollback', 'web', '--to', 'v9.9.9']);
    assert.equal(unknown.status, 4, unknown.stderr);
    assert.match(unknown.stderr, /keeps no version v9\.9\.9; kept: main-/);
    assert.equal(JSON.stringify(deployment('web')), before, 'a refused rollback changed nothing');

    const result = await cli(['rollback', 'web', '--to', version(first)]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      deployment('web')!.spec.template.spec.containers[0].image,
      `${registry.host}/web:${version(first)}`,
    );
    const now = JSON.parse((await cli(['versions', 'web', '--json'])).stdout) as Json;
    assert.equal(now.stable.commit, first);
    assert.ok(!(now.previousVersions as Json[]).some((kept) => kept.commit === third));
  });
});
