/**
 * bench/deploy — deploy latency of 10 manifests (a Deployment, a Service, 8 ConfigMaps), warm
 * cache and cold, side by side with what a person would run by hand for the same change:
 * `git fetch` in a bare clone + `kubectl apply --server-side` of the same rewritten manifests,
 * against the same test Kubernetes API server (test/support/kube-apiserver) and the real
 * docker-registry. Every deploy alternates between two commits, so each one changes the cluster.
 *
 *   npm run bench:deploy [-- --runs 30]
 *
 * "Cadence's own time" is a deploy's wall time less the time spent waiting on the API server
 * (dry-run + apply requests, timed around the cluster calls): validation, git, the registry,
 * rewrites, SQL (audit, state, lock), the CDEvent. The rollout itself is not waited for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { createDeployer, createKubeCluster, type Cluster } from '../../src/deploy/index.js';
import { parseManifests, rewriteManifests } from '../../src/deploy/manifest-rewrite.js';
import { createEventWriter, createIntake } from '../../src/events/index.js';
import { loadKubeConfig } from '../../src/kube/index.js';
import { silentLogger } from '../../src/log/index.js';
import { openStore } from '../../src/store/index.js';
import { createDeployFixture } from '../../test/support/deploy-fixture.js';
import { startKubeApiServer } from '../../test/support/kube-apiserver/index.js';
import { startRegistry } from '../../test/support/oci-registry.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const RUNS = Number(values.runs);

function run(command: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args[0]}: ${stderr}`)),
    );
  });
}

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const p95 = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
};
const ms = (value: number) => `${value.toFixed(1)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'cadence-bench-deploy-'));
const registry = await startRegistry();
const kube = await startKubeApiServer({ stepIntervalMs: 1000 });
const kubeconfig = join(dir, 'kubeconfig');
const text = readFileSync(kube.kubeconfigPath, 'utf8');
writeFileSync(
  kubeconfig,
  text.includes('insecure-skip-tls-verify')
    ? text
    : text.replace(/^(\s+)server: (.*)$/m, '$1server: $2\n$1insecure-skip-tls-verify: true'),
);
const namespace = spawn('kubectl', [
  '--kubeconfig',
  kubeconfig,
  'apply',
  '--server-side',
  '-f',
  '-',
]);
namespace.stdin.end('apiVersion: v1\nkind: Namespace\nmetadata: { name: production }\n');
await new Promise((resolve) => namespace.on('close', resolve));

const fixture = await createDeployFixture(registry, 8);
const commits = [await fixture.commit(), await fixture.commit()];
const store = await openStore({});
const intake = createIntake({ writer: createEventWriter(store) });

/** The real cluster, with the time spent in it added up. */
let clusterMs = 0;
const real = createKubeCluster(loadKubeConfig({ kubeconfig }));
const cluster: Cluster = {
  async apply(objects, options) {
    const start = performance.now();
    try {
      await real.apply(objects, options);
    } finally {
      clusterMs += performance.now() - start;
    }
  },
  read: (ref) => real.read(ref),
  async remove(objects, options) {
    const start = performance.now();
    try {
      await real.remove(objects, options);
    } finally {
      clusterMs += performance.now() - start;
    }
  },
};

async function timedDeploy(deployer: ReturnType<typeof createDeployer>, commit: string) {
  clusterMs = 0;
  const start = performance.now();
  const result = await deployer.deploy('web', { commit }, 'bench');
  const total = performance.now() - start;
  if (!result.ok) throw result.error;
  if (result.applied.length !== 10)
    throw new Error(`applied ${result.applied.length} objects, not 10`);
  return { total, own: total - clusterMs, cluster: clusterMs };
}

// Cold: a fresh cache directory (clone) and a fresh deployer, each time.
const cold: { total: number; own: number }[] = [];
for (let i = 0; i < 5; i++) {
  const settings = fixture.settings({ cacheDir: join(dir, `cold-${i}`) });
  const deployer = createDeployer({ store, intake, cluster, settings, logger: silentLogger });
  cold.push(await timedDeploy(deployer, commits[i % 2]!));
}

