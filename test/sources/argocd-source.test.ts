import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { validateCdevent, type CloudEvent } from '../../src/events/index.js';
import { CadenceError } from '../../src/problem/index.js';
import { argocdSettingsSchema, builtinWebhookReceivers } from '../../src/sources/index.js';
import {
  argocdNotificationSchema,
  createArgocdReceiver,
  createArgocdSource,
  type ArgocdNotification,
} from '../../src/sources/argocd-source.js';
import { routeAll } from '../support/app.js';
import { appPerSuite } from '../support/suite-app.js';
import {
  cadenceError,
  jsonPost,
  postDelivery,
  storedEvent,
  webhookDelivery as delivery,
  type Json,
} from '../support/source-deliveries.js';
import { sourceContract } from './source-contract.js';
type Fixture = 'app-sync-succeeded' | 'app-sync-failed' | 'app-health-degraded';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** Bodies as Cadence's template in docs/sources.md renders them. */
function fixture(name: Fixture): ArgocdNotification {
  return JSON.parse(read(`./fixtures/argocd/${name}.json`)) as ArgocdNotification;
}

const receivedAt = new Date('2026-11-20T09:30:42Z');

function receive(body: unknown, token?: string, headers: Record<string, string> = {}) {
  return createArgocdReceiver(argocdSettingsSchema.parse(token ? { token } : {})).receive(
    delivery(body, headers),
    receivedAt,
  );
}

const stored = (event: CloudEvent) => storedEvent(event, receivedAt);

function deliverAndTransform(body: unknown) {
  const [event] = receive(body);
  const outcome = createArgocdSource(argocdSettingsSchema.parse({})).transform(stored(event!));
  return outcome as Exclude<typeof outcome, Promise<unknown>>;
}

function deployment(cdevent: Json) {
  const result = validateCdevent(cdevent);
  assert.ok(result.ok, JSON.stringify(result));
  const { context, subject, customData } = cdevent as {
    context: { id: string; type: string; timestamp: string };
    subject: { id: string; content: { environment: { id: string }; artifactId: string } };
    customData: { cadence: Json };
  };
  return {
    type: context.type,
    at: context.timestamp,
    service: subject.id,
    environment: subject.content.environment.id,
    artifactId: subject.content.artifactId,
    cadence: customData.cadence,
  };
}

