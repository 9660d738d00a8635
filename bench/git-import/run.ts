/**
 * bench/git-import — full-history import time of `cadence git import` against the floor, plain
 * `git log --raw --no-renames --diff-merges=first-parent >/dev/null` (reading the history at
 * all), measured side by side in one run, on PostgreSQL and on PGlite. Also times the import's
 * own `git log --numstat` alone (the part of the cost that is git computing line counts), and
 * samples the importer's RSS through the run: the import streams, so RSS must stay flat as
 * the history grows.
 *
 *   npm run bench:git-import [-- --commits 100000 --rounds 3 --only postgres|pglite]
 *
 * The repository is generated with git fast-import (bench/git-import/generate-history.ts) and
 * cached in the temp directory between runs. PostgreSQL: BENCH_DATABASE_URL, else
 * TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres (a throwaway database per
 * round is created on it and dropped). Rounds interleave floor and import so a busy machine
 * slows both alike; medians are reported.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gitLogArgs } from '../../src/git/git-log-reader.js';
import { cadenceBin } from '../support/processes.js';
import { scratchDatabases } from '../support/scratch-databases.js';
import { generateHistory } from './generate-history.js';

const { values } = parseArgs({
  options: {
    commits: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
const commits = Number(values.commits);
const rounds = Number(values.rounds);
const seed = Number(values.seed);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const seconds = (ms: number) => (ms / 1000).toFixed(2);

interface Run {
  ms: number;
  peakRssMiB: number;
  /** RSS at 25 %, 50 %, 75 % and 100 % of the run's duration. */
  rssQuartilesMiB: number[];
}

/** Runs a command to completion, its stdout to /dev/null, sampling its RSS every 50 ms. */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<Run>((resolve, reject) => {
    const started = performance.now();
    const devNull = openSync('/dev/null', 'w');
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', devNull, 'inherit'],
    });
    const samples: { at: number; rssMiB: number }[] = [];
    let peakKiB = 0;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
        samples.push({ at: performance.now() - started, rssMiB: rss / 1024 });
      } catch {
        // the process has just exited
      }
    };
    const timer = setInterval(sample, 50);
    child.once('error', reject);
    child.once('close', (code) => {
      clearInterval(timer);
      const ms = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
        return;
      }
      const at = (fraction: number) => {
        const target = ms * fraction;
        const before = samples.filter((s) => s.at <= target);
        return Math.round(before.at(-1)?.rssMiB ?? 0);
      };
      resolve({
        ms,
        peakRssMiB: Math.round(peakKiB / 1024),
        rssQuartilesMiB: [at(0.25), at(0.5), at(0.75), at(1)],
      });
    });
  });
}

/** One scratch database, dropped by `drop()`. */
async function throwawayDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const databases = await scratchDatabases();
  return { url: await databases.create(), drop: () => databases.dropAll() };
}

// 1. The repository (generated once, then reused).
const repo = join(tmpdir(), `cadence-bench-git-${commits}-${seed}`);
if (!existsSync(join(repo, 'done'))) {
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
  const started = performance.now();
  await generateHistory(repo, { commits, seed });
  execFileSync('touch', [join(repo, 'done')]);
  console.log(`generated ${commits} commits in ${seconds(performance.now() - started)}s: ${repo}`);
}
const stats = Number(
  execFileSync('sh', [
    '-c',
    `git -C ${repo} log --format= --numstat --diff-merges=first-parent --no-renames | wc -l`,
  ]).toString(),
);
const floorArgs = ['log', '--raw', '--no-renames', '--diff-merges=first-parent'];
// Warm the page cache so the first measurement is not the one that reads the disk.
await timed('git', floorArgs, repo);

