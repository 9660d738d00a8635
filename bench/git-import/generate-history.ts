/**
 * Generates a GitOps-shaped history with `git fast-import` (one process, fast enough for 100k
 * commits): services deployed under `deploy/<env>/<service>/`, vendored packages, source files,
 * pull-request branches merged with merge commits, renames, deletions and binary files, many
 * authors in several time zones. Deterministic for a seed, so the bench and the tests that use
 * it see the same repository every run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface HistoryOptions {
  /** Commits reachable from main, merges included. */
  commits: number;
  seed?: number;
  /** First commit time (seconds since the epoch); commits are about an hour apart. */
  startSeconds?: number;
}

/** A small seeded PRNG (mulberry32): the same history for the same seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ZONES = ['+0000', '+0100', '+0200', '-0500', '-0800', '+0530', '+0900'];
const ENVIRONMENTS = ['dev', 'staging', 'prod'];

interface FileState {
  version: number;
  binary: boolean;
}

/** Ten lines of text; each new version changes one line and adds one (a 2+/1- diff). */
function textContent(path: string, version: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 10; i++) {
    lines.push(i === version % 10 ? `${path} changed in version ${version}` : `${path} line ${i}`);
  }
  for (let i = 0; i < Math.min(version, 20); i++) lines.push(`entry ${i}`);
  return `${lines.join('\n')}\n`;
}

function binaryContent(version: number): Buffer {
  return Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, version & 0xff, (version >> 8) & 0xff, 0]);
}

/**
 * Writes the history into the repository at `dir` (which must exist and be empty: `git init`),
 * on `refs/heads/main`. Returns the number of commits reachable from main.
 */
export async function generateHistory(dir: string, options: HistoryOptions): Promise<number> {
  const next = random(options.seed ?? 1);
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: dir,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const exited = once(child, 'close') as Promise<[number | null]>;
  const stdin = child.stdin;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const write = async (chunk: string | Buffer) => {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    pending.push(buffer);
    pendingBytes += buffer.length;
    if (pendingBytes < 1 << 20) return;
    const data = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    if (!stdin.write(data)) await once(stdin, 'drain');
  };

  const services = Array.from({ length: 60 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
  const packages = Array.from({ length: 40 }, (_, i) => `pkg-${String(i).padStart(2, '0')}`);
  const authors = Array.from({ length: 50 }, (_, i) => ({
    name: `Developer ${i}`,
    email: `dev${i}@example.com`,
    zone: ZONES[i % ZONES.length]!,
  }));
  const files = new Map<string, FileState>();
  let mark = 0;
  let time = options.startSeconds ?? 1_600_000_000;
  let mainTip = 0;
  let mainCommits = 0;

  const pickPath = (): string => {
    const kind = next();
    if (kind < 0.4) return `deploy/${pick(ENVIRONMENTS)}/${pick(services)}/values.yaml`;
    if (kind < 0.65) return `packages/vendored/${pick(packages)}/VERSION`;
    if (kind < 0.67) return `assets/${pick(services)}.png`;
    return `src/module-${Math.floor(next() * 30)}/file-${Math.floor(next() * 40)}.txt`;
  };

  /** File commands for one commit: 1-4 files modified, sometimes a rename or a deletion. */
  const changes = (): { commands: Buffer[]; apply: () => void } => {
    const commands: Buffer[] = [];
    const updates = new Map<string, FileState | null>();
    const count = 1 + Math.floor(next() * next() * 4);
    for (let i = 0; i < count; i++) {
      const path = pickPath();
      if (updates.has(path)) continue;
      const current = files.get(path);
      const roll = next();
      if (current && roll < 0.03) {
        updates.set(path, null);
        commands.push(Buffer.from(`D ${path}\n`));
      } else if (current && !current.binary && roll < 0.06) {
        const target = `${path}.renamed-${mark}`;
        updates.set(path, null);
        updates.set(target, { version: current.version, binary: false });
        commands.push(Buffer.from(`R ${path} ${target}\n`));
      } else {
        const binary = path.endsWith('.png');
        const state = { version: (current?.version ?? 0) + 1, binary };
        updates.set(path, state);
        const content = binary
          ? binaryContent(state.version)
          : Buffer.from(textContent(path, state.version));
        commands.push(
          Buffer.from(`M 100644 inline ${path}\ndata ${content.length}\n`),
          content,
          Buffer.from('\n'),
        );
      }
    }
    return {
      commands,
      apply: () => {
        for (const [path, state] of updates) {
          if (state) files.set(path, state);
          else files.delete(path);
        }
      },
    };
  };

  const header = (ref: string, message: string) => {
    const author = pick(authors);
    time += 60 + Math.floor(next() * 7200);
    const who = `${author.name} <${author.email}> ${time} ${author.zone}`;
    const body = Buffer.from(message);
    mark += 1;
    return Buffer.from(
      `commit ${ref}\nmark :${mark}\nauthor ${who}\ncommitter ${who}\ndata ${body.length}\n${message}\n`,
    );
  };

  while (mainCommits < options.commits) {
    const remaining = options.commits - mainCommits;
    if (mainTip > 0 && remaining >= 2 && next() < 0.12) {
      // A pull request: 1-3 commits on a branch, then a merge commit on main.
      const branchCommits = Math.min(1 + Math.floor(next() * 3), remaining - 1);
      let tip = mainTip;
      const merged: Buffer[] = [];
      for (let i = 0; i < branchCommits; i++) {
        const change = changes();
        await write(
          header('refs/heads/pr', `Change ${mark + 1} on a branch\n\nDetails of the change.`),
        );
        await write(`from :${tip}\n`);
        for (const command of change.commands) await write(command);
        await write('\n');
        tip = mark;
        change.apply();
        merged.push(...change.commands);
      }
      await write(header('refs/heads/main', `Merge pull request #${mark + 1} from team/pr`));
      await write(`from :${mainTip}\nmerge :${tip}\n`);
      // The merge's tree is its first parent's plus the branch's changes, replayed in order.
      for (const command of merged) await write(command);
      await write('\n');
      mainTip = mark;
      mainCommits += branchCommits + 1;
      continue;
    }
    const change = changes();
    await write(header('refs/heads/main', `Update ${mark + 1}: ${pickPath()}`));
    if (mainTip > 0) await write(`from :${mainTip}\n`);
    for (const command of change.commands) await write(command);
    await write('\n');
    change.apply();
    mainTip = mark;
    mainCommits += 1;
  }
  await write('done\n');
  stdin.end(Buffer.concat(pending));
  const [code] = await exited;
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
  return mainCommits;
}