describe('argocd transformer', () => {
  it('turns a sync that succeeded and left the app Healthy into service.deployed', () => {
    const { cdevents, note } = deliverAndTransform(fixture('app-sync-succeeded'));
    assert.equal(note, undefined);
    assert.deepEqual(cdevents.map(deployment), [
      {
        type: 'dev.cdevents.service.deployed.0.3.0',
        at: '2026-11-20T09:30:41Z',
        service: 'web-production',
        environment: 'production',
        artifactId: 'pkg:oci/web?repository_url=registry.example.com%2Facme%2Fweb&tag=1.4.2',
        cadence: {
          revision: '9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29',
          repository: 'acme/web-deploy',
          outcome: 'success',
        },
      },
    ]);
  });

  it('turns a failed sync into service.deployed with outcome failure', () => {
    const [failed] = deliverAndTransform(fixture('app-sync-failed')).cdevents.map(deployment);
    assert.equal(failed!.at, '2026-11-21T14:05:19Z');
    assert.deepEqual(failed!.cadence, {
      revision: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
      repository: 'acme/web-deploy',
      outcome: 'failure',
    });
  });

  const cases: {
    name: string;
    edits: Partial<ArgocdNotification>;
    base?: Fixture;
    outcome?: 'success' | 'failure';
    note?: RegExp;
    expect?: Partial<ReturnType<typeof deployment>>;
  }[] = [
    {
      name: 'Degraded after a sync: only a note (the incident comes from Alertmanager)',
      base: 'app-health-degraded',
      edits: {},
      note: /web-production is Degraded after a sync: not a deployment; an incident comes from Alertmanager/,
    },
    {
      name: 'synced but still Progressing: counted once Healthy',
      edits: { healthStatus: 'Progressing' },
      note: /synced but is Progressing: it counts as deployed once Healthy/,
    },
    {
      name: 'sync still running',
      edits: { phase: 'Running', finishedAt: '' },
      note: /sync phase Running: the sync has not finished/,
    },
    {
      name: 'never synced',
      edits: { phase: '', revision: '', startedAt: '', finishedAt: '' },
      note: /sync phase \(none\)/,
    },
    { name: 'phase Error is a failure', edits: { phase: 'Error' }, outcome: 'failure' },
    {
      name: 'phase Failed while Degraded is still a failed deployment',
      base: 'app-sync-failed',
      edits: { healthStatus: 'Degraded' },
      outcome: 'failure',
    },
    {
      name: 'no environment label: the destination namespace',
      edits: { environment: '' },
      outcome: 'success',
      expect: { environment: 'web' },
    },
    {
      name: 'environment key left out: the destination namespace',
      edits: { environment: undefined },
      outcome: 'success',
      expect: { environment: 'web' },
    },
    {
      name: 'no environment at all',
      edits: { environment: '', namespace: '' },
      note: /names no environment/,
    },
    {
      name: 'no images: the app at its revision as a generic artifact',
      edits: { images: [] },
      outcome: 'success',
      expect: { artifactId: 'pkg:generic/web-production@9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29' },
    },
    {
      name: 'images null (toJson of a missing list)',
      edits: { images: null },
      outcome: 'success',
      expect: { artifactId: 'pkg:generic/web-production@9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29' },
    },
    {
      name: 'no repoURL (a multi-source app): no repository',
      edits: { repoURL: '' },
      outcome: 'success',
      expect: {
        cadence: { revision: '9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29', outcome: 'success' },
      },
    },
    {
      name: 'no finishedAt: the delivery time',
      edits: { finishedAt: '' },
      outcome: 'success',
      expect: { at: '2026-11-20T09:30:42.000Z' },
    },
  ];
  for (const { name, base, edits, outcome, note, expect } of cases) {
    it(name, () => {
      const result = deliverAndTransform({ ...fixture(base ?? 'app-sync-succeeded'), ...edits });
      if (note) {
        assert.deepEqual(result.cdevents, []);
        assert.match(result.note ?? '', note);
        return;
      }
      const [made, ...more] = result.cdevents.map(deployment);
      assert.equal(more.length, 0);
      assert.equal(made!.cadence.outcome, outcome);
      for (const [key, value] of Object.entries(expect ?? {})) {
        assert.deepEqual(made![key as keyof typeof made], value, key);
      }
    });
  }

  it('gives one deployment to two triggers reporting the same sync, another to the next sync', () => {
    const id = (body: Json) =>
      (deliverAndTransform(body).cdevents[0] as { context: { id: string } }).context.id;
    const succeeded = id(fixture('app-sync-succeeded'));
    assert.equal(id({ ...fixture('app-sync-succeeded'), event: 'on-deployed' }), succeeded);
    assert.notEqual(
      id({ ...fixture('app-sync-succeeded'), finishedAt: '2026-11-20T12:00:00Z' }),
      succeeded,
    );
  });

  it('notes events that are not Argo CD notifications', async () => {
    const source = createArgocdSource(argocdSettingsSchema.parse({}));
    const [event] = receive(fixture('app-sync-succeeded'));
    const other = await source.transform(stored({ ...event!, type: 'com.example.x' }));
    assert.match(other.note ?? '', /not an Argo CD notification/);
    const broken = await source.transform(stored({ ...event!, data: { app: 'x' } }));
    assert.match(broken.note ?? '', /not Cadence's Argo CD notification body: project/);
  });
});

describe('argocd receiver', () => {
  it('stores a notification as io.argoproj.argocd.app.<event>, its id a digest of the sync', () => {
    const [event] = receive(fixture('app-sync-succeeded'));
    assert.equal(event!.type, 'io.argoproj.argocd.app.on-sync-succeeded');
    assert.equal(event!.source, '/webhooks/argocd');
    assert.equal(event!.subject, 'web-production');
    assert.deepEqual(event!.data, fixture('app-sync-succeeded'));
    const id = (body: Json) => receive(body)[0]!.id;
    const base = fixture('app-sync-succeeded');
    assert.equal(id({ ...base, syncStatus: 'OutOfSync' }), event!.id, 'a re-sent sync');
    for (const key of ['app', 'revision', 'phase', 'finishedAt', 'event'] as const) {
      const changed = key === 'finishedAt' ? '2026-11-20T10:00:00Z' : `other-${key}`;
      assert.notEqual(id({ ...base, [key]: changed }), event!.id, key);
    }
  });

  const bad: [string, unknown, string][] = [
    ['not JSON', '{"app":', 'body'],
    ['an array', [], 'body'],
    ['app missing', { ...fixture('app-sync-succeeded'), app: undefined }, 'app'],
    ['app empty', { ...fixture('app-sync-succeeded'), app: '' }, 'app'],
    ['revision missing', { ...fixture('app-sync-succeeded'), revision: undefined }, 'revision'],
    [
      'finishedAt not a time',
      { ...fixture('app-sync-succeeded'), finishedAt: 'now' },
      'finishedAt',
    ],
    ['images not a list', { ...fixture('app-sync-succeeded'), images: 'web:1' }, 'images'],
    ['an empty image', { ...fixture('app-sync-succeeded'), images: ['web:1', ''] }, 'images[1]'],
    ['event with a space', { ...fixture('app-sync-succeeded'), event: 'on sync' }, 'event'],
    ['a misspelt key', { ...fixture('app-sync-succeeded'), repoUrl: 'x' }, 'repoUrl'],
    ['phase a number', { ...fixture('app-sync-succeeded'), phase: 3 }, 'phase'],
  ];
  for (const [name, body, field] of bad) {
    it(`refuses a body with ${name}: invalid-input naming ${field}`, () => {
      assert.throws(() => receive(body), cadenceError('invalid-input', field));
    });
  }

  const tokens: [string, Record<string, string>, boolean][] = [
    ['the right token', { authorization: 'Bearer argo-s3cret' }, true],
    ['no token', {}, false],
    ['a wrong token', { authorization: 'Bearer argo-s3cret2' }, false],
    ['the token without its scheme', { authorization: 'argo-s3cret' }, false],
  ];
  for (const [name, headers, accepted] of tokens) {
    it(`with a token configured, ${name} is ${accepted ? 'accepted' : 'unauthorized'}`, () => {
      const attempt = () => receive(fixture('app-sync-succeeded'), 'argo-s3cret', headers);
      if (accepted) assert.equal(attempt().length, 1);
      else
        assert.throws(
          attempt,
          (error: unknown) => error instanceof CadenceError && error.code === 'unauthorized',
        );
    });
  }
});

/**
 * The template in docs/sources.md, rendered against an Application object the way Argo CD's
 * notifications engine would (the two expression forms the template uses, evaluated here with
 * Go template + Sprig semantics), must be a body the receiver accepts.
 */
describe('the documented argocd-notifications-cm', () => {
  const markdown = read('../../docs/sources.md');
  const block = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((text) => text.includes('name: argocd-notifications-cm'));
  assert.ok(block, 'docs/sources.md has the argocd-notifications-cm ConfigMap');
  const configMap = parseYaml(block) as { kind: string; data: Record<string, string> };
  const application = JSON.parse(read('./fixtures/argocd/application.json')) as Json;

  function lookup(value: unknown, keys: string[]): unknown {
    let current = value;
    for (const key of keys) {
      if (typeof current !== 'object' || current === null || Array.isArray(current))
        return undefined;
      current = (current as Json)[key];
    }
    return current;
  }

  /** `toJson .app.a.b` and `dig "a" "b" <default> .app | toJson`, nothing else. */
  function render(template: string, app: Json): string {
    return template.replace(/\{\{\s*(.*?)\s*\}\}/g, (_whole, expression: string) => {
      const direct = /^toJson \.app((?:\.\w+)+)$/.exec(expression);
      if (direct) return JSON.stringify(lookup(app, direct[1]!.slice(1).split('.')) ?? null);
      const dig = /^dig ((?:"\w+" )+)("" |\(list\) )\.app \| toJson$/.exec(expression);
      if (dig) {
        const keys = [...dig[1]!.matchAll(/"(\w+)"/g)].map((m) => m[1]!);
        const fallback = dig[2]!.startsWith('""') ? '' : [];
        return JSON.stringify(lookup(app, keys) ?? fallback);
      }
      throw new Error(`the test cannot evaluate {{ ${expression} }}: extend render()`);
    });
  }

  const templates = Object.entries(configMap.data).filter(([key]) => key.startsWith('template.'));
  const triggers = Object.entries(configMap.data)
    .filter(([key]) => key.startsWith('trigger.'))
    .map(([key, text]) => ({
      name: key.slice('trigger.'.length),
      sends: (parseYaml(text) as { send: string[] }[]).flatMap((rule) => rule.send),
    }));

  it('is a ConfigMap with the cadence webhook service posting to /webhooks/argocd', () => {
    assert.equal(configMap.kind, 'ConfigMap');
    const service = parseYaml(configMap.data['service.webhook.cadence']!) as {
      url: string;
      headers: { name: string; value: string }[];
    };
    assert.match(service.url, /\/webhooks\/argocd$/);
    assert.ok(
      service.headers.some((h) => h.name === 'Authorization' && /^Bearer \$/.test(h.value)),
    );
    assert.deepEqual(templates.map(([key]) => key).sort(), [
      'template.app-health-degraded',
      'template.app-sync-failed',
      'template.app-sync-succeeded',
    ]);
  });

  for (const [key, text] of templates) {
    const name = key.slice('template.'.length);
    it(`${name}: renders every field of the body schema, and its event is the trigger sending it`, () => {
      const template = parseYaml(text) as {
        webhook: { cadence: { method: string; body: string } };
      };
      assert.equal(template.webhook.cadence.method, 'POST');
      const body = JSON.parse(render(template.webhook.cadence.body, application)) as Json;
      assert.deepEqual(
        Object.keys(body).sort(),
        Object.keys(argocdNotificationSchema.shape).sort(),
      );
      const trigger = triggers.find((t) => t.name === body.event);
      assert.ok(trigger, `a trigger named ${String(body.event)}`);
      assert.ok(trigger.sends.includes(name), `${trigger.name} sends ${name}`);
      assert.equal(receive(body).length, 1);
    });
  }

  it('renders the Application into the deployment it describes', () => {
    const [, text] = templates.find(([key]) => key === 'template.app-sync-succeeded')!;
    const template = parseYaml(text) as { webhook: { cadence: { body: string } } };
    const body = JSON.parse(render(template.webhook.cadence.body, application)) as Json;
    assert.deepEqual(body, fixture('app-sync-succeeded'));
  });

  it('renders an app that never synced (no operationState, no labels) into a valid body', () => {
    const bare = structuredClone(application) as { metadata: Json; status: Json };
    delete bare.metadata.labels;
    delete bare.status.operationState;
    delete bare.status.summary;
    const [, text] = templates.find(([key]) => key === 'template.app-health-degraded')!;
    const template = parseYaml(text) as { webhook: { cadence: { body: string } } };
    const body = JSON.parse(render(template.webhook.cadence.body, bare)) as Json;
    assert.deepEqual([body.phase, body.revision, body.environment, body.images], ['', '', '', []]);
    assert.equal(receive(body).length, 1);
  });
});

describe('POST /webhooks/argocd through the app on PGlite', () => {
  const suite = appPerSuite('pglite', {
    webhookReceivers: builtinWebhookReceivers({ argocd: { token: 'argo-s3cret' } }),
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    postDelivery(suite.app, '/webhooks/argocd', jsonPost(body, headers));
  const authorized = { authorization: 'Bearer argo-s3cret' };

  // Auth, shape errors, re-sends and notes: the source contract below.
  it('stores good deliveries (202) and routes them into deployments, the degraded one noted', async () => {
    for (const name of ['app-sync-succeeded', 'app-health-degraded', 'app-sync-failed'] as const) {
      const response = await post(fixture(name), authorized);
      assert.equal(response.statusCode, 202, response.body);
      assert.deepEqual(response.json(), { mode: 'webhook', accepted: 1, duplicates: 0 });
    }
    await routeAll(suite.router);
    const { rows } = await suite.store.query<{ subject_id: string; outcome: string }>(
      `select subject_id, body->'customData'->'cadence'->>'outcome' as outcome
       from cdevents where transformer = 'argocd' order by timestamp`,
    );
    assert.deepEqual(rows, [
      { subject_id: 'web-production', outcome: 'success' },
      { subject_id: 'web-production', outcome: 'failure' },
    ]);
    const { rows: notes } = await suite.store.query<{ route_note: string | null }>(
      `select route_note from events where type = 'io.argoproj.argocd.app.on-health-degraded'`,
    );
    assert.match(notes[0]?.route_note ?? '', /Degraded after a sync/);
  });
});

const TOKEN = { authorization: 'Bearer argo-s3cret' };
const json = (body: unknown, headers: Record<string, string> = TOKEN) => jsonPost(body, headers);

sourceContract({
  source: 'argocd',
  app: { webhookReceivers: builtinWebhookReceivers({ argocd: { token: 'argo-s3cret' } }) },
  valid: () => json(fixture('app-sync-succeeded')),
  unauthorised: () => [
    {
      name: 'no token',
      ...json(fixture('app-sync-succeeded'), {}),
      status: 401,
      field: 'authorization',
    },
    {
      name: 'a wrong token',
      ...json(fixture('app-sync-succeeded'), { authorization: 'Bearer guess' }),
      status: 401,
      field: 'authorization',
    },
  ],
  shapeErrors: () => [
    {
      name: 'no healthStatus',
      ...json({ ...fixture('app-sync-succeeded'), healthStatus: undefined }),
      field: 'healthStatus',
    },
    {
      name: 'an image that is a number',
      ...json({ ...fixture('app-sync-succeeded'), images: [1] }),
      field: 'images[0]',
    },
    { name: 'a body that is not JSON', ...json('{'), field: 'body' },
  ],
  unmapped: () => ({ ...json(fixture('app-health-degraded')), note: /Degraded after a sync/ }),
});
