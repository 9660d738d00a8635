import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validateCdevent, type CloudEvent } from '../../src/events/index.js';
import { CadenceError } from '../../src/problem/index.js';
import { alertmanagerSettingsSchema } from '../../src/sources/index.js';
import {
  createAlertmanagerReceiver,
  createAlertmanagerSource,
  incidentKey,
  type AlertmanagerPayload,
  type AlertmanagerSettings,
} from '../../src/sources/alertmanager-source.js';
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

/** A payload written from https://prometheus.io/docs/alerting/latest/configuration/#webhook_config */
function fixture(name: 'firing' | 'resolved'): AlertmanagerPayload {
  return JSON.parse(
    readFileSync(new URL(`./fixtures/alertmanager/${name}.json`, import.meta.url), 'utf8'),
  ) as AlertmanagerPayload;
}

const settings = (overrides: Partial<AlertmanagerSettings> = {}) =>
  alertmanagerSettingsSchema.parse(overrides);

const receivedAt = new Date('2026-11-20T09:42:46Z');

const stored = (event: CloudEvent) => storedEvent(event, receivedAt);

/** Receives a payload as Alertmanager posts it and transforms what was stored. */
function deliverAndTransform(payload: unknown, options: Partial<AlertmanagerSettings> = {}) {
  const [event] = createAlertmanagerReceiver(settings(options)).receive(
    delivery(payload),
    receivedAt,
  );
  const outcome = createAlertmanagerSource(settings(options)).transform(stored(event!));
  return outcome as Exclude<typeof outcome, Promise<unknown>>;
}

function summary(cdevent: Json) {
  const result = validateCdevent(cdevent);
  assert.ok(result.ok, JSON.stringify(result));
  const context = cdevent.context as Json;
  const subject = cdevent.subject as { id: string; content: Json };
  const content = subject.content as {
    description?: string;
    environment: { id: string };
    service?: { id: string };
  };
  return {
    type: context.type,
    key: subject.id,
    at: context.timestamp,
    service: content.service?.id,
    environment: content.environment.id,
    description: content.description,
  };
}

function editAlert(payload: AlertmanagerPayload, index: number, edits: Json): AlertmanagerPayload {
  const copy = structuredClone(payload);
  Object.assign(copy.alerts[index]!, edits);
  return copy;
}

