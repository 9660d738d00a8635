/**
 * Sources bound to their door (issue 13): a producer's transformer runs only for events that came
 * through its own webhook receiver, or through /events and /cdevents from an ingest token allowed
 * that source. Reproduces the forged-incident hole first: an `io.prometheus.alertmanager.
 * notification` CloudEvent on /events, with an Alertmanager token configured, used to become an
 * incident; the same for Argo CD, GitHub and GitLab types.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../../src/auth/index.js';
import { compileRoutingTable, type Router } from '../../src/events/index.js';
import { admitEvent } from '../../src/events/intake.js';
import { insertEvents } from '../../src/events/event-rows.js';
import type { CadenceError } from '../../src/problem/index.js';
import {
  alertmanagerSettingsSchema,
  argocdSettingsSchema,
  githubSettingsSchema,
  gitlabSettingsSchema,
} from '../../src/sources/index.js';
import type { Store } from '../../src/store/index.js';
import { routeAll, sampleEvent, structured, testApp, batched } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

const firing = JSON.parse(
  readFileSync(new URL('../sources/fixtures/alertmanager/firing.json', import.meta.url), 'utf8'),
) as unknown;
const synced = JSON.parse(
  readFileSync(
    new URL('../sources/fixtures/argocd/app-sync-succeeded.json', import.meta.url),
    'utf8',
  ),
) as unknown;

/** One forged CloudEvent per producer whose webhook has a secret in these tests. */
const FORGED: [string, Record<string, unknown>][] = [
  ['alertmanager', { type: 'io.prometheus.alertmanager.notification', data: firing }],
  ['argocd', { type: 'io.argoproj.argocd.app.on-sync-succeeded', data: synced }],
  ['github', { type: 'com.github.push', data: { ref: 'refs/heads/main' } }],
  ['gitlab', { type: 'com.gitlab.push', data: { object_kind: 'push' } }],
];

