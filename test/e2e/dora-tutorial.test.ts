/**
 * The seed tutorial, literally: a Knative ApiServerSource (resource mode) in `default` sends the
 * add and update events of `nginx-deployment` and `nginx-deployment-3` to `cadence serve`, and
 * `/deploy-frequency/day` lists both. Then a GitHub push and a SHA-tagged Deployment get their
 * lead time with no config; the same rollout redelivered by GitHub (form-encoded, three times)
 * stays one; the API, `cadence metrics`, `/metrics` and the dashboard agree for one scope.
 * Runs `cadence serve` (dist/) on the embedded store and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  cadenceBin,
  postEvent,
  startCadence,
  type CadenceProcess,
} from '../support/cadence-process.js';
import { createThrowawayDatabase, engines } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

const SHA = '9b1e7c3a5d2f4e6a8c0b1d3f5a7c9e2b4d6f8a0c';

/**
 * Runs the CLI without blocking this process: a blocked event loop misses the server closing an
 * idle keep-alive connection (after 5 s), and the next fetch on it fails with `other side closed`.
 */
async function runCadence(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cadenceBin, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { status: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
const DAY = 86_400_000;

/** A Deployment as the ApiServerSource sends it: just created (no status), or rolled out. */
function nginx(name: string, image: string, rolledOut: boolean) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'default',
      uid: `${name}-0b5f`,
      generation: 1,
      labels: { app: 'nginx' },
      annotations: rolledOut ? { 'deployment.kubernetes.io/revision': '1' } : {},
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }] },
      },
    },
    status: rolledOut
      ? {
          observedGeneration: 1,
          replicas: 3,
          updatedReplicas: 3,
          readyReplicas: 3,
          availableReplicas: 3,
        }
      : {},
  };
}

let sequence = 0;
/** A resource-mode ApiServerSource CloudEvent (no `time`: the source sets none). */
const apiserver = (verb: 'add' | 'update', object: ReturnType<typeof nginx>) => ({
  specversion: '1.0',
  id: `apiserver-${++sequence}`,
  source: 'https://10.96.0.1:443',
  type: `dev.knative.apiserver.resource.${verb}`,
  subject: `/apis/apps/v1/namespaces/default/deployments/${object.metadata.name}`,
  datacontenttype: 'application/json',
  data: object,
});

