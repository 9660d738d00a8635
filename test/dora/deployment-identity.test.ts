/**
 * One deployment per rollout: the producers' own CDEvent builders (the rollout watcher's, the
 * deployer's) and the ApiServerSource transformer (through the real router) report the same
 * rollout; the store, the projector and the rules must count it once, on both engines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deployCdevent } from '../../src/deploy/deploy-cdevent.js';
import { calendarDaysBetween, metricsFromInputs } from '../../src/dora/metrics.js';
import {
  abbreviationsOf,
  identifyDeployments,
  isAbbreviation,
  sameRevision,
} from '../../src/dora/deployment-identity.js';
import { type DeploymentFact } from '../../src/dora/facts.js';
import { emptyInputs } from '../../src/dora/metrics.js';
import { rolloutCdevent } from '../../src/rollouts/rollout-cdevent.js';
import { clusterRevision } from '../../src/events/cdevents/deployment-facts.js';
import { postAccepted, structured } from '../support/app.js';
import { engines } from '../support/engines.js';
import { appPerSuite } from '../support/suite-app.js';

const SHA = '3f2a9c1d5e6b7a8c9d0e1f2a3b4c5d6e7f8a9b0c';

describe('clusterRevision', () => {
  const table: [string, Parameters<typeof clusterRevision>[0], string[], string | undefined][] = [
    [
      'the cadence.dev/revision annotation first',
      { annotations: { 'cadence.dev/revision': 'abc1234' } },
      [`web:${SHA}`],
      'abc1234',
    ],
    [
      'app.kubernetes.io/version when it is a sha',
      { labels: { 'app.kubernetes.io/version': SHA } },
      ['web:1.4.2'],
      SHA,
    ],
    [
      'not app.kubernetes.io/version 1.4.2',
      { labels: { 'app.kubernetes.io/version': '1.4.2' } },
      ['web:1.4.2'],
      undefined,
    ],
    ['an image tag that is a short sha', {}, ['ghcr.io/acme/web:3f2a9c1'], '3f2a9c1'],
    ['an image tag <branch>-<sha>', {}, ['ghcr.io/acme/web:main-3f2a9c1'], '3f2a9c1'],
    ['not a semver tag', {}, ['nginx:1.14.2'], undefined],
    ['not a digest-only image', {}, ['web@sha256:' + 'a'.repeat(64)], undefined],
    ['not a registry port', {}, ['registry:5000/web'], undefined],
  ];
  for (const [name, metadata, images, expected] of table) {
    it(name, () => assert.equal(clusterRevision(metadata, images).revision, expected));
  }
  it('the repository from cadence.dev/repository', () => {
    const git = clusterRevision({ annotations: { 'cadence.dev/repository': 'acme/web' } }, []);
    assert.equal(git.repository, 'acme/web');
  });
});

describe('deploy days per week', () => {
  it('never exceeds 7, on a window ending mid-day', () => {
    const from = new Date('2026-03-01T12:00:00Z');
    const to = new Date('2026-03-03T12:00:00Z'); // 2 days, 3 calendar days
    assert.equal(calendarDaysBetween(from, to), 3);
    const metrics = metricsFromInputs({ ...emptyInputs, deployDays: 3 }, 2, 3);
    assert.equal(metrics.deployDaysPerWeek, 7);
  });
  it('a half day with a deploy is one of one', () => {
    const from = new Date('2026-03-01T00:00:00Z');
    const to = new Date('2026-03-01T12:00:00Z');
    assert.equal(calendarDaysBetween(from, to), 1);
    assert.equal(metricsFromInputs({ ...emptyInputs, deployDays: 1 }, 0.5, 1).deployDaysPerWeek, 7);
  });
});

describe('identifyDeployments', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 2, 2, 10, minutes));
  const report = (
    seq: number,
    minutes: number,
    fields: Partial<DeploymentFact>,
  ): DeploymentFact => ({
    seq,
    cdeventId: `c${seq}`,
    service: 'web',
    environment: 'default',
    kind: 'deploy',
    outcome: 'success',
    deployedAt: at(minutes),
    ...fields,
  });
  const image = 'pkg:oci/web?repository_url=ghcr.io%2Facme%2Fweb&tag=1.4.2';
  const table: [string, DeploymentFact[], number[][]][] = [
    [
      'watcher, ApiServerSource and deployer: one, the first to arrive',
      [
        report(1, 0, { reporter: 'deployer', revision: SHA, artifact: image }),
        report(2, 2, { reporter: 'cluster', artifact: image }),
        report(3, 2, { reporter: 'kubernetes-apiserver', artifact: image }),
      ],
      [[1, 2, 3]],
    ],
    [
      'a short sha from a tag and the full one',
      [
        report(1, 0, { reporter: 'a', revision: SHA.slice(0, 7) }),
        report(2, 1, { reporter: 'b', revision: SHA }),
      ],
      [[1, 2]],
    ],
    [
      'one reporter twice: two deployments',
      [
        report(1, 0, { reporter: 'a', revision: SHA }),
        report(2, 5, { reporter: 'a', revision: SHA }),
      ],
      [[1], [2]],
    ],
    [
      'different revisions: two',
      [
        report(1, 0, { reporter: 'a', revision: SHA }),
        report(2, 1, { reporter: 'b', revision: 'abcdef1' }),
      ],
      [[1], [2]],
    ],
    [
      'more than an hour apart: two',
      [
        report(1, 0, { reporter: 'a', revision: SHA }),
        report(2, 61, { reporter: 'b', revision: SHA }),
      ],
      [[1], [2]],
    ],
    [
      'A, B, A again: three',
      [
        report(1, 0, { reporter: 'a', artifact: image }),
        report(2, 10, { reporter: 'a', artifact: 'pkg:oci/web?tag=1.4.3' }),
        report(3, 20, { reporter: 'b', artifact: image }),
      ],
      [[1], [2], [3]],
    ],
  ];
  for (const [name, reports, expected] of table) {
    it(name, () => {
      const groups = identifyDeployments(reports);
      assert.deepEqual(
        groups.map((g) => [g.deployment.seq, ...g.evidence.map((e) => e.seq)]),
        expected,
      );
    });
  }
  it('the merged deployment takes the revision another report gave, and failure wins', () => {
    const [group] = identifyDeployments([
      report(1, 0, { reporter: 'cluster', artifact: image, outcome: 'failure' }),
      report(2, 1, {
        reporter: 'deployer',
        artifact: image,
        revision: SHA,
        repository: 'acme/web',
      }),
    ]);
    assert.equal(group!.deployment.revision, SHA);
    assert.equal(group!.deployment.repository, 'acme/web');
    assert.equal(group!.deployment.outcome, 'failure');
  });
  it('a short and a full sha are the same revision, two different ones are not', () => {
    assert.ok(sameRevision(SHA.slice(0, 7), SHA));
    assert.ok(!sameRevision(SHA.slice(0, 6), SHA));
    assert.ok(!sameRevision('abcdef1', SHA));
  });
  it('a revision is abbreviated only by its prefixes of 7 to 39 hex characters', () => {
    const SHA256 = 'c'.repeat(64);
    const cases: [string, string[]][] = [
      [SHA.slice(0, 9), [SHA.slice(0, 7), SHA.slice(0, 8)]],
      [SHA.slice(0, 7), []],
      ['abcdef12-rc', ['abcdef1', 'abcdef12']],
      ['abcdef1-rc', ['abcdef1']],
      [`${SHA}-rc`, Array.from({ length: 33 }, (_, i) => SHA.slice(0, 7 + i))],
      [SHA256, Array.from({ length: 33 }, (_, i) => SHA256.slice(0, 7 + i))],
      ['ABCDEF1234', []],
      ['r1000001', []],
      ['v1.2.3', []],
      ['', []],
    ];
    for (const [revision, expected] of cases) {
      assert.deepEqual(abbreviationsOf(revision), expected, revision);
      // Exactly the prefixes sameRevision takes for it: every listed one, and no other.
      for (let length = 1; length < revision.length; length++) {
        const prefix = revision.slice(0, length);
        assert.equal(
          sameRevision(prefix, revision),
          expected.includes(prefix),
          `${prefix} of ${revision}`,
        );
      }
    }
    assert.equal(abbreviationsOf(SHA).length, 33);
    // A whole sha-1 is not an abbreviation of a longer revision.
    assert.ok(!sameRevision(SHA, `${SHA}-rc`));
    assert.ok(!isAbbreviation(SHA));
    assert.ok(isAbbreviation(SHA.slice(0, 39)));
  });
});

/** A Deployment as the ApiServerSource (resource mode) sends it. */
function deploymentObject(name: string, image: string, revision: string, complete: boolean) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'default',
      uid: `${name}-uid`,
      generation: Number(revision),
      annotations: { 'deployment.kubernetes.io/revision': revision },
    },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image }] } } },
    status: complete
      ? {
          observedGeneration: Number(revision),
          replicas: 2,
          updatedReplicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
        }
      : {},
  };
}

