import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createManifestCache } from '../../src/deploy/manifest-cache.js';
import type { CadenceError } from '../../src/problem/index.js';
import { GitFixture } from '../support/git-fixture.js';

describe('manifest cache (bare clone per service)', () => {
  let repo: GitFixture;
  let cacheDir: string;
  let first: string;
  before(() => {
    repo = GitFixture.create('cadence-deploy-repo-');
    first = repo.commit('web v1', '2026-01-01T00:00:00Z', {
      'kubernetes/web.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: web }\n',
      'kubernetes/nested/config.yml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n',
      'kubernetes/README.md': 'not a manifest',
      'other/ignored.yaml': 'a: b',
    });
    repo.git(['tag', 'v1']);
    cacheDir = mkdtempSync(join(tmpdir(), 'cadence-deploy-cache-'));
  });
  after(() => {
    repo.remove();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('resolves a short sha and a tag, and reads only the manifests folder', async () => {
    const cache = createManifestCache({ repository: repo.dir, dir: join(cacheDir, 'web.git') });
    assert.deepEqual(await cache.resolve({ commit: first.slice(0, 7) }), {
      commit: first,
      tag: undefined,
    });
    assert.deepEqual(await cache.resolve({ tag: 'v1' }), { commit: first, tag: 'v1' });
    const files = await cache.readManifests(first, 'kubernetes');
    assert.deepEqual(
      files.map((file) => file.path),
      ['kubernetes/nested/config.yml', 'kubernetes/web.yaml'],
    );
    assert.match(files[1]!.text, /kind: Service/);
  });

  it('names the field of a ref that does not exist, or of a commit and tag that disagree', async () => {
    const cache = createManifestCache({ repository: repo.dir, dir: join(cacheDir, 'web.git') });
    const refusal = (field: string) => (error: CadenceError) => error.field === field;
    await assert.rejects(cache.resolve({ commit: 'deadbeef' }), refusal('commit'));
    await assert.rejects(cache.resolve({ commit: 'not-hex' }), refusal('commit'));
    await assert.rejects(cache.resolve({ tag: 'v9' }), refusal('tag'));
    await assert.rejects(cache.resolve({}), refusal('commit'));
    await assert.rejects(cache.readManifests(first, 'missing'), refusal('manifests'));
  });

  it('keeps the clone: a new commit is fetched into it, a known one needs no remote', async () => {
    const dir = join(cacheDir, 'web.git');
    writeFileSync(join(dir, 'cadence-marker'), 'the same clone');
    const second = repo.commit('web v2', '2026-01-02T00:00:00Z', {
      'kubernetes/web.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: web2 }\n',
    });
    const cache = createManifestCache({ repository: repo.dir, dir });
    assert.equal((await cache.resolve({ commit: second })).commit, second);
    assert.ok(existsSync(join(dir, 'cadence-marker')), 'fetched into the existing clone');
    assert.match((await cache.readManifests(second, 'kubernetes'))[1]!.text, /web2/);

    const moved = `${repo.dir}-away`;
    renameSync(repo.dir, moved);
    try {
      const offline = createManifestCache({ repository: repo.dir, dir });
      assert.equal((await offline.resolve({ commit: first.slice(0, 10) })).commit, first);
      await assert.rejects(
        offline.resolve({ commit: 'abcdef12' }),
        (error: CadenceError) => error.field === 'repository' && error.code === 'unavailable',
      );
    } finally {
      renameSync(moved, repo.dir);
    }
  });
});
