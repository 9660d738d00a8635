/**
 * A real Prometheus Alertmanager (Debian `prometheus-alertmanager`, installed by
 * scripts/install-test-deps.sh) notifies a real `cadence serve`: an alert posted to Alertmanager
 * becomes an open incident in Cadence, and resolving it closes the incident. An alert without an
 * environment label takes its service's only environment (the tutorial's `default`), so it meets
 * the deployment it follows.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  postEvent,
  startCadence,
  untilCounted,
  type CadenceProcess,
} from '../support/cadence-process.js';
import { createThrowawayDatabase, engines } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` returns a value, or fails after `timeoutMs` saying what it waited for. */
// A probe that throws (Alertmanager or Cadence not answering yet) counts as not yet.
const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) =>
  pollUntil(() => probe().catch(() => undefined), what, { intervalMs: 200 });

interface Alertmanager {
  child: ChildProcess;
  url: string;
  logs: string[];
  exited: Promise<unknown>;
}

/** Starts Alertmanager alone (no cluster) with a config that notifies Cadence within a second. */
async function startAlertmanager(dir: string, cadenceUrl: string): Promise<Alertmanager> {
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: cadence',
      '  group_by: [alertname, service]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: cadence',
      '    webhook_configs:',
      `      - url: ${cadenceUrl}/webhooks/alertmanager`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor('Alertmanager to be ready', async () => {
    if (gone) throw new Error(`Alertmanager exited:\n${logs.join('')}`);
    const response = await fetch(`${url}/-/ready`);
    return response.ok ? true : undefined;
  }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${logs.join('')}`);
  });
  return { child, url, logs, exited };
}

async function stop(running: { child: ChildProcess; exited: Promise<unknown> } | undefined) {
  if (!running || running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  await running.exited;
}

interface IncidentCdevent {
  predicate: string;
  subjectId: string;
  timestamp: string;
  body: {
    subject: {
      content: { service?: { id: string }; environment: { id: string }; description?: string };
    };
  };
}

async function incidents(cadenceUrl: string): Promise<IncidentCdevent[]> {
  const response = await fetch(`${cadenceUrl}/api/v1/cdevents?subjectType=incident`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { cdevents: IncidentCdevent[] }).cdevents;
}

async function postAlerts(alertmanagerUrl: string, alerts: unknown[]): Promise<void> {
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  assert.equal(response.status, 200, await response.text());
}

for (const engine of engines)
  describe(`a real Alertmanager notifies cadence serve on ${engine}`, { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cadence-alertmanager-'));
    let cadence: CadenceProcess | undefined;
    let alertmanager: Alertmanager | undefined;
    let dropDatabase: (() => Promise<void>) | undefined;

    before(async () => {
      // Fail, never skip: this test is how we know Cadence reads what Alertmanager really sends.
      assert.ok(
        existsSync(ALERTMANAGER_BIN),
        `${ALERTMANAGER_BIN} is missing: run scripts/install-test-deps.sh (Debian package prometheus-alertmanager)`,
      );
      let store = ['--data-dir', join(dir, 'cadence')];
      if (engine === 'postgres') {
        const database = await createThrowawayDatabase();
        dropDatabase = database.drop;
        store = ['--database-url', database.url];
      }
      cadence = await startCadence(store);
      alertmanager = await startAlertmanager(dir, cadence.url);
    });

    after(async () => {
      await stop(alertmanager);
      await stop(cadence);
      await dropDatabase?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('opens an incident when an alert fires and closes it when the alert resolves', async () => {
      const startsAt = new Date();
      const alert = {
        labels: {
          alertname: 'CadenceE2EHighErrorRate',
          service: 'web',
          environment: 'production',
          severity: 'page',
        },
        annotations: { summary: 'web is serving errors' },
        startsAt: startsAt.toISOString(),
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
      };
      await postAlerts(alertmanager!.url, [alert]);

      const detected = await waitFor('incident.detected in Cadence', async () => {
        const found = (await incidents(cadence!.url)).find((c) => c.predicate === 'detected');
        return found;
      }).catch((error: unknown) => {
        throw new Error(
          `${(error as Error).message}\nalertmanager:\n${alertmanager!.logs.join('')}\ncadence:\n${cadence!.logs.join('\n')}`,
        );
      });
      assert.match(detected.subjectId, /^alertmanager:[0-9a-f]{16}:/);
      const keyedStart = detected.subjectId.split(':').slice(2).join(':');
      assert.equal(new Date(keyedStart).getTime(), startsAt.getTime(), 'keyed by the firing start');
      assert.equal(new Date(detected.timestamp).getTime(), startsAt.getTime());
      assert.equal(detected.body.subject.content.service?.id, 'web');
      assert.equal(detected.body.subject.content.environment.id, 'production');
      assert.equal(detected.body.subject.content.description, 'web is serving errors');

      const endsAt = new Date();
      await postAlerts(alertmanager!.url, [{ ...alert, endsAt: endsAt.toISOString() }]);
      const resolved = await waitFor('incident.resolved in Cadence', async () =>
        (await incidents(cadence!.url)).find((c) => c.predicate === 'resolved'),
      ).catch((error: unknown) => {
        throw new Error(
          `${(error as Error).message}\nalertmanager:\n${alertmanager!.logs.join('')}\ncadence:\n${cadence!.logs.join('\n')}`,
        );
      });
      assert.equal(resolved.subjectId, detected.subjectId, 'the same incident closes');
      assert.equal(new Date(resolved.timestamp).getTime(), endsAt.getTime());
      const all = await incidents(cadence!.url);
      assert.deepEqual(
        all.map((c) => c.predicate),
        ['detected', 'resolved'],
        'one incident, detected once and resolved once',
      );
    });

    it('gives an alert without an environment label its service’s only environment', async () => {
      // A Deployment `shop` rolled out in `default`, as the tutorial's ApiServerSource reports it.
      const deployedAt = new Date(Date.now() - 10 * 60_000);
      const response = await postEvent(cadence!.url, {
        specversion: '1.0',
        id: 'shop-rollout-2',
        source: 'https://10.96.0.1:443',
        type: 'dev.knative.apiserver.resource.update',
        subject: '/apis/apps/v1/namespaces/default/deployments/shop',
        time: deployedAt.toISOString(),
        datacontenttype: 'application/json',
        data: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name: 'shop',
            namespace: 'default',
            uid: 'shop-uid',
            generation: 2,
            annotations: { 'deployment.kubernetes.io/revision': '2' },
          },
          spec: {
            replicas: 1,
            template: { spec: { containers: [{ name: 'shop', image: 'shop:2' }] } },
          },
          status: {
            observedGeneration: 2,
            replicas: 1,
            updatedReplicas: 1,
            readyReplicas: 1,
            availableReplicas: 1,
          },
        },
      });
      assert.equal(response.status, 202, await response.text());
      await postAlerts(alertmanager!.url, [
        {
          labels: { alertname: 'CadenceE2EShopDown', service: 'shop' },
          annotations: { summary: 'shop is down' },
          startsAt: new Date().toISOString(),
        },
      ]);
      const from = new Date(Date.now() - 86_400_000).toISOString();
      const shopIncident = async () => {
        const listed = await fetch(
          `${cadence!.url}/api/v1/incidents?environment=default&from=${from}`,
        );
        const body = (await listed.json()) as {
          incidents: { service: string; environmentFrom: string; attributedTo: unknown[] }[];
        };
        return body.incidents.find((i) => i.service === 'shop');
      };
      await pollUntil(shopIncident, 'the shop incident in default');
      // Listed before its stream is projected again: attribution comes with that projection.
      await untilCounted(cadence!.url);
      const incident = await shopIncident();
      assert.ok(incident, 'the shop incident in default');
      assert.equal(incident.environmentFrom, 'service', 'the note says where it came from');
      assert.equal(incident.attributedTo.length, 1, 'it meets the deployment it follows');
    });
  });
