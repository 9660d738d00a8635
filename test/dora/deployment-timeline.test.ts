/**
 * The deployments timeline and the incidents list (`listDeployments`, `listIncidents`) over the
 * golden scenario, on every engine: each row's changes, commits, failures and incidents are the
 * ones docs/metrics.md works out by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { listDeployments, listIncidents } from '../../src/dora/index.js';
import type { Store } from '../../src/store/index.js';
import { postCdevents, testApp } from '../support/app.js';
import { HOUR, scenario, settings, window } from '../support/dora-scenario.js';
import { engines, openTestStore } from '../support/engines.js';

// An incident on a service that never deployed, detected before the window and never resolved.
const openIncident = {
  context: {
    specversion: '0.5.1',
    id: 'timeline-open-incident',
    source: '/timeline',
    type: 'dev.cdevents.incident.detected.0.3.0',
    timestamp: '2026-02-20T08:00:00Z',
  },
  subject: {
    id: 'I3',
    content: { environment: { id: 'production' }, service: { id: 'search' } },
  },
};

for (const engine of engines) {
  describe(`deployments timeline and incidents on ${engine}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let dispose: () => Promise<void>;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      const built = testApp(store, { dora: settings });
      app = built.app;
      await postCdevents(app, [...scenario, openIncident]);
      await built.settle();
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    it('lists every production attempt and rollback, newest first, with what the rules derived', async () => {
      const rows = await listDeployments(store, { ...window, limit: 100 }, settings);
      assert.deepEqual(
        rows.map((d) => [
          d.deployedAt.slice(5, 16),
          d.service,
          d.kind,
          d.outcome,
          d.revision,
          d.failureReasons,
          d.restoredAt?.slice(5, 16) ?? null,
          d.rework,
          d.changes,
          d.incidents.map((i) => i.key),
        ]),
        [
          ['03-11T10:00', 'web', 'deploy', 'success', 'r5', [], null, false, [], []],
          [
            '03-10T10:00',
            'web',
            'deploy',
            'failure',
            'r5',
            ['outcome'],
            '03-11T10:00',
            false,
            [],
            [],
          ],
          ['03-09T13:00', 'web', 'rollback', 'success', 'r4', [], null, false, [], []],
          [
            '03-09T12:00',
            'web',
            'deploy',
            'success',
            'r5',
            ['rolled back'],
            '03-09T13:00',
            false,
            ['acme/web#5'],
            [],
          ],
          ['03-05T09:00', 'web', 'deploy', 'success', 'r4', [], null, true, ['acme/web#4'], []],
          [
            '03-04T14:00',
            'web',
            'deploy',
            'success',
            'r3',
            ['incident I1'],
            '03-05T09:30',
            false,
            ['acme/web#3', 'acme/web@r2'],
            ['I1'],
          ],
          [
            '03-03T00:00',
            'api',
            'deploy',
            'success',
            null,
            ['incident I2'],
            '03-12T02:00',
            false,
            [],
            ['I2'],
          ],
          ['03-02T12:00', 'web', 'deploy', 'success', 'r1', [], null, false, ['acme/web#1'], []],
        ],
      );
      const d2 = rows.find((d) => d.revision === 'r3')!;
      assert.deepEqual(
        d2.commits.map((c) => [c.sha, c.committedAt, c.leadTimeSeconds / HOUR]),
        [
          ['b1', '2026-03-03T09:00:00.000Z', 29],
          ['c1', '2026-03-03T12:00:00.000Z', 26],
          ['c2', '2026-03-04T06:00:00.000Z', 8],
        ],
      );
      assert.deepEqual(d2.incidents, [
        {
          key: 'I1',
          service: 'web',
          environment: 'production',
          detectedAt: '2026-03-04T16:00:00.000Z',
          resolvedAt: '2026-03-05T09:30:00.000Z',
        },
      ]);
      assert.equal(d2.cdeventId.length > 0, true);
      assert.equal(d2.artifact, 'pkg:oci/web@sha256%3Aab');
    });

    it('narrows by service, team, environment, window and limit', async () => {
      const revisions = async (query: Record<string, unknown>) =>
        (await listDeployments(store, { ...window, limit: 100, ...query }, settings)).map(
          (d) => `${d.service}:${d.kind}:${d.revision}`,
        );
      assert.equal((await revisions({ service: 'web' })).length, 7);
      assert.deepEqual(await revisions({ team: 'platform' }), ['api:deploy:null']);
      assert.deepEqual(await revisions({ environment: 'staging' }), ['web:deploy:r1']);
      assert.deepEqual(await revisions({ limit: 2 }), ['web:deploy:r5', 'web:deploy:r5']);
      assert.deepEqual(await revisions({ from: new Date('2026-03-05T00:00:00Z') }), [
        'web:deploy:r5',
        'web:deploy:r5',
        'web:rollback:r4',
        'web:deploy:r5',
        'web:deploy:r4',
      ]);
      await assert.rejects(
        listDeployments(store, { ...window, team: 'nobody', limit: 10 }, settings),
        /no service in the configuration belongs to team/,
      );
    });

    it('lists incidents with their time to restore and the deployment they were attributed to', async () => {
      const rows = await listIncidents(store, { ...window, limit: 100 }, settings);
      assert.deepEqual(
        rows.map((i) => [
          i.key,
          i.service,
          i.detectedAt,
          i.resolvedAt,
          i.durationSeconds === null ? null : i.durationSeconds / HOUR,
          i.causeDeployment,
          i.attributedTo.map((a) => `${a.service}@${a.deployedAt.slice(5, 16)}:${a.revision}`),
        ]),
        [
          [
            'I2',
            'api',
            '2026-03-12T00:00:00.000Z',
            '2026-03-12T02:00:00.000Z',
            2,
            'api-deploy-1',
            ['api@03-03T00:00:null'],
          ],
          [
            'I1',
            'web',
            '2026-03-04T16:00:00.000Z',
            '2026-03-05T09:30:00.000Z',
            17.5,
            null,
            ['web@03-04T14:00:r3'],
          ],
          // Open, detected before the window: still listed.
          ['I3', 'search', '2026-02-20T08:00:00.000Z', null, null, null, []],
        ],
      );
      const keys = async (query: Record<string, unknown>) =>
        (await listIncidents(store, { ...window, limit: 100, ...query }, settings)).map(
          (i) => i.key,
        );
      assert.deepEqual(await keys({ service: 'web' }), ['I1']);
      assert.deepEqual(await keys({ from: new Date('2026-03-10T00:00:00Z') }), ['I2', 'I3']);
      assert.deepEqual(
        await keys({
          to: new Date('2026-02-10T00:00:00Z'),
          from: new Date('2026-01-01T00:00:00Z'),
        }),
        [],
      );
      assert.deepEqual(await keys({ environment: 'staging' }), []);
    });
  });
}