for (const engine of engines) {
  describe(`the seed tutorial on ${engine}`, () => {
    const work = mkdtempSync(join(tmpdir(), 'cadence-tutorial-'));
    let server: CadenceProcess;
    let browser: Browser | undefined;
    let dropDatabase: (() => Promise<void>) | undefined;
    const since = new Date(Date.now() - 29 * DAY).toISOString().slice(0, 10);

    before(async () => {
      const store: string[] = ['--data-dir', join(work, 'data')];
      if (engine === 'postgres') {
        const database = await createThrowawayDatabase();
        dropDatabase = database.drop;
        store.splice(0, 2, '--database-url', database.url);
      }
      server = await startCadence(store);
    });
    after(async () => {
      await browser?.close();
      if (server.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      await dropDatabase?.();
      rmSync(work, { recursive: true, force: true });
    });

    const get = async (path: string) => {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
      return response;
    };

    it('counts nginx-deployment and nginx-deployment-3 in /deploy-frequency/day', async () => {
      for (const name of ['nginx-deployment', 'nginx-deployment-3']) {
        for (const event of [
          apiserver('add', nginx(name, 'nginx:1.14.2', false)),
          apiserver('update', nginx(name, 'nginx:1.14.2', true)),
          // Status-only updates after the rollout: the same deployment.
          apiserver('update', nginx(name, 'nginx:1.14.2', true)),
        ]) {
          const response = await postEvent(server.url, event);
          assert.equal(response.status, 202, await response.text());
        }
      }
      const today = `${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`;
      const rows = await pollUntil(async () => {
        const body = (await (await get('/deploy-frequency/day')).json()) as {
          DeployName: string;
        }[];
        return body.length === 2 && body;
      }, 'both Deployments in /deploy-frequency/day');
      assert.deepEqual(rows, [
        { DeployName: 'nginx-deployment', Deployments: 1, Time: today },
        { DeployName: 'nginx-deployment-3', Deployments: 1, Time: today },
      ]);
    });

    it('gives a SHA-tagged Deployment its commit’s lead time; a redelivered status stays one deployment', async () => {
      const committedAt = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const repository = {
        full_name: 'acme/web',
        name: 'web',
        html_url: 'https://github.com/acme/web',
        default_branch: 'main',
      };
      const push = {
        ref: 'refs/heads/main',
        after: SHA,
        deleted: false,
        head_commit: { id: SHA, timestamp: committedAt },
        commits: [{ id: SHA, timestamp: committedAt }],
        repository,
      };
      const status = {
        deployment_status: { id: 41, state: 'success', updated_at: new Date().toISOString() },
        deployment: { id: 40, environment: 'default', sha: SHA, payload: {} },
        repository,
      };
      const form = async (event: string, payload: object, delivery: string) => {
        const response = await fetch(`${server.url}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-github-event': event,
            'x-github-delivery': delivery,
          },
          body: `payload=${encodeURIComponent(JSON.stringify(payload))}`,
        });
        assert.equal(response.status, 202, await response.text());
      };
      await form('push', push, 'push-1');
      const response = await postEvent(
        server.url,
        apiserver('update', nginx('web', `ghcr.io/acme/web:main-${SHA.slice(0, 7)}`, true)),
      );
      assert.equal(response.status, 202);
      // GitHub reports the same rollout, and redelivers it twice.
      for (const delivery of ['status-1', 'status-2', 'status-3']) {
        await form('deployment_status', status, delivery);
      }
      const [web] = await pollUntil(async () => {
        const body = (await (
          await get(`/api/v1/deployments?environment=default&service=web&from=${since}`)
        ).json()) as {
          deployments: {
            revision: string;
            evidence: unknown[];
            commits: { sha: string; leadTimeSeconds: number }[];
          }[];
        };
        const [only] = body.deployments;
        return body.deployments.length === 1 && only!.evidence.length === 1 && body.deployments;
      }, 'the web deployment with its GitHub evidence');
      assert.deepEqual(
        web!.commits.map((c) => c.sha),
        [SHA],
      );
      assert.ok(
        web!.commits[0]!.leadTimeSeconds >= 2 * 3600,
        `${web!.commits[0]!.leadTimeSeconds}`,
      );
    });

    it('gives the same numbers from the API, the CLI, /metrics and the dashboard', async () => {
      const scope = `environment=default&from=${since}`;
      const api = (await (await get(`/api/v1/metrics?${scope}`)).json()) as {
        overall: {
          deployments: number;
          leadTime: { count: number; median: number | null };
          changeFailureRate: { numerator: number; denominator: number };
        };
      };
      assert.equal(api.overall.deployments, 3);

      const cli = await runCadence([
        'metrics',
        '--server',
        server.url,
        '--environment',
        'default',
        '--from',
        since,
        '--json',
      ]);
      assert.equal(cli.status, 0, cli.stderr);
      const fromCli = JSON.parse(cli.stdout) as typeof api;
      assert.equal(fromCli.overall.deployments, api.overall.deployments);
      assert.equal(fromCli.overall.leadTime.median, api.overall.leadTime.median);

      const text = await (await get('/metrics?environment=default')).text();
      const gauge = (name: string) =>
        [
          ...text.matchAll(
            new RegExp(`^${name}\\{[^}]*environment="default"[^}]*\\} (\\S+)$`, 'gm'),
          ),
        ].map((m) => Number(m[1]));
      assert.equal(
        gauge('cadence_dora_deployments').reduce((a, b) => a + b, 0),
        api.overall.deployments,
      );
      assert.deepEqual(gauge('cadence_dora_lead_time_median_seconds'), [
        api.overall.leadTime.median,
      ]);
      assert.ok(!/environment="production"/.test(text), 'the filter narrows /metrics');

      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`${server.url}/#/overview?${scope}`);
      await page.waitForSelector('body[data-ready="overview"]');
      const card = await page
        .locator('[data-value="deployment-frequency"]')
        .locator('..')
        .innerText();
      assert.match(card, new RegExp(`\\b${api.overall.deployments} deployments\\b`));
      // The lead time and failure cards count the same commits and attempts as the API.
      const details = (id: string) =>
        page.locator(`[data-value="${id}"]`).locator('..').locator('.details').innerText();
      assert.equal(api.overall.leadTime.count, 1, 'the pushed commit');
      assert.match(await details('lead-time'), /\bmedian of 1 commits\b/);
      const { numerator, denominator } = api.overall.changeFailureRate;
      assert.match(
        await details('change-failure-rate'),
        new RegExp(`\\b${numerator} of ${denominator} attempts failed\\b`),
      );
      await page.close();
    });

    it('an empty scope says where the deployments are', async () => {
      const cli = await runCadence(['metrics', '--server', server.url, '--from', since]);
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /0 in production; 3 in default: --environment default/);
    });

    it('keeps bad input a named 4xx', async () => {
      for (const [path, field] of [
        ['/deploy-frequency/day?env=default', 'env'],
        ['/metrics?namespace=default', 'namespace'],
        ['/api/v1/metrics?colour=blue', 'colour'],
      ] as const) {
        const response = await fetch(`${server.url}${path}`);
        assert.equal(response.status, 400, path);
        assert.match(String(response.headers.get('content-type')), /^application\/problem\+json/);
        assert.equal(((await response.json()) as { field: string }).field, field);
      }
    });
  });
}