describe('alertmanager transformer', () => {
  it('turns every firing alert into incident.detected at startsAt, keyed by fingerprint and firing period', () => {
    const outcome = deliverAndTransform(fixture('firing'));
    assert.deepEqual(outcome.cdevents.map(summary), [
      {
        type: 'dev.cdevents.incident.detected.0.3.0',
        key: 'alertmanager:2a5c4b1e9f3d7a86:2026-11-20T09:42:15.804Z',
        at: '2026-11-20T09:42:15.804Z',
        service: 'web',
        environment: 'production',
        description: 'web is serving errors',
      },
      {
        type: 'dev.cdevents.incident.detected.0.3.0',
        key: 'alertmanager:8d1f0c3b5e7a9246:2026-11-20T09:43:00.112Z',
        at: '2026-11-20T09:43:00.112Z',
        // No service label: the first fallback label (job) names it.
        service: 'checkout',
        // No environment label: left to the DORA rules (the service's only environment, else
        // the default), as customData.cadence.environmentGiven says.
        environment: 'unknown',
        description: 'checkout is serving errors',
      },
    ]);
  });

  it('turns resolved alerts into incident.resolved at endsAt under the same keys', () => {
    const firing = deliverAndTransform(fixture('firing')).cdevents.map(summary);
    const resolved = deliverAndTransform(fixture('resolved')).cdevents.map(summary);
    assert.deepEqual(
      resolved.map(({ type, key, at }) => ({ type, key, at })),
      [
        {
          type: 'dev.cdevents.incident.resolved.0.3.0',
          key: firing[0]!.key,
          at: '2026-11-20T10:07:45.221Z',
        },
        {
          type: 'dev.cdevents.incident.resolved.0.3.0',
          key: firing[1]!.key,
          at: '2026-11-20T10:01:30.009Z',
        },
      ],
    );
  });

  const labelCases: {
    name: string;
    labels: Record<string, string>;
    options?: Partial<AlertmanagerSettings>;
    service: string | undefined;
    environment: string;
    /** What customData.cadence says when the label is missing: the DORA rules resolve it. */
    unnamed?: { environmentGiven: false; defaultEnvironment?: string };
  }[] = [
    {
      name: 'service and environment labels',
      labels: { service: 'api', environment: 'staging', job: 'x' },
      service: 'api',
      environment: 'staging',
    },
    {
      name: 'fallback to job',
      labels: { job: 'worker' },
      service: 'worker',
      environment: 'unknown',
      unnamed: { environmentGiven: false },
    },
    {
      name: 'fallback to app when job is missing',
      labels: { app: 'cart' },
      service: 'cart',
      environment: 'unknown',
      unnamed: { environmentGiven: false },
    },
    {
      name: 'no label names a service',
      labels: {},
      service: undefined,
      environment: 'unknown',
      unnamed: { environmentGiven: false },
    },
    {
      name: 'configured labels and default environment',
      labels: { component: 'search', tier: 'prod-eu' },
      options: {
        serviceLabel: 'component',
        environmentLabel: 'tier',
        fallbackServiceLabels: [],
        defaultEnvironment: 'prod',
      },
      service: 'search',
      environment: 'prod-eu',
    },
    {
      name: 'configured default environment',
      labels: { service: 'web' },
      options: { defaultEnvironment: 'prod' },
      service: 'web',
      environment: 'prod',
      unnamed: { environmentGiven: false, defaultEnvironment: 'prod' },
    },
  ];
  for (const { name, labels, options, service, environment, unnamed } of labelCases) {
    it(`service and environment from labels: ${name}`, () => {
      const payload = editAlert(fixture('firing'), 0, {
        labels: { alertname: 'HighErrorRate', ...labels },
      });
      const [cdevent] = deliverAndTransform(payload, options).cdevents;
      const first = summary(cdevent!);
      assert.equal(first.service, service);
      assert.equal(first.environment, environment);
      const customData = cdevent!.customData as { cadence?: unknown };
      assert.deepEqual(customData.cadence, unnamed);
    });
  }

  it('says so when an alert names no service', () => {
    const payload = editAlert(fixture('firing'), 1, {
      labels: { alertname: 'Watchdog' },
      // Without a summary the description is the alert's name.
      annotations: {},
    });
    const outcome = deliverAndTransform(payload);
    assert.match(outcome.note ?? '', /1 of 2 alerts name no service \(labels service, job, app\)/);
    assert.equal(summary(outcome.cdevents[1]!).description, 'Watchdog');
  });

  it('gives a re-fire after resolution a new incident, and each status its own CDEvent id', () => {
    const ids = (payload: AlertmanagerPayload) =>
      deliverAndTransform(payload).cdevents.map((c) => (c.context as { id: string }).id);
    const firing = ids(fixture('firing'));
    assert.deepEqual(ids(fixture('firing')), firing, 'the same alert gives the same id');
    assert.notDeepEqual(ids(fixture('resolved')), firing);
    const refired = ids(editAlert(fixture('firing'), 0, { startsAt: '2026-11-20T11:00:00Z' }));
    assert.notEqual(refired[0], firing[0]);
    assert.equal(
      incidentKey({ fingerprint: '2a5c4b1e9f3d7a86', startsAt: '2026-11-20T11:00:00Z' }),
      'alertmanager:2a5c4b1e9f3d7a86:2026-11-20T11:00:00Z',
    );
  });

  it('notes an event that is not an Alertmanager notification', () => {
    const source = createAlertmanagerSource(settings());
    const [event] = createAlertmanagerReceiver(settings()).receive(
      delivery(fixture('firing')),
      receivedAt,
    );
    const other = source.transform(stored({ ...event!, type: 'io.prometheus.alertmanager.other' }));
    assert.deepEqual(other, {
      cdevents: [],
      note: 'type io.prometheus.alertmanager.other is not an Alertmanager notification',
    });
    const broken = source.transform(stored({ ...event!, data: { version: '4' } }));
    assert.match(
      (broken as { note: string }).note,
      /not an Alertmanager webhook payload: groupKey/,
    );
  });
});

