import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deployerSettingsSchema } from '../../src/deploy/index.js';
import type { DeployedRevision } from '../../src/deploy/deploy-rows.js';
import { readServiceState } from '../../src/deploy/deploy-rows.js';
import { findKept, keepReplaced } from '../../src/deploy/kept-versions.js';
import { CadenceError } from '../../src/problem/index.js';
import { applyMigrations, listMigrations } from '../../src/store/migrations.js';
import { engines, openTestStore } from '../support/engines.js';

const revision = (version: string, commit = `${version.replace(/\W/g, '')}00`.padEnd(40, 'a')) =>
  ({
    version,
    commit,
    imageTags: {},
    objects: [],
    at: '2026-12-04T10:00:00.000Z',
  }) satisfies DeployedRevision;

const versions = (list: DeployedRevision[]) => list.map((entry) => entry.version);

describe('keepReplaced: the previous versions after a deploy or promote', () => {
  const table: {
    name: string;
    previous: string[];
    replaced: string | null;
    next: string;
    keep: number;
    expected: string[];
  }[] = [
    { name: 'first deploy', previous: [], replaced: null, next: 'v1', keep: 5, expected: [] },
    {
      name: 'stable goes first',
      previous: ['v1'],
      replaced: 'v2',
      next: 'v3',
      keep: 5,
      expected: ['v2', 'v1'],
    },
    {
      name: 'at most keep',
      previous: ['v3', 'v2', 'v1'],
      replaced: 'v4',
      next: 'v5',
      keep: 2,
      expected: ['v4', 'v3'],
    },
    {
      name: 'never the version now stable',
      previous: ['v2', 'v1'],
      replaced: 'v3',
      next: 'v1',
      keep: 5,
      expected: ['v3', 'v2'],
    },
    {
      name: 'one entry per version, the newest',
      previous: ['v2', 'v1'],
      replaced: 'v1',
      next: 'v3',
      keep: 5,
      expected: ['v1', 'v2'],
    },
    {
      name: 'the same version again keeps the list',
      previous: ['v1'],
      replaced: 'v2',
      next: 'v2',
      keep: 5,
      expected: ['v1'],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const kept = keepReplaced(
        row.previous.map((version) => revision(version)),
        row.replaced === null ? null : revision(row.replaced),
        row.next,
        row.keep,
      );
      assert.deepEqual(versions(kept), row.expected);
    });
  }
});

describe('findKept: which kept version a rollback returns to', () => {
  const kept = [
    revision('v3', 'c'.repeat(40)),
    { ...revision('main-abc1234', 'abc1234'.padEnd(40, '0')), tag: 'release-7' },
    revision('v1', 'abc9999'.padEnd(40, '0')),
  ];
  const table: { to: string | undefined; index?: number; code?: string; field?: string }[] = [
    { to: undefined, index: 0 },
    { to: 'v1', index: 2 },
    { to: 'release-7', index: 1 },
    { to: 'ABC1234', index: 1 },
    { to: 'cccc', index: 0 },
    { to: 'abc', code: 'not-found', field: 'to' }, // too short for a commit, no such version
    { to: 'abc9', index: 2 },
    { to: 'v9', code: 'not-found', field: 'to' },
  ];
  for (const row of table) {
    it(`to ${row.to ?? '(the newest)'}`, () => {
      if (row.index !== undefined) {
        assert.equal(findKept('web', kept, row.to), row.index);
        return;
      }
      assert.throws(
        () => findKept('web', kept, row.to),
        (error: unknown) =>
          error instanceof CadenceError &&
          error.code === row.code &&
          error.field === row.field &&
          error.message.includes('kept: v3 (cccccccccccc), main-abc1234'),
      );
    });
  }

  it('refuses a commit naming several kept versions, and a rollback with nothing kept', () => {
    const imageOnly = [revision('v2', 'd'.repeat(40)), revision('v1', 'd'.repeat(40))];
    assert.throws(
      () => findKept('web', imageOnly, 'dddd'),
      (error: unknown) =>
        error instanceof CadenceError && error.field === 'to' && /several/.test(error.message),
    );
    assert.throws(
      () => findKept('web', [], undefined),
      (error: unknown) => error instanceof CadenceError && error.code === 'conflict',
    );
    assert.throws(
      () => findKept('web', [], 'v1'),
      (error: unknown) =>
        error instanceof CadenceError && error.field === 'to' && /kept: none/.test(error.message),
    );
  });

  it('keeps 5 by default, configurable per service', () => {
    const settings = deployerSettingsSchema.parse({
      services: {
        web: { repository: '/r', namespace: 'p' },
        api: { repository: '/r', namespace: 'p', keepVersions: 12 },
      },
    });
    assert.equal(settings.services.web!.keepVersions, 5);
    assert.equal(settings.services.api!.keepVersions, 12);
    const bad = deployerSettingsSchema.safeParse({
      services: { web: { repository: '/r', namespace: 'p', keepVersions: 0 } },
    });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ['services', 'web', 'keepVersions']);
  });
});

for (const engine of engines) {
  describe(`migration 019 on ${engine}`, () => {
    it('keeps the one previous version a service had as its first kept version', async () => {
      const { store, dispose } = await openTestStore(engine, { migrate: false });
      try {
        const all = listMigrations();
        await applyMigrations(
          store,
          all.filter((migration) => migration.version < 19),
        );
        const before = revision('v1');
        await store.query(
          `insert into deploy_services (service, stable, previous) values ('web', $1, $2), ('api', $1, null)`,
          [JSON.stringify(revision('v2')), JSON.stringify(before)],
        );
        await applyMigrations(store, all);
        assert.deepEqual((await readServiceState(store, 'web')).previous, [before]);
        assert.deepEqual((await readServiceState(store, 'api')).previous, []);
        assert.deepEqual((await readServiceState(store, 'new')).previous, []);
      } finally {
        await dispose();
      }
    });
  });
}
