import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gitEnv, redactCredentials, tryGit } from '../git/index.js';
import { CadenceError } from '../problem/index.js';

/** A ref resolved in a service's repository. */
export interface ResolvedRef {
  /** The full commit sha. */
  commit: string;
  /** The tag asked for, when a tag was given. */
  tag?: string | undefined;
}

/** One manifest file read at a commit. */
export interface ManifestFile {
  path: string;
  text: string;
}

export interface ManifestCache {
  /**
   * The commit a `commit` (sha or prefix) and/or `tag` names. An unknown one is looked for again
   * after a fetch; still unknown → `not-found` naming the field. With both, they must agree.
   */
  resolve(ref: { commit?: string | undefined; tag?: string | undefined }): Promise<ResolvedRef>;
  /** The YAML/JSON files under `folder` at `commit`, by path. */
  readManifests(commit: string, folder: string): Promise<ManifestFile[]>;
  /** The default branch's head, for reading manifests when no ref is given. */
  head(): Promise<string>;
  /** Fetches new objects now. */
  fetch(): Promise<void>;
}

/** Blobs for many `<commit>:<path>` names from one `git cat-file --batch` process. */
function readBlobs(cwd: string, names: string[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, env: gitEnv() });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(
          new CadenceError('unavailable', { field: 'git', detail: `git cat-file exited ${code}` }),
        );
        return;
      }
      const output = Buffer.concat(chunks);
      const blobs: Buffer[] = [];
      let at = 0;
      for (const name of names) {
        const newline = output.indexOf(10, at);
        const header = output.subarray(at, newline).toString();
        const size = Number(header.split(' ')[2]);
        if (!header.includes(' blob ') || !Number.isInteger(size)) {
          reject(
            new CadenceError('not-found', { field: 'manifests', detail: `cannot read ${name}` }),
          );
          return;
        }
        blobs.push(output.subarray(newline + 1, newline + 1 + size));
        at = newline + 1 + size + 1;
      }
      resolve(blobs);
    });
    child.stdin.end(names.map((name) => `${name}\n`).join(''));
  });
}

/**
 * Manifests at a ref, from a bare clone of the service's repository kept in the cache dir:
 * cloned once, later only fetched (new objects only), and not fetched at all for a commit it
 * already has — a commit's content never changes. Tags are fetched each time since they can move.
 *
 * @example await createManifestCache({ repository: '/srv/gitops', dir: '.cadence/repos/web.git' }).resolve({ commit: '025838f' })
 */
export function createManifestCache(options: { repository: string; dir: string }): ManifestCache {
  const { repository, dir } = options;
  let ready: Promise<void> | undefined;

  async function ensureClone(): Promise<void> {
    if (existsSync(join(dir, 'HEAD'))) return;
    mkdirSync(join(dir, '..'), { recursive: true });
    const cloned = await tryGit(join(dir, '..'), ['clone', '--bare', '--quiet', repository, dir]);
    if (cloned.code !== 0) {
      throw new CadenceError('unavailable', {
        field: 'repository',
        detail: `cannot clone ${redactCredentials(repository)}: ${redactCredentials(cloned.stderr.trim().split('\n')[0] ?? '')}`,
      });
    }
  }
  const clone = () =>
    (ready ??= ensureClone().catch((error: unknown) => {
      ready = undefined;
      throw error;
    }));

  async function fetch(): Promise<void> {
    await clone();
    const fetched = await tryGit(dir, [
      'fetch',
      '--quiet',
      '--prune',
      '--force',
      'origin',
      '+refs/heads/*:refs/heads/*',
      '+refs/tags/*:refs/tags/*',
    ]);
    if (fetched.code !== 0) {
      throw new CadenceError('unavailable', {
        field: 'repository',
        detail: `cannot fetch ${redactCredentials(repository)}: ${redactCredentials(fetched.stderr.trim().split('\n')[0] ?? '')}`,
      });
    }
  }

  async function revParse(name: string): Promise<string | undefined> {
    const parsed = await tryGit(dir, [
      'rev-parse',
      '--verify',
      '--quiet',
      '--end-of-options',
      `${name}^{commit}`,
    ]);
    return parsed.code === 0 ? parsed.stdout.trim() : undefined;
  }

  return {
    fetch,
    async resolve(ref) {
      await clone();
      let fromTag: string | undefined;
      if (ref.tag !== undefined) {
        await fetch();
        fromTag = await revParse(`refs/tags/${ref.tag}`);
        if (!fromTag) {
          throw new CadenceError('not-found', {
            field: 'tag',
            detail: `tag ${ref.tag} is not in the repository`,
          });
        }
      }
      if (ref.commit === undefined) {
        if (!fromTag)
          throw new CadenceError('invalid-input', {
            field: 'commit',
            detail: 'give a commit or a tag',
          });
        return { commit: fromTag, tag: ref.tag };
      }
      if (!/^[0-9a-f]{4,64}$/i.test(ref.commit)) {
        throw new CadenceError('invalid-input', {
          field: 'commit',
          detail: `commit ${ref.commit} is not a hex sha`,
        });
      }
      let commit = await revParse(ref.commit.toLowerCase());
      if (!commit && fromTag === undefined) {
        await fetch();
        commit = await revParse(ref.commit.toLowerCase());
      }
      if (!commit) {
        throw new CadenceError('not-found', {
          field: 'commit',
          detail: `commit ${ref.commit} is not in the repository`,
        });
      }
      if (fromTag && fromTag !== commit) {
        throw new CadenceError('invalid-input', {
          field: 'tag',
          detail: `tag ${ref.tag} is commit ${fromTag.slice(0, 12)}, not ${ref.commit}`,
        });
      }
      return { commit, tag: ref.tag };
    },
    async head() {
      await fetch();
      const head = await revParse('HEAD');
      if (!head)
        throw new CadenceError('not-found', {
          field: 'repository',
          detail: 'the repository has no commits',
        });
      return head;
    },
    async readManifests(commit, folder) {
      await clone();
      const prefix = folder.replace(/^\/+|\/+$/g, '');
      const listed = await tryGit(dir, [
        'ls-tree',
        '-r',
        '-z',
        '--name-only',
        commit,
        '--',
        `${prefix}/`,
      ]);
      if (listed.code !== 0) {
        throw new CadenceError('not-found', {
          field: 'commit',
          detail: `cannot list ${prefix}/ at ${commit.slice(0, 12)}`,
        });
      }
      const paths = listed.stdout
        .split('\0')
        .filter((path) => /\.(ya?ml|json)$/i.test(path))
        .sort();
      if (paths.length === 0) {
        throw new CadenceError('not-found', {
          field: 'manifests',
          detail: `no manifests under ${prefix}/ at ${commit.slice(0, 12)}`,
        });
      }
      const blobs = await readBlobs(
        dir,
        paths.map((path) => `${commit}:${path}`),
      );
      return paths.map((path, index) => ({ path, text: blobs[index]!.toString('utf8') }));
    },
  };
}