const engines = (values.only ? [values.only] : ['postgres', 'pglite']) as ('postgres' | 'pglite')[];
const results: Record<string, Run[]> = { floor: [], numstat: [], postgres: [], pglite: [] };
for (let round = 1; round <= rounds; round++) {
  results.floor!.push(await timed('git', floorArgs, repo));
  results.numstat!.push(await timed('git', gitLogArgs(['HEAD']), repo));
  for (const engine of engines) {
    if (engine === 'postgres') {
      const database = await throwawayDatabase();
      try {
        // Migrations run first, outside the timed import.
        await timed(
          process.execPath,
          [cadenceBin, 'git', 'list', '--database-url', database.url],
          repo,
        );
        results.postgres!.push(
          await timed(
            process.execPath,
            [cadenceBin, 'git', 'import', repo, '--database-url', database.url],
            repo,
          ),
        );
      } finally {
        await database.drop();
      }
    } else {
      const dataDir = mkdtempSync(join(tmpdir(), 'cadence-bench-pglite-'));
      try {
        await timed(process.execPath, [cadenceBin, 'git', 'list', '--data-dir', dataDir], repo);
        results.pglite!.push(
          await timed(
            process.execPath,
            [cadenceBin, 'git', 'import', repo, '--data-dir', dataDir],
            repo,
          ),
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  console.log(
    `round ${round}: floor ${seconds(results.floor!.at(-1)!.ms)}s, git numstat ${seconds(results.numstat!.at(-1)!.ms)}s` +
      engines.map((e) => `, ${e} ${seconds(results[e]!.at(-1)!.ms)}s`).join(''),
  );
}

// Streaming: the importer's peak RSS on a tenth of the history against the whole of it.
let streaming = '';
if (engines.includes('postgres')) {
  const firstParents = Number(
    execFileSync('git', ['-C', repo, 'rev-list', '--first-parent', '--count', 'main']).toString(),
  );
  const prefix = `main~${Math.floor(firstParents * 0.9)}`;
  const prefixCommits = Number(
    execFileSync('git', ['-C', repo, 'rev-list', '--count', prefix]).toString(),
  );
  const database = await throwawayDatabase();
  try {
    await timed(
      process.execPath,
      [cadenceBin, 'git', 'list', '--database-url', database.url],
      repo,
    );
    const small = await timed(
      process.execPath,
      [cadenceBin, 'git', 'import', repo, '--ref', prefix, '--database-url', database.url],
      repo,
    );
    const full = Math.max(...results.postgres!.map((r) => r.peakRssMiB));
    streaming = `- streaming: importer peak RSS ${small.peakRssMiB} MiB for the first ${prefixCommits} commits, ${full} MiB for all ${commits} (PostgreSQL; git's own memory not included)`;
  } finally {
    await database.drop();
  }
}

const floor = median(results.floor!.map((r) => r.ms));
const row = (name: string, runs: Run[]) => {
  const ms = median(runs.map((r) => r.ms));
  const peak = Math.max(...runs.map((r) => r.peakRssMiB));
  const quartiles = runs.at(-1)!.rssQuartilesMiB.join(' / ');
  return `| ${name} | ${seconds(ms)} | ${(ms / floor).toFixed(2)}× | ${Math.round((commits * 1000) / ms)} | ${peak} | ${quartiles} |`;
};
console.log(`
- ${commits} commits, ${stats} file changes; ${rounds} rounds, medians; ${new Date().toISOString().slice(0, 10)}
- machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB; load average at the end ${loadavg()
  .map((l) => l.toFixed(1))
  .join(' ')}
- ${execFileSync('git', ['--version']).toString().trim()}, Node ${process.version}
${streaming}

| run | seconds | × floor | commits/s | peak RSS MiB | RSS at 25/50/75/100 % (MiB) |
| --- | ---: | ---: | ---: | ---: | --- |
${row('floor: `git log --raw --no-renames --diff-merges=first-parent`', results.floor!)}
${row("the import's `git log --numstat -z` alone", results.numstat!)}
${engines.map((e) => row(`\`cadence git import\` on ${e === 'postgres' ? 'PostgreSQL' : 'PGlite'}`, results[e]!)).join('\n')}
`);
