/**
 * Where an incident's environment comes from, for every source that can leave it unnamed: the
 * producer's label, else the service's only environment, else the producer's default
 * (Alertmanager's `defaultEnvironment`), else `dora.environment`; the incident says which.
 * Alertmanager webhooks and forge-style CDEvents through the real router, on both engines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import {
  alertmanagerSettingsSchema,
  createAlertmanagerReceiver,
} from '../../src/sources/alertmanager-source.js';
import type { Store } from '../../src/store/index.js';
import { postAccepted, structured, testApp } from '../support/app.js';
import { engines, openTestStore } from '../support/engines.js';

/** A Deployment rolled out in a namespace, as a resource-mode ApiServerSource reports it. */
function rolledOut(id: string, name: string, namespace: string, time: string) {
  return {
    specversion: '1.0',
    id,
    source: 'https://10.96.0.1:443',
    type: 'dev.knative.apiserver.resource.update',
    subject: `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
    time,
    datacontenttype: 'application/json',
    data: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace,
        uid: `${name}-${namespace}`,
        generation: 2,
        annotations: { 'deployment.kubernetes.io/revision': '2' },
      },
      spec: { replicas: 1, template: { spec: { containers: [{ name, image: `${name}:2` }] } } },
      status: {
        observedGeneration: 2,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      },
    },
  };
}

/** One firing alert, as Alertmanager's webhook (version 4) posts it. */
function firing(fingerprint: string, labels: Record<string, string>, startsAt: string) {
  return {
    version: '4',
    groupKey: `{}:{alertname="${labels.alertname}"}`,
    status: 'firing',
    receiver: 'cadence',
    groupLabels: {},
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.monitoring:9093',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: { summary: `${labels.alertname} fired` },
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint,
      },
    ],
  };
}

interface Incident {
  key: string;
  service: string;
  environment: string;
  environmentFrom: string;
  attributedTo: unknown[];
}

for (const engine of engines) {
  for (const alertmanagerDefault of [undefined, 'staging']) {
    describe(`incident environments on ${engine}, Alertmanager defaultEnvironment ${alertmanagerDefault ?? 'unset'}`, () => {
      let store: Store;
      let dispose: () => Promise<void>;
      let app: FastifyInstance;
      let settle: () => Promise<void>;
      const post = (url: string, body: unknown, headers: Record<string, string>) =>
        postAccepted(app, url, body, headers);
      const json = { 'content-type': 'application/json' };
      const incidents = async (environment: string) => {
        await settle();
        const response = await app.inject({
          url: `/api/v1/incidents?environment=${environment}&from=2026-03-01&to=2026-03-08`,
        });
        assert.equal(response.statusCode, 200, response.body);
        return response.json().incidents as Incident[];
      };
      /** The incident, listed in the environment expected (and only there). */
      const incident = async (key: string, environment: string) => {
        const found = (await incidents(environment)).find((i) => i.key.startsWith(key));
        assert.ok(found, `incident ${key} in ${environment}`);
        return found;
      };

      before(async () => {
        ({ store, dispose } = await openTestStore(engine));
        const alertmanager = alertmanagerSettingsSchema.parse(
          alertmanagerDefault ? { defaultEnvironment: alertmanagerDefault } : {},
        );
        ({ app, settle } = testApp(store, {
          sources: { alertmanager },
          webhookReceivers: new Map([['alertmanager', createAlertmanagerReceiver(alertmanager)]]),
        }));
        // `web` deploys only to `default`; `api` to `default` and `qa`.
        for (const [id, name, namespace] of [
          ['r1', 'web', 'default'],
          ['r2', 'api', 'default'],
          ['r3', 'api', 'qa'],
        ] as const) {
          await post('/events', rolledOut(id, name, namespace, '2026-03-02T10:00:00Z'), structured);
        }
      });
      after(async () => {
        await app.close();
        await dispose();
      });

      const table: [string, string, Record<string, string>, string, string][] = [
        [
          'labelled: the label',
          'aaaaaaaaaaaaaaa1',
          { alertname: 'A', service: 'web', environment: 'qa' },
          'qa',
          'label',
        ],
        [
          'unlabelled, one environment: the service’s',
          'aaaaaaaaaaaaaaa2',
          { alertname: 'B', service: 'web' },
          'default',
          'service',
        ],
        [
          'unlabelled, two environments: the default',
          'aaaaaaaaaaaaaaa3',
          { alertname: 'C', service: 'api' },
          alertmanagerDefault ?? 'production',
          'default',
        ],
      ];
      for (const [name, fingerprint, labels, environment, from] of table) {
        it(`an alert ${name}`, async () => {
          await post(
            '/webhooks/alertmanager',
            firing(fingerprint, labels, '2026-03-02T10:30:00Z'),
            json,
          );
          const found = await incident(`alertmanager:${fingerprint}`, environment);
          assert.deepEqual([found.environment, found.environmentFrom], [environment, from]);
        });
      }

      it('the unlabelled alert meets the deployment it follows', async () => {
        const found = await incident('alertmanager:aaaaaaaaaaaaaaa2', 'default');
        assert.equal(found.attributedTo.length, 1);
      });

      it('an unlabelled alert for a service not deployed yet moves once it is', async () => {
        await post(
          '/webhooks/alertmanager',
          firing('aaaaaaaaaaaaaaa4', { alertname: 'D', service: 'cart' }, '2026-03-03T10:30:00Z'),
          json,
        );
        const first = await incident(
          'alertmanager:aaaaaaaaaaaaaaa4',
          alertmanagerDefault ?? 'production',
        );
        assert.deepEqual(
          [first.environment, first.environmentFrom],
          [alertmanagerDefault ?? 'production', 'default'],
        );
        await post('/events', rolledOut('r4', 'cart', 'shop', '2026-03-03T10:00:00Z'), structured);
        const moved = await incident('alertmanager:aaaaaaaaaaaaaaa4', 'shop');
        assert.deepEqual([moved.environment, moved.environmentFrom], ['shop', 'service']);
        assert.equal(moved.attributedTo.length, 1);
      });
    });
  }
}