function apiserverEvent(
  id: string,
  verb: string,
  object: ReturnType<typeof deploymentObject>,
  time: string,
) {
  return {
    specversion: '1.0',
    id,
    source: 'https://10.96.0.1:443',
    type: `dev.knative.apiserver.resource.${verb}`,
    subject: `/apis/apps/v1/namespaces/default/deployments/${object.metadata.name}`,
    time,
    datacontenttype: 'application/json',
    data: object,
  };
}

for (const engine of engines) {
  describe(`one deployment per rollout on ${engine}`, () => {
    const suite = appPerSuite(engine);
    const post = (url: string, body: unknown, headers?: Record<string, string>) =>
      postAccepted(suite.app, url, body, headers);
    const deployments = async (service: string) => {
      const response = await suite.app.inject({
        url: `/api/v1/deployments?environment=default&service=${service}&from=2026-03-01&to=2026-03-08`,
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().deployments as {
        seq: number;
        revision: string | null;
        evidence: unknown[];
        commits: { sha: string; leadTimeSeconds: number }[];
        notes: string[];
      }[];
    };

    it('watcher + ApiServerSource + deployer report one rollout: one deployment, with the evidence', async () => {
      const image = 'ghcr.io/acme/shop:1.4.2';
      // The deployer applies (its operation's CDEvent), then the cluster finishes the rollout.
      const deployer = deployCdevent({
        predicate: 'upgraded',
        operationId: 7,
        service: 'shop',
        environment: 'default',
        track: 'stable',
        action: 'deploy',
        version: '1.4.2',
        commit: SHA,
        repository: 'https://github.com/acme/shop.git',
        image,
        at: new Date('2026-03-02T10:00:00Z'),
      });
      await post('/cdevents', deployer.data);
      await post(
        '/events',
        apiserverEvent(
          'a1',
          'update',
          deploymentObject('shop', image, '2', true),
          '2026-03-02T10:02:00Z',
        ),
        structured,
      );
      await post(
        '/cdevents',
        rolloutCdevent(
          {
            id: 1,
            namespace: 'default',
            deployment: 'shop',
            uid: 'shop-uid',
            revision: '2',
            generation: 2,
            images: [image],
            phase: 'complete',
            progress: 1,
            desired: 2,
            updated: 2,
            ready: 2,
            available: 2,
            reason: null,
            message: null,
            startedAt: '2026-03-02T10:00:00Z',
            endedAt: '2026-03-02T10:02:10Z',
            durationMs: 130_000,
            deadlineExceededAt: null,
            deletedAt: null,
            updatedAt: '2026-03-02T10:02:10Z',
          },
          'https://10.96.0.1:443',
        ),
      );
      await suite.settle();
      const list = await deployments('shop');
      assert.equal(list.length, 1, JSON.stringify(list));
      assert.equal(list[0]!.evidence.length, 2);
      assert.equal(list[0]!.revision, SHA);
      const frequency = await suite.app.inject({ url: '/deploy-frequency/day?service=shop' });
      assert.deepEqual(frequency.json(), [
        { DeployName: 'shop', Deployments: 1, Time: '2026-03-02T00:00:00.000Z' },
      ]);
    });

    it('an image tag that is the pushed sha gets that commit’s lead time with no config', async () => {
      const push = {
        ref: 'refs/heads/main',
        after: SHA,
        deleted: false,
        head_commit: { id: SHA, timestamp: '2026-03-03T08:00:00Z' },
        commits: [{ id: SHA, timestamp: '2026-03-03T08:00:00Z' }],
        repository: {
          full_name: 'acme/web',
          name: 'web',
          html_url: 'https://github.com/acme/web',
          default_branch: 'main',
        },
      };
      await post(
        '/events',
        {
          specversion: '1.0',
          id: 'push-1',
          source: 'https://github.com/acme/web',
          type: 'com.github.push',
          time: '2026-03-03T08:00:05Z',
          datacontenttype: 'application/json',
          data: push,
        },
        structured,
      );
      await post(
        '/events',
        apiserverEvent(
          'w1',
          'update',
          deploymentObject('web', `ghcr.io/acme/web:${SHA.slice(0, 7)}`, '2', true),
          '2026-03-03T10:00:00Z',
        ),
        structured,
      );
      await suite.settle();
      const [web] = await deployments('web');
      assert.equal(web!.revision, SHA.slice(0, 7));
      assert.deepEqual(
        web!.commits.map((c) => [c.sha, c.leadTimeSeconds]),
        [[SHA, 2 * 3600]],
      );
      assert.match(
        web!.notes.join(),
        /repository acme\/web: the change repository named like the service/,
      );
    });

    it('a Deployment first seen already complete is recorded, not counted', async () => {
      await post(
        '/events',
        apiserverEvent(
          'b1',
          'add',
          deploymentObject('legacy', 'nginx:1.14.2', '5', true),
          '2026-03-04T09:00:00Z',
        ),
        structured,
      );
      // Its later status updates for the same revision are the same CDEvent: still a baseline.
      await post(
        '/events',
        apiserverEvent(
          'b2',
          'update',
          deploymentObject('legacy', 'nginx:1.14.2', '5', true),
          '2026-03-04T09:05:00Z',
        ),
        structured,
      );
      await suite.settle();
      assert.deepEqual(await deployments('legacy'), []);
      const streams = (await suite.app.inject({ url: '/api/v1/streams' })).json().services as {
        service: string;
        deployments: number;
      }[];
      assert.deepEqual(
        streams.find((s) => s.service === 'legacy'),
        {
          service: 'legacy',
          environment: 'default',
          deployments: 0,
          team: null,
        },
      );
    });

    it('an unlabelled incident takes its service’s only environment, and says so', async () => {
      await post('/cdevents', {
        context: {
          specversion: '0.5.1',
          id: 'inc-1',
          source: 'https://github.com/acme/web',
          type: 'dev.cdevents.incident.detected.0.3.0',
          timestamp: '2026-03-03T11:00:00Z',
        },
        subject: {
          id: 'acme/web#9',
          content: { environment: { id: 'unknown' }, service: { id: 'web' } },
        },
        customData: { cadence: { environmentGiven: false } },
      });
      await suite.settle();
      const response = await suite.app.inject({
        url: '/api/v1/incidents?environment=default&from=2026-03-01&to=2026-03-08',
      });
      const [incident] = response.json().incidents;
      assert.equal(incident.key, 'acme/web#9');
      assert.equal(incident.environmentFrom, 'service');
      assert.equal(incident.attributedTo.length, 1, 'it meets the deployment it follows');
    });
  });
}
