/**
 * Real git repositories built by the tests, with fixed author and committer times so every
 * reported number can be asserted exactly. Two scenarios are here because the unit, API and CLI
 * tests all assert on them: a vendoring repository (PR merges, a squash merge, a revert, a
 * rename, binary files, two packages in one vendoring, one vendoring never deployed) and a
 * repository that promotes by folder (staging → prod).
 */
import { execFileSync } from 'node:child_process';
import { after, before } from 'node:test';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type FileChanges = Record<string, string | Buffer | null>;

export interface Identity {
  name: string;
  email: string;
}

const ALICE: Identity = { name: 'Alice Example', email: 'alice@example.com' };

/** `2024-01-05T00:00:00Z` → git's raw date `@1704412800 +0000` (offset: the zone shown). */
export function gitDate(at: string, offset = '+0000'): string {
  return `@${Math.floor(Date.parse(at) / 1000)} ${offset}`;
}

export class GitFixture {
  private constructor(readonly dir: string) {}

  static create(prefix = 'cadence-git-'): GitFixture {
    const fixture = new GitFixture(mkdtempSync(join(tmpdir(), prefix)));
    fixture.git(['init', '--quiet', '--initial-branch=main']);
    return fixture;
  }

  /** Runs git in the repository with fixed times and no user or system config. */
  git(
    args: string[],
    options: { at?: string; offset?: string; author?: Identity; input?: string } = {},
  ): string {
    const author = options.author ?? ALICE;
    const date = gitDate(options.at ?? '2024-01-01T00:00:00Z', options.offset);
    return execFileSync('git', args, {
      cwd: this.dir,
      encoding: 'utf8',
      input: options.input,
      maxBuffer: 256 * 1024 * 1024,
      env: {
        ...process.env,
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: 'Cadence CI',
        GIT_COMMITTER_EMAIL: 'ci@example.com',
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
      },
    });
  }

  write(changes: FileChanges): void {
    for (const [path, content] of Object.entries(changes)) {
      const full = join(this.dir, path);
      if (content === null) {
        unlinkSync(full);
        continue;
      }
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }

  /** Writes the files, stages everything and commits; returns the new commit's id. */
  commit(
    message: string,
    at: string,
    changes: FileChanges = {},
    options: { author?: Identity; offset?: string } = {},
  ): string {
    this.write(changes);
    this.git(['add', '--all']);
    this.git(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message], {
      at,
      ...options,
    });
    return this.head();
  }

  head(): string {
    return this.git(['rev-parse', 'HEAD']).trim();
  }

  branch(name: string): void {
    this.git(['checkout', '--quiet', '-b', name]);
  }

  checkout(name: string): void {
    this.git(['checkout', '--quiet', name]);
  }

  /** A merge commit (never a fast-forward) of `branch` into the current branch. */
  merge(branch: string, message: string, at: string): string {
    this.git(['merge', '--quiet', '--no-ff', '-m', message, branch], { at });
    return this.head();
  }

  /** A squash merge: one ordinary commit holding the branch's changes. */
  squash(branch: string, message: string, at: string): string {
    this.git(['merge', '--quiet', '--squash', branch], { at });
    this.git(['commit', '--quiet', '-m', message], { at });
    return this.head();
  }

  revert(commit: string, at: string): string {
    this.git(['revert', '--no-edit', commit], { at });
    return this.head();
  }