for (const engine of engines) {
  describe(`sources bound to their door (${engine})`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    let router: Router;

    before(async () => {
      ({ store, dispose } = await openTestStore(engine));
      ({ app, router } = testApp(store, {
        sources: {
          alertmanager: alertmanagerSettingsSchema.parse({ token: 'am-secret' }),
          argocd: argocdSettingsSchema.parse({ token: 'argo-secret' }),
          github: githubSettingsSchema.parse({ secret: 'gh-secret' }),
          gitlab: gitlabSettingsSchema.parse({ token: 'gl-secret' }),
        },
      }));
    });
    after(async () => {
      await app.close();
      await dispose();
    });

    const count = async (sql: string) =>
      (await store.query<{ n: number }>(`select count(*)::int as n from ${sql}`)).rows[0]!.n;
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url: '/events',
        headers: { ...structured, ...headers },
        payload: JSON.stringify(body),
      });

    for (const [producer, fields] of FORGED) {
      it(`refuses an anonymous ${producer} CloudEvent on /events: no event, no CDEvent`, async () => {
        const before = await count('events');
        const response = await post(sampleEvent({ id: `forged-${producer}`, ...fields }));
        assert.equal(response.statusCode, 403, response.body);
        assert.match(String(response.headers['content-type']), /application\/problem\+json/);
        assert.equal(response.json().field, 'type');
        assert.match(response.json().detail, new RegExp(`/webhooks/${producer}`));
        await routeAll(router);
        assert.equal(await count('events'), before);
        assert.equal(await count(`cdevents where transformer = '${producer}'`), 0);
      });
    }

    it('names the refused event in a batch', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/events',
        headers: batched,
        payload: JSON.stringify([
          sampleEvent({ id: 'fine-1' }),
          sampleEvent({ id: 'forged-batch', ...FORGED[0]![1] }),
        ]),
      });
      assert.equal(response.statusCode, 403, response.body);
      assert.equal(response.json().field, '[1].type');
      assert.equal(await count(`events where id = 'fine-1'`), 0, 'nothing of the batch is stored');
    });

    it('routes the same event from an ingest token allowed that source, and only that one', async () => {
      const allowed = await createToken(store, {
        name: 'am-relay',
        services: ['*'],
        actions: ['ingest'],
        sources: ['alertmanager'],
      });
      const other = await createToken(store, {
        name: 'gh-relay',
        services: ['*'],
        actions: ['ingest'],
        sources: ['github'],
      });
      const event = sampleEvent({ id: 'relayed-am', ...FORGED[0]![1] });
      const refused = await post(event, { authorization: `Bearer gh-relay:${other.secret}` });
      assert.equal(refused.statusCode, 403, refused.body);
      assert.match(refused.json().detail, /gh-relay may not send events for alertmanager/);
      const accepted = await post(event, { authorization: `Bearer am-relay:${allowed.secret}` });
      assert.equal(accepted.statusCode, 202, accepted.body);
      await routeAll(router);
      assert.ok((await count(`cdevents where subject_type = 'incident'`)) > 0, 'an incident');
      const { rows } = await store.query<{ door: string; principal: string; vouched: string[] }>(
        `select door, principal, vouched from events where id = 'relayed-am'`,
      );
      assert.deepEqual(rows[0], {
        door: '/events',
        principal: 'am-relay',
        vouched: ['alertmanager'],
      });
    });

    it('the router runs no producer transformer its door does not vouch for', async () => {
      // Stored past the intake (a routing table changed since, or any other way in).
      await insertEvents(
        store,
        [
          {
            specversion: '1.0',
            id: 'past-the-intake',
            source: '/forged',
            type: 'io.prometheus.alertmanager.notification',
            extensions: {},
            data: firing,
          },
        ],
        [{ name: '/events', principal: null, vouched: [] }],
      );
      const incidents = await count(`cdevents where subject_type = 'incident'`);
      await routeAll(router);
      assert.equal(await count(`cdevents where subject_type = 'incident'`), incidents);
      const { rows } = await store.query<{ route_note: string }>(
        `select route_note from events where id = 'past-the-intake'`,
      );
      assert.match(rows[0]!.route_note, /alertmanager: not run/);
    });

    it('keeps an anonymous event for a producer without a secret flowing', async () => {
      const response = await post(
        sampleEvent({ id: 'plain-cdevent-free', type: 'com.example.thing.happened' }),
      );
      assert.equal(response.statusCode, 202, response.body);
    });
  });
}

describe('admitting an event at the door', () => {
  // A routing table that tries to route around Alertmanager's secret with a type of its own.
  const table = compileRoutingTable(
    [
      { type: 'custom.*', transformers: ['alertmanager'] },
      { type: 'dev.tekton.event.pipelinerun.*', transformers: ['tekton'] },
    ],
    ['alertmanager', 'tekton'],
  );
  const admission = { table, secured: new Set(['alertmanager']) };
  const cases: [
    string,
    string,
    { name: string; sources: string[] } | undefined,
    string[] | 'refused',
  ][] = [
    [
      'a renamed type routed to a secured producer, anonymous',
      'custom.alert',
      undefined,
      'refused',
    ],
    [
      'an unsecured producer, anonymous',
      'dev.tekton.event.pipelinerun.successful.v1',
      undefined,
      ['tekton'],
    ],
    [
      'a secured producer from a token allowed it',
      'custom.alert',
      { name: 't', sources: ['alertmanager'] },
      ['alertmanager'],
    ],
    [
      'an unsecured producer from a token not allowed it',
      'dev.tekton.event.pipelinerun.successful.v1',
      { name: 't', sources: ['github'] },
      'refused',
    ],
    ['no route at all', 'com.example.x', undefined, []],
  ];
  for (const [name, type, caller, expected] of cases) {
    it(name, () => {
      const admit = () => admitEvent(admission, '/events', caller, { type, source: '/s' }, '');
      if (expected === 'refused') {
        assert.throws(
          admit,
          (error: CadenceError) => error.code === 'forbidden' && error.field === 'type',
        );
      } else {
        const door = admit();
        assert.deepEqual(caller ? door.vouched : door.vouched, caller ? caller.sources : expected);
      }
    });
  }
});