describe('alertmanager receiver', () => {
  it('stores a notification as one CloudEvent from the Alertmanager, the payload as data', () => {
    const [event, ...rest] = createAlertmanagerReceiver(settings()).receive(
      delivery(fixture('firing')),
      receivedAt,
    );
    assert.equal(rest.length, 0);
    assert.equal(event!.type, 'io.prometheus.alertmanager.notification');
    assert.equal(event!.source, 'http://alertmanager.monitoring:9093');
    assert.equal(event!.time, '2026-11-20T09:42:46.000Z');
    assert.deepEqual(event!.data, fixture('firing'));
    assert.match(event!.id, /^[0-9a-f]{32}$/);
  });

  it('gives a re-sent notification the same id and any change a new one', () => {
    const receiver = createAlertmanagerReceiver(settings());
    const id = (payload: unknown) => receiver.receive(delivery(payload), new Date())[0]!.id;
    const firing = id(fixture('firing'));
    // Alertmanager repeats a group unchanged every repeat_interval: other fields may differ.
    assert.equal(id({ ...fixture('firing'), receiver: 'other', truncatedAlerts: 0 }), firing);
    assert.notEqual(id(fixture('resolved')), firing);
    assert.notEqual(id({ ...fixture('firing'), groupKey: '{}:{alertname="Other"}' }), firing);
    assert.notEqual(
      id(editAlert(fixture('firing'), 1, { fingerprint: '0000000000000001' })),
      firing,
    );
    assert.notEqual(
      id({ ...fixture('firing'), alerts: fixture('firing').alerts.slice(0, 1) }),
      firing,
    );
  });

  const badPayloads: [string, unknown, string][] = [
    ['body not JSON', '{"version": "4",', 'body'],
    ['version missing', { ...fixture('firing'), version: undefined }, 'version'],
    ['version 3', { ...fixture('firing'), version: '3' }, 'version'],
    ['status unknown', { ...fixture('firing'), status: 'pending' }, 'status'],
    ['externalURL not a URL', { ...fixture('firing'), externalURL: 'alertmanager' }, 'externalURL'],
    ['no alerts', { ...fixture('firing'), alerts: [] }, 'alerts'],
    [
      'fingerprint missing',
      editAlert(fixture('firing'), 0, { fingerprint: undefined }),
      'alerts[0].fingerprint',
    ],
    [
      'fingerprint not hex',
      editAlert(fixture('firing'), 1, { fingerprint: 'web' }),
      'alerts[1].fingerprint',
    ],
    [
      'startsAt not a time',
      editAlert(fixture('firing'), 0, { startsAt: 'yesterday' }),
      'alerts[0].startsAt',
    ],
    [
      'label value not a string',
      editAlert(fixture('firing'), 0, { labels: { severity: 3 } }),
      'alerts[0].labels.severity',
    ],
    ['alert status unknown', editAlert(fixture('firing'), 1, { status: 'ok' }), 'alerts[1].status'],
    ['groupKey empty', { ...fixture('firing'), groupKey: '' }, 'groupKey'],
  ];
  for (const [name, payload, field] of badPayloads) {
    it(`refuses a payload with ${name}: invalid-input naming ${field}`, () => {
      assert.throws(
        () => createAlertmanagerReceiver(settings()).receive(delivery(payload), receivedAt),
        cadenceError('invalid-input', field),
      );
    });
  }

  const tokenCases: [string, Record<string, string>, boolean][] = [
    ['the right bearer token', { authorization: 'Bearer s3cret-token' }, true],
    ['the scheme in lower case', { authorization: 'bearer s3cret-token' }, true],
    ['no Authorization header', {}, false],
    ['a wrong token', { authorization: 'Bearer s3cret-tokeN' }, false],
    ['a token prefix', { authorization: 'Bearer s3cret' }, false],
    [
      'basic auth',
      { authorization: `Basic ${Buffer.from('a:s3cret-token').toString('base64')}` },
      false,
    ],
  ];
  for (const [name, headers, accepted] of tokenCases) {
    it(`with a token configured, ${name} is ${accepted ? 'accepted' : 'unauthorized'}`, () => {
      const receive = () =>
        createAlertmanagerReceiver(settings({ token: 's3cret-token' })).receive(
          delivery(fixture('firing'), headers),
          receivedAt,
        );
      if (accepted) assert.equal(receive().length, 1);
      else {
        assert.throws(receive, cadenceError('unauthorized', 'authorization'));
      }
    });
  }

  it('checks the token before the payload: an unauthenticated caller learns nothing of the shape', () => {
    assert.throws(
      () =>
        createAlertmanagerReceiver(settings({ token: 's3cret-token' })).receive(
          delivery('not json'),
          receivedAt,
        ),
      (error: unknown) => error instanceof CadenceError && error.code === 'unauthorized',
    );
  });

  it('refuses settings that are not the schema', () => {
    assert.throws(() => alertmanagerSettingsSchema.parse({ serviceLabels: ['x'] }));
    assert.deepEqual(alertmanagerSettingsSchema.parse({}), {
      serviceLabel: 'service',
      environmentLabel: 'environment',
      fallbackServiceLabels: ['job', 'app'],
    });
  });
});