  move(from: string, to: string): void {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    this.git(['mv', from, to]);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A small binary file (a NUL byte makes git count it as binary: `-` in --numstat). */
export const binary = (seed: number) => Buffer.from([0, 1, 2, seed, 0, 255, seed]);

export const VENDORING_RULES = `# A repository that vendors packages (a bot commits packages/vendored/<name>/) and deploys
# them by pull request (deploy/prod/<name>/ changed in a merge, or a squash merge "… (#123)").
purposes:
  # First match wins per file: a revert claims its files before they count as a vendoring.
  - name: revert
    role: ignore
    message: '^Revert '
  - name: vendoring
    role: cause
    paths: ['packages/vendored/{package}/**']
  - name: deploy
    role: deploy
    paths: ['deploy/prod/{package}/**']
    merge:
      parents: true
      message: '\\(#\\d+\\)$'
`;

export const PROMOTION_RULES = `# A repository that promotes by folder: a chart release is the cause, a change under
# envs/staging/<name>/ deploys to staging, the same under envs/prod/<name>/ to production.
environments: [staging, prod]
purposes:
  - name: release
    role: cause
    paths: ['charts/{package}/Chart.yaml']
  - name: staging
    role: deploy
    environment: staging
    paths: ['envs/staging/{package}/**']
  - name: prod
    role: deploy
    environment: prod
    paths: ['envs/prod/{package}/**']
  # Shared platform manifests: the package is told by a substring of the file name.
  - name: platform
    role: deploy
    environment: prod
    paths: ['platform/prod/**']
    packages:
      - { name: ingress, contains: ingress }
      - { name: cert-manager, contains: cert-manager }
`;

/** The commits of the vendoring scenario, by role in the story. */
export interface VendoringRepo {
  fixture: GitFixture;
  commits: Record<
    | 'root'
    | 'vendorNginx125'
    | 'bumpNginxBranch'
    | 'mergePr1'
    | 'vendorNginxRedis'
    | 'vendorRedis721'
    | 'squashPr2'
    | 'vendorRedis74'
    | 'revertRedis74'
    | 'vendorNginx127'
    | 'bumpNginx127Branch'
    | 'mergePr3'
    | 'vendorPostgres'
    | 'bumpRedisBranch'
    | 'mergePr4'
    | 'renameDocs',
    string
  >;
}

/**
 * The vendoring repository and a folder for mirrors, built before the calling file's tests and
 * removed after them (call at a test file's top level).
 */
export function vendoringRepoForFile(): VendoringRepo & { mirrorDir: string } {
  let repo: VendoringRepo | undefined;
  let mirrorDir: string | undefined;
  before(() => {
    repo = buildVendoringRepo();
    mirrorDir = mkdtempSync(join(tmpdir(), 'cadence-mirrors-'));
  });
  after(() => {
    repo?.fixture.remove();
    if (mirrorDir) rmSync(mirrorDir, { recursive: true, force: true });
  });
  const built = () => {
    if (!repo || !mirrorDir) throw new Error('the vendoring repository is built in before()');
    return { repo, mirrorDir };
  };
  return {
    get fixture() {
      return built().repo.fixture;
    },
    get commits() {
      return built().repo.commits;
    },
    get mirrorDir() {
      return built().mirrorDir;
    },
  };
}

/**
 * The vendoring story (all times UTC, 2024):
 * - Jan 1 root; Jan 5 vendor nginx; Jan 6 PR #1 deploys nginx, merged at 12:00 (merge commit);
 * - Jan 10 vendor nginx AND redis in one commit; Jan 12 vendor redis again;
 * - Jan 15 PR #2 squash-merged: deploys nginx and redis (two causes share the redis deploy);
 * - Jan 20 vendor redis 7.4, reverted Jan 21 (the revert is ignored, the vendoring stays);
 * - Feb 1 vendor nginx with a renamed file; PR #3 merged Feb 4 deploys nginx;
 * - Feb 10 vendor postgres, never deployed (pending); PR #4 merged Feb 14 12:00 deploys redis;
 * - Feb 15 a docs rename (no purpose).
 */
export function buildVendoringRepo(): VendoringRepo {
  const f = GitFixture.create('cadence-vendoring-');
  const c: Partial<VendoringRepo['commits']> = {};
  c.root = f.commit('Initial commit', '2024-01-01T00:00:00Z', {
    'README.md': '# gitops\n',
    'docs/guide.md': 'how we deploy\n',
    'logo.png': binary(1),
    'deploy/prod/nginx/version': '1.24\n',
    'deploy/prod/redis/version': '7.0\n',
  });
  c.vendorNginx125 = f.commit('vendor nginx 1.25', '2024-01-05T00:00:00Z', {
    'packages/vendored/nginx/nginx.conf': 'worker_processes 1;\nevents {}\nhttp {}\n',
    'packages/vendored/nginx/VERSION': '1.25\n',
    'packages/vendored/nginx/icon.bin': binary(2),
  });
  f.branch('pr-1');
  c.bumpNginxBranch = f.commit('bump nginx in prod', '2024-01-06T00:00:00Z', {
    'deploy/prod/nginx/version': '1.25\n',
  });
  f.checkout('main');
  c.mergePr1 = f.merge('pr-1', 'Merge pull request #1 from team/pr-1', '2024-01-06T12:00:00Z');
  c.vendorNginxRedis = f.commit('vendor nginx 1.26 and redis 7.2', '2024-01-10T00:00:00Z', {
    'packages/vendored/nginx/VERSION': '1.26\n',
    'packages/vendored/redis/VERSION': '7.2\n',
  });
  c.vendorRedis721 = f.commit('vendor redis 7.2.1', '2024-01-12T00:00:00Z', {
    'packages/vendored/redis/VERSION': '7.2.1\n',
  });
  f.branch('pr-2');
  f.commit('bump nginx', '2024-01-13T00:00:00Z', { 'deploy/prod/nginx/version': '1.26\n' });
  f.commit('bump redis', '2024-01-14T00:00:00Z', { 'deploy/prod/redis/version': '7.2.1\n' });
  f.checkout('main');
  c.squashPr2 = f.squash(
    'pr-2',
    'Deploy nginx 1.26 and redis 7.2.1 (#2)\n\n* bump nginx\n* bump redis',
    '2024-01-15T00:00:00Z',
  );
  c.vendorRedis74 = f.commit('vendor redis 7.4', '2024-01-20T00:00:00Z', {
    'packages/vendored/redis/VERSION': '7.4\n',
  });
  c.revertRedis74 = f.revert(c.vendorRedis74, '2024-01-21T00:00:00Z');
  f.move('packages/vendored/nginx/nginx.conf', 'packages/vendored/nginx/conf/nginx.conf');
  c.vendorNginx127 = f.commit('vendor nginx 1.27 (conf moved)', '2024-02-01T00:00:00Z', {
    'packages/vendored/nginx/VERSION': '1.27\n',
  });
  f.branch('pr-3');
  c.bumpNginx127Branch = f.commit('bump nginx 1.27', '2024-02-03T00:00:00Z', {
    'deploy/prod/nginx/version': '1.27\n',
  });
  f.checkout('main');
  c.mergePr3 = f.merge('pr-3', 'Merge pull request #3 from team/pr-3', '2024-02-04T00:00:00Z');
  c.vendorPostgres = f.commit('vendor postgres 16', '2024-02-10T00:00:00Z', {
    'packages/vendored/postgres/VERSION': '16\n',
  });
  f.branch('pr-4');
  c.bumpRedisBranch = f.commit('bump redis 7.2.4', '2024-02-14T00:00:00Z', {
    'deploy/prod/redis/version': '7.2.4\n',
  });
  f.checkout('main');
  c.mergePr4 = f.merge('pr-4', 'Merge pull request #4 from team/pr-4', '2024-02-14T12:00:00Z');
  f.move('docs/guide.md', 'docs/deploying.md');
  c.renameDocs = f.commit('docs: rename the guide', '2024-02-15T00:00:00Z');
  return { fixture: f, commits: c as VendoringRepo['commits'] };
}

export interface PromotionRepo {
  fixture: GitFixture;
  commits: Record<
    | 'root'
    | 'releaseApi'
    | 'stagingApi10'
    | 'prodApi10'
    | 'releaseWeb'
    | 'stagingApiWeb'
    | 'stagingApi12'
    | 'prodApiWeb'
    | 'stagingWeb21'
    | 'prodPlatform',
    string
  >;
}

/**
 * The folder-promotion story (March 2024, UTC): api released Mar 4, on staging at 12:00, in prod
 * Mar 6; web released Mar 7; staging gets api 1.1 + web Mar 8 and api 1.2 Mar 11 (1.1 never
 * reaches prod); prod gets api 1.2 + web Mar 12; staging gets web 2.1 Mar 20 (not yet in prod);
 * Mar 25 a platform change in prod (ingress, plus a README no package claims).
 */
export function buildPromotionRepo(): PromotionRepo {
  const f = GitFixture.create('cadence-promotion-');
  const c: Partial<PromotionRepo['commits']> = {};
  c.root = f.commit('Initial commit', '2024-03-01T00:00:00Z', { 'README.md': '# envs\n' });
  c.releaseApi = f.commit('release api 1.0', '2024-03-04T00:00:00Z', {
    'charts/api/Chart.yaml': 'name: api\nversion: 1.0.0\n',
  });
  c.stagingApi10 = f.commit('staging: api 1.0', '2024-03-04T12:00:00Z', {
    'envs/staging/api/values.yaml': 'tag: 1.0.0\n',
    'envs/staging/kustomization.yaml': 'resources: [api]\n',
  });
  c.prodApi10 = f.commit('prod: api 1.0', '2024-03-06T00:00:00Z', {
    'envs/prod/api/values.yaml': 'tag: 1.0.0\n',
  });
  c.releaseWeb = f.commit('release web 2.0', '2024-03-07T00:00:00Z', {
    'charts/web/Chart.yaml': 'name: web\nversion: 2.0.0\n',
  });
  c.stagingApiWeb = f.commit('staging: api 1.1, web 2.0', '2024-03-08T00:00:00Z', {
    'envs/staging/api/values.yaml': 'tag: 1.1.0\n',
    'envs/staging/web/values.yaml': 'tag: 2.0.0\n',
  });
  c.stagingApi12 = f.commit('staging: api 1.2', '2024-03-11T00:00:00Z', {
    'envs/staging/api/values.yaml': 'tag: 1.2.0\n',
  });
  c.prodApiWeb = f.commit('prod: api 1.2, web 2.0', '2024-03-12T00:00:00Z', {
    'envs/prod/api/values.yaml': 'tag: 1.2.0\n',
    'envs/prod/web/values.yaml': 'tag: 2.0.0\n',
  });
  c.stagingWeb21 = f.commit('staging: web 2.1', '2024-03-20T00:00:00Z', {
    'envs/staging/web/values.yaml': 'tag: 2.1.0\n',
  });
  c.prodPlatform = f.commit('prod: platform', '2024-03-25T00:00:00Z', {
    'platform/prod/ingress-nginx.yaml': 'kind: Deployment\n',
    'platform/prod/README.md': 'shared manifests\n',
  });
  return { fixture: f, commits: c as PromotionRepo['commits'] };
}

/**
 * A public-project-like history: a generated GitOps history (the bench's generator, at a small
 * size: PR merges, renames, deletions, binaries, many authors and time zones) with the awkward
 * cases real histories hold on top: file names with tabs, newlines, quotes, spaces, a leading
 * dash and non-ASCII; a message with control characters; a mode change, a symlink, an empty
 * commit, CRLF text, a large file, a rename with edits, an octopus merge and a merge that changes
 * nothing against its first parent.
 */
export async function buildPublicLikeHistory(generatedCommits = 200): Promise<GitFixture> {
  const { generateHistory } = await import('../../bench/git-import/generate-history.js');
  const f = GitFixture.create('cadence-public-');
  await generateHistory(f.dir, { commits: generatedCommits, seed: 7, startSeconds: 1_700_000_000 });
  f.git(['reset', '--quiet', '--hard', 'main']);
  const zoe = { name: 'Zoë Ünicode-Łukasz', email: 'zoe@example.org' };
  f.commit(
    'Ünïcödé subject ✓\n\nA body with a \x1e record and a \x1f unit separator,\nand a second line.',
    '2024-06-01T08:00:00Z',
    {
      'docs/ünïcödé 文档.md': 'text\n',
      'weird/tab\there.txt': 'a\nb\n',
      'weird/new\nline.txt': 'b\n',
      'weird/"quoted".txt': 'c\n',
      '-dash.txt': 'd\n',
      'spaced dir/file name.txt': 'e\n',
      'crlf.txt': 'one\r\ntwo\r\nthree\r\n',
      'big/large.txt': Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n',
    },
    { author: zoe, offset: '+0530' },
  );
  chmodSync(join(f.dir, '-dash.txt'), 0o755);
  f.commit('make -dash.txt executable', '2024-06-02T08:00:00Z');
  symlinkSync('docs', join(f.dir, 'link-to-docs'));
  f.commit('add a symlink', '2024-06-03T08:00:00Z', {}, { offset: '-0800' });
  f.commit('an empty commit', '2024-06-04T08:00:00Z');
  f.move('weird/tab\there.txt', 'moved/tab.txt');
  f.commit('rename and edit', '2024-06-05T08:00:00Z', {
    'moved/tab.txt': 'a\nb\nc\n',
    'big/large.txt': Array.from({ length: 1990 }, (_, i) => `line ${i}`).join('\n') + '\nend\n',
    'assets/logo.png': binary(9),
  });
  f.commit('delete a directory and a binary', '2024-06-06T08:00:00Z', {
    'spaced dir/file name.txt': null,
    'assets/logo.png': null,
  });
  f.branch('octo-1');
  f.commit('octopus part 1', '2024-06-07T08:00:00Z', { 'octo/one.txt': '1\n' });
  f.checkout('main');
  f.branch('octo-2');
  f.commit('octopus part 2', '2024-06-07T09:00:00Z', { 'octo/two.txt': '2\n' });
  f.checkout('main');
  f.git(['merge', '--quiet', '--no-ff', '-m', 'Octopus merge', 'octo-1', 'octo-2'], {
    at: '2024-06-08T08:00:00Z',
  });
  f.branch('discarded');
  f.commit('work that is discarded', '2024-06-09T08:00:00Z', { 'octo/three.txt': '3\n' });
  f.checkout('main');
  f.git(['merge', '--quiet', '-s', 'ours', '-m', 'Merge discarded, keeping ours', 'discarded'], {
    at: '2024-06-10T08:00:00Z',
  });
  return f;
}
