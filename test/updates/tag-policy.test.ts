/** Tag policies and freshness as tables: current tag, registry tags, policy → the update. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  freshness,
  selectUpdate,
  tagPolicySchema,
  updateCandidates,
  type TagPolicyInput,
} from '../../src/updates/tag-policy.js';

const tags = [
  '1.2.2',
  '1.2.3',
  '1.2.4',
  'v1.2.10',
  '1.3.0-rc.1',
  '1.3.0',
  '1.4.1',
  '2.0.0-beta.2',
  '2.0.0',
  '2.1.0-rc.1',
  'latest',
  'main-1a2b3c4',
];

const rows: {
  name: string;
  current: string;
  policy: TagPolicyInput;
  expected: string | undefined;
  tags?: string[];
}[] = [
  {
    name: 'patch: newest patch of the same minor (numeric order, v prefix)',
    current: '1.2.3',
    policy: { type: 'patch' },
    expected: 'v1.2.10',
  },
  {
    name: 'minor: newest of the same major',
    current: '1.2.3',
    policy: { type: 'minor' },
    expected: '1.4.1',
  },
  {
    name: 'major: newest stable release',
    current: '1.2.3',
    policy: { type: 'major' },
    expected: '2.0.0',
  },
  { name: 'never a downgrade', current: '1.4.1', policy: { type: 'minor' }, expected: undefined },
  { name: 'already newest', current: '2.0.0', policy: { type: 'major' }, expected: undefined },
  {
    name: 'pre-releases excluded by default',
    current: '2.0.0',
    policy: { type: 'major', prerelease: 'exclude' },
    expected: undefined,
  },
  {
    name: 'pre-releases included when asked',
    current: '2.0.0',
    policy: { type: 'major', prerelease: 'include' },
    expected: '2.1.0-rc.1',
  },
  {
    name: 'same-version: from a pre-release to the next one of its version, or the release',
    current: '1.3.0-rc.1',
    policy: { type: 'patch', prerelease: 'same-version' },
    tags: ['1.3.0-rc.1', '1.3.0-rc.2', '1.3.1-rc.1'],
    expected: '1.3.0-rc.2',
  },
  {
    name: 'same-version: not a pre-release of another version',
    current: '1.3.0',
    policy: { type: 'patch', prerelease: 'same-version' },
    tags: ['1.3.0', '1.3.1-rc.1'],
    expected: undefined,
  },
  {
    name: 'a release beats its pre-release',
    current: '1.3.0-rc.1',
    policy: { type: 'patch', prerelease: 'same-version' },
    expected: '1.3.0',
  },
  {
    name: 'a current tag that is no version has no semver update',
    current: 'latest',
    policy: { type: 'major' },
    expected: undefined,
  },
  {
    name: 'glob: natural order of matching tags',
    current: 'build-9',
    policy: { type: 'glob', pattern: 'build-*' },
    tags: ['build-9', 'build-10', 'build-8', 'other-99'],
    expected: 'build-10',
  },
  {
    name: 'glob: nothing newer',
    current: 'build-10',
    policy: { type: 'glob', pattern: 'build-*' },
    tags: ['build-9', 'build-10'],
    expected: undefined,
  },
];

describe('tag policy', () => {
  for (const row of rows) {
    it(row.name, () => {
      assert.equal(
        selectUpdate(row.current, row.tags ?? tags, tagPolicySchema.parse(row.policy)),
        row.expected,
      );
    });
  }

  it('glob: by publication time when the registry knows it', () => {
    const at = new Map([
      ['main-aaa', new Date('2026-11-01T00:00:00Z')],
      ['main-fff', new Date('2026-10-01T00:00:00Z')],
      ['main-bbb', new Date('2026-11-02T00:00:00Z')],
    ]);
    const policy = tagPolicySchema.parse({ type: 'glob', pattern: 'main-*' });
    assert.deepEqual(updateCandidates('main-aaa', [...at.keys()], policy, at), ['main-bbb']);
  });

  it('refuses an unknown policy type', () => {
    assert.equal(tagPolicySchema.safeParse({ type: 'newest' }).success, false);
  });
});

describe('freshness', () => {
  it('counts every newer version, whatever the policy takes', () => {
    const result = freshness('1.2.3', tags, tagPolicySchema.parse({ type: 'patch' }));
    // newer stable versions: 1.2.4, 1.2.10, 1.3.0, 1.4.1, 2.0.0
    assert.deepEqual(result, {
      current: '1.2.3',
      newest: '2.0.0',
      versionsBehind: 5,
      update: 'v1.2.10',
    });
  });
  it('up to date', () => {
    assert.deepEqual(freshness('2.0.0', tags, tagPolicySchema.parse({ type: 'major' })), {
      current: '2.0.0',
      newest: '2.0.0',
      versionsBehind: 0,
      update: undefined,
    });
  });
  it('1.2.3 and v1.2.3 are one version', () => {
    assert.equal(
      freshness('1.2.2', ['1.2.3', 'v1.2.3'], tagPolicySchema.parse({ type: 'patch' }))
        .versionsBehind,
      1,
    );
  });
});