describe('POST /webhooks/alertmanager through the app on PGlite', () => {
  const suite = appPerSuite('pglite', {
    webhookReceivers: new Map([
      ['alertmanager', createAlertmanagerReceiver(settings({ token: 's3cret-token' }))],
    ]),
  });

  const post = (payload: unknown, headers: Record<string, string>) =>
    postDelivery(suite.app, '/webhooks/alertmanager', jsonPost(payload, headers));
  const authorized = { authorization: 'Bearer s3cret-token' };

  async function count(table: 'events' | 'cdevents'): Promise<number> {
    const { rows } = await suite.store.query<{ n: number }>(
      `select count(*)::int8 as n from ${table}`,
    );
    return rows[0]!.n;
  }

  // Auth, shape errors and re-sends: the source contract below.
  it('answers how many alerts it accepted, and routes firing and resolved into incidents', async () => {
    const first = await post(fixture('firing'), authorized);
    assert.equal(first.statusCode, 202, first.body);
    assert.deepEqual(first.json(), { mode: 'webhook', accepted: 1, duplicates: 0 });
    const again = await post(fixture('firing'), authorized);
    assert.deepEqual(again.json(), { mode: 'webhook', accepted: 0, duplicates: 1 });
    assert.equal((await post(fixture('resolved'), authorized)).statusCode, 202);
    assert.equal(await count('events'), 2);

    await routeAll(suite.router);
    const { rows } = await suite.store.query<{ predicate: string; subject_id: string }>(
      `select predicate, subject_id from cdevents where subject_type = 'incident' order by seq`,
    );
    assert.deepEqual(
      rows.map((row) => `${row.predicate} ${row.subject_id}`),
      [
        'detected alertmanager:2a5c4b1e9f3d7a86:2026-11-20T09:42:15.804Z',
        'detected alertmanager:8d1f0c3b5e7a9246:2026-11-20T09:43:00.112Z',
        'resolved alertmanager:2a5c4b1e9f3d7a86:2026-11-20T09:42:15.804Z',
        'resolved alertmanager:8d1f0c3b5e7a9246:2026-11-20T09:43:00.112Z',
      ],
    );
  });
});

const TOKEN = { authorization: 'Bearer s3cret-token' };
const json = (body: unknown, headers: Record<string, string> = TOKEN) => jsonPost(body, headers);

sourceContract({
  source: 'alertmanager',
  app: {
    webhookReceivers: new Map([
      ['alertmanager', createAlertmanagerReceiver(settings({ token: 's3cret-token' }))],
    ]),
  },
  valid: () => json(fixture('firing')),
  unauthorised: () => [
    { name: 'no token', ...json(fixture('firing'), {}), status: 401, field: 'authorization' },
    {
      name: 'a wrong token',
      ...json(fixture('firing'), { authorization: 'Bearer nope' }),
      status: 401,
      field: 'authorization',
    },
  ],
  shapeErrors: () => [
    { name: 'version 3', ...json({ ...fixture('firing'), version: '3' }), field: 'version' },
    {
      name: 'a fingerprint that is a number',
      ...json(editAlert(fixture('firing'), 0, { fingerprint: 7 })),
      field: 'alerts[0].fingerprint',
    },
    { name: 'a body that is not JSON', ...json('['), field: 'body' },
  ],
  unmapped: () => ({
    // Another group (a new notification): the same group and fingerprints would be a re-send.
    ...json({
      ...editAlert(fixture('firing'), 1, { labels: { alertname: 'Watchdog' } }),
      groupKey: '{}:{alertname="Watchdog"}',
    }),
    note: /1 of 2 alerts name no service/,
  }),
});