// The manual baseline: the same rewritten manifests on disk, a bare clone to fetch into.
const baselineClone = join(dir, 'baseline.git');
await run('git', ['clone', '--bare', '--quiet', fixture.repo.dir, baselineClone]);
const manifestDirs = commits.map((commit, index) => {
  const folder = join(dir, `manual-${index}`);
  const files = fixture.repo
    .git(['ls-tree', '-r', '--name-only', commit, 'kubernetes/'])
    .trim()
    .split('\n');
  const manifests = files.flatMap((path) =>
    parseManifests(fixture.repo.git(['show', `${commit}:${path}`]), path),
  );
  const objects = rewriteManifests(manifests, {
    track: 'stable',
    version: `main-${commit.slice(0, 7)}`,
    namespace: 'production',
    imageTags: { [`${registry.host}/web`]: `main-${commit.slice(0, 7)}` },
    canaryReplicas: 1,
  });
  return { folder, yaml: objects.map((object) => stringify(object)).join('---\n') };
});
for (const { folder, yaml } of manifestDirs) {
  await run('mkdir', ['-p', folder]);
  writeFileSync(join(folder, 'all.yaml'), yaml);
}
async function manual(index: number) {
  const start = performance.now();
  await run(
    'git',
    ['fetch', '--quiet', fixture.repo.dir, '+refs/heads/*:refs/heads/*'],
    baselineClone,
  );
  await run('kubectl', [
    '--kubeconfig',
    kubeconfig,
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager',
    'cadence',
    '-f',
    join(manifestDirs[index]!.folder, 'all.yaml'),
  ]);
  return performance.now() - start;
}

// Warm: one deployer whose clone has both commits; interleaved with the manual baseline.
const deployer = createDeployer({
  store,
  intake,
  cluster,
  settings: fixture.settings({ cacheDir: join(dir, 'warm') }),
  logger: silentLogger,
});
await timedDeploy(deployer, commits[1]!);
const warm: { total: number; own: number; cluster: number }[] = [];
const baseline: number[] = [];
for (let i = 0; i < RUNS; i++) {
  warm.push(await timedDeploy(deployer, commits[i % 2]!));
  baseline.push(await manual(i % 2));
}

const rows = [
  [
    'cold deploy (clone + deploy), 5 runs',
    median(cold.map((r) => r.total)),
    median(cold.map((r) => r.own)),
  ],
  [`warm deploy, ${RUNS} runs`, median(warm.map((r) => r.total)), median(warm.map((r) => r.own))],
] as const;
console.log(
  `deploy of 10 manifests, ${new Date().toISOString().slice(0, 10)}, node ${process.version}`,
);
for (const [label, total, own] of rows) {
  console.log(
    `${label.padEnd(40)} median ${ms(total).padStart(10)}  Cadence's own ${ms(own).padStart(10)}`,
  );
}
console.log(
  `${'warm deploy p95'.padEnd(40)}        ${ms(p95(warm.map((r) => r.total))).padStart(10)}  Cadence's own ${ms(p95(warm.map((r) => r.own))).padStart(10)}`,
);
console.log(
  `${'warm: API server time (20 requests)'.padEnd(40)} median ${ms(median(warm.map((r) => r.cluster))).padStart(10)}`,
);
console.log(
  `${`git fetch + kubectl apply --server-side`.padEnd(40)} median ${ms(median(baseline)).padStart(10)}`,
);
console.log(
  `ratio warm deploy / manual: ${(median(warm.map((r) => r.total)) / median(baseline)).toFixed(2)}×`,
);
console.log(
  `target: warm deploy < 300 ms of Cadence's own time: ${median(warm.map((r) => r.own)) < 300 ? 'met' : 'NOT met'}`,
);

await store.close();
await kube.close();
await registry.stop();
fixture.remove();
rmSync(dir, { recursive: true, force: true });
