/**
 * A Deployment that runs an image pinned by digest (`web@sha256:…`, no revision annotation, no
 * sha tag) gets its commit from the build that reported that digest: the pure rules table by
 * table, then the whole path (CDEvents and ApiServerSource events through the real router, the
 * projector and the store) on both engines. Also the identity window as configuration.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildRevision, withBuildRevisions } from '../../src/dora/build-revision.js';
import {
  digestFromPurl,
  factFromCdevent,
  vcsFromPurl,
  type ArtifactFact,
  type ChangeFact,
  type DeploymentFact,
} from '../../src/dora/facts.js';
import { linkDeliveries } from '../../src/dora/delivery.js';
import { defaultDoraSettings } from '../../src/dora/index.js';
import { rulesFrom } from '../../src/dora/settings.js';
import { postAccepted, structured } from '../support/app.js';
import { engines } from '../support/engines.js';
import { appPerSuite } from '../support/suite-app.js';

type Json = Record<string, unknown>;
const SHA = '5d8e2f4a6b8c0d1e3f5a7b9c1d3e5f7a9b1c3d5e';
const OTHER = '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567';
const DIGEST = `sha256:${'4f'.repeat(32)}`;
const PURL = `pkg:oci/web@${encodeURIComponent(DIGEST)}?repository_url=ghcr.io%2Facme%2Fweb`;

describe('digestFromPurl', () => {
  const table: [string | undefined, string | undefined][] = [
    [PURL, DIGEST],
    [`pkg:oci/web@${DIGEST}`, DIGEST],
    [`pkg:oci/web@${encodeURIComponent(DIGEST.toUpperCase())}`, DIGEST],
    ['pkg:oci/web?repository_url=ghcr.io%2Facme%2Fweb&tag=1.4.2', undefined],
    [`pkg:github/acme/web@${SHA}`, undefined],
    ['pkg:oci/web@sha256%3Anothex', undefined],
    ['pkg:oci/web@%E0%A4%A', undefined],
    [`ghcr.io/acme/web@${DIGEST}`, undefined],
    [undefined, undefined],
  ];
  for (const [purl, expected] of table) {
    it(`${purl} → ${expected}`, () => assert.equal(digestFromPurl(purl), expected));
  }
});

describe('vcsFromPurl', () => {
  const table: [string, ReturnType<typeof vcsFromPurl>][] = [
    [
      `${PURL}&vcs_url=${encodeURIComponent(`git+https://github.com/acme/web.git@${SHA}`)}`,
      { url: 'https://github.com/acme/web.git', revision: SHA },
    ],
    [
      `${PURL}&vcs_url=${encodeURIComponent('git+https://github.com/acme/web.git')}`,
      { url: 'https://github.com/acme/web.git' },
    ],
    // A tag after the @ is not a commit.
    [
      `${PURL}&vcs_url=${encodeURIComponent('git+https://github.com/acme/web.git@v1.4.2')}`,
      { url: 'https://github.com/acme/web.git' },
    ],
    [PURL, {}],
  ];
  for (const [purl, expected] of table) {
    it(purl, () => assert.deepEqual(vcsFromPurl(purl), expected));
  }
});

describe('factFromCdevent: builds', () => {
  const record = (subjectType: string, predicate: string, body: Record<string, unknown>) => ({
    seq: 9,
    subjectType,
    predicate,
    timestamp: new Date('2026-03-05T09:00:00Z'),
    body: { context: { id: 'b1', source: 'https://ci.example' }, ...body },
  });
  const table: [string, ReturnType<typeof record>, Partial<ArtifactFact> | undefined][] = [
    [
      'artifact.packaged: the change reference is the commit and its repository',
      record('artifact', 'packaged', {
        subject: {
          id: PURL,
          content: { change: { id: SHA, source: 'https://github.com/acme/web' } },
        },
      }),
      { digest: DIGEST, revision: SHA, repository: 'acme/web' },
    ],
    [
      'artifact.packaged: a change that is not a sha is a change key',
      record('artifact', 'packaged', {
        subject: { id: PURL, content: { change: { id: 'acme/web#12', source: 'my-git/acme' } } },
      }),
      { digest: DIGEST, changeKey: 'acme/web#12' },
    ],
    [
      'artifact.published with a vcs_url qualifier',
      record('artifact', 'published', {
        subject: {
          id: `${PURL}&vcs_url=${encodeURIComponent(`git+https://github.com/acme/web@${SHA}`)}`,
          content: {},
        },
      }),
      { digest: DIGEST, revision: SHA, repository: 'acme/web' },
    ],
    [
      'build.finished with customData.cadence',
      record('build', 'finished', {
        subject: { id: 'run-7', content: { artifactId: PURL } },
        customData: { cadence: { revision: SHA, repository: 'git@github.com:acme/web.git' } },
      }),
      { digest: DIGEST, revision: SHA, repository: 'acme/web' },
    ],
    [
      'nothing for an artifact that names no commit',
      record('artifact', 'published', { subject: { id: PURL, content: {} } }),
      undefined,
    ],
    [
      'nothing for a purl without a digest',
      record('artifact', 'packaged', {
        subject: { id: 'pkg:oci/web?tag=1.4.2', content: { change: { id: SHA } } },
      }),
      undefined,
    ],
  ];
  for (const [name, input, expected] of table) {
    it(name, () => {
      const fact = factFromCdevent(input);
      if (expected === undefined) return assert.equal(fact, undefined);
      assert.equal(fact?.kind, 'artifact');
      const { digest, revision, repository, changeKey } = fact!.fact as ArtifactFact;
      assert.deepEqual(
        JSON.parse(JSON.stringify({ digest, revision, repository, changeKey })),
        expected,
      );
    });
  }
});

const build = (seq: number, fields: Partial<ArtifactFact>): ArtifactFact => ({
  seq,
  digest: DIGEST,
  purl: PURL,
  builtAt: new Date('2026-03-05T09:00:00Z'),
  ...fields,
});
const change = (seq: number, key: string, revision: string, hoursBefore: number): ChangeFact => {
  const mergedAt = new Date(Date.parse('2026-03-05T10:00:00Z') - hoursBefore * 3600_000);
  return {
    seq,
    key,
    repository: 'acme/web',
    revision,
    mergedAt,
    commits: [{ sha: revision, committedAt: mergedAt }],
  };
};

describe('buildRevision', () => {
  const changes = [change(1, 'acme/web#12', SHA, 2)];
  const table: [string, ArtifactFact[], string | undefined][] = [
    ['the build that names the commit', [build(5, { revision: SHA })], SHA],
    ['the change a build names', [build(5, { changeKey: 'acme/web#12' })], SHA],
    ['not a change nobody reported', [build(5, { changeKey: 'acme/web#99' })], undefined],
    [
      'the first build of the digest, when two name different commits',
      [build(7, { revision: OTHER }), build(5, { revision: SHA })],
      SHA,
    ],
    [
      'not another digest',
      [build(5, { revision: SHA, digest: `sha256:${'0'.repeat(64)}` })],
      undefined,
    ],
    ['none without builds', [], undefined],
  ];
  for (const [name, builds, expected] of table) {
    it(name, () => assert.equal(buildRevision(DIGEST, builds, changes)?.revision, expected));
  }

  it('a deployment that names its commit keeps it; one that does not takes the build’s, noted', () => {
    const deployment = (seq: number, fields: Partial<DeploymentFact>): DeploymentFact => ({
      seq,
      cdeventId: `d${seq}`,
      service: 'web',
      environment: 'default',
      kind: 'deploy',
      outcome: 'success',
      deployedAt: new Date('2026-03-05T10:00:00Z'),
      artifact: PURL,
      ...fields,
    });
    const { deployments, notes } = withBuildRevisions(
      [deployment(10, {}), deployment(11, { revision: OTHER })],
      [build(5, { revision: SHA, repository: 'acme/web' })],
      [],
    );
    assert.deepEqual(
      deployments.map((d) => [d.revision, d.repository]),
      [
        [SHA, 'acme/web'],
        [OTHER, undefined],
      ],
    );
    assert.match(
      notes.get(10)!,
      /^revision 5d8e2f4.*: the build of sha256:4f4f4f4f4f4f… \(pkg:oci\/web@/,
    );
    assert.equal(notes.has(11), false);
  });
});

describe('the identity window as configuration', () => {
  const report = (seq: number, minutes: number, reporter: string): DeploymentFact => ({
    seq,
    cdeventId: `c${seq}`,
    service: 'web',
    environment: 'default',
    kind: 'deploy',
    outcome: 'success',
    deployedAt: new Date(Date.UTC(2026, 2, 5, 10, minutes)),
    revision: SHA,
    reporter,
  });
  const reports = [report(1, 0, 'deployer'), report(2, 20, 'cluster')];
  const table: [number | undefined, number][] = [
    [undefined, 1], // the default hour
    [1800, 1],
    [600, 2],
  ];
  for (const [seconds, expected] of table) {
    it(`${seconds ?? 'default'} s: ${expected} deployment(s) for reports 20 minutes apart`, () => {
      const settings = {
        ...defaultDoraSettings,
        ...(seconds ? { identityWindowSeconds: seconds } : {}),
      };
      assert.equal(linkDeliveries(reports, [], [], rulesFrom(settings)).length, expected);
    });
  }
});

/** A Deployment pinned by digest, rolled out, as a resource-mode ApiServerSource sends it. */
function apiserverUpdate(
  id: string,
  name: string,
  image: string,
  generation: number,
  time: string,
) {
  return {
    specversion: '1.0',
    id,
    source: 'https://10.96.0.1:443',
    type: 'dev.knative.apiserver.resource.update',
    subject: `/apis/apps/v1/namespaces/default/deployments/${name}`,
    time,
    datacontenttype: 'application/json',
    data: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace: 'default',
        uid: `${name}-uid`,
        generation,
        annotations: { 'deployment.kubernetes.io/revision': String(generation) },
      },
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image }] } } },
      status: {
        observedGeneration: generation,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
      },
    },
  };
}

const packaged = (id: string, purl: string, changeId: string, timestamp: string) => ({
  context: {
    version: '0.4.1',
    id,
    source: 'https://ci.example/acme',
    type: 'dev.cdevents.artifact.packaged.0.2.0',
    timestamp,
  },
  subject: {
    id: purl,
    source: 'https://ci.example/acme',
    type: 'artifact',
    content: { change: { id: changeId, source: 'https://github.com/acme/api' } },
  },
});

for (const engine of engines) {
  describe(`a digest-pinned Deployment meets its build on ${engine}`, () => {
    const suite = appPerSuite(engine);
    const post = (url: string, body: unknown, headers?: Record<string, string>) =>
      postAccepted(suite.app, url, body, headers);
    const json = { 'content-type': 'application/json' };
    const push = (id: string, sha: string, timestamp: string, name = 'api') => ({
      specversion: '1.0',
      id,
      source: `https://github.com/acme/${name}`,
      type: 'com.github.push',
      time: timestamp,
      datacontenttype: 'application/json',
      data: {
        ref: 'refs/heads/main',
        after: sha,
        deleted: false,
        head_commit: { id: sha, timestamp },
        commits: [{ id: sha, timestamp }],
        repository: {
          full_name: `acme/${name}`,
          name,
          html_url: `https://github.com/acme/${name}`,
          default_branch: 'main',
        },
      },
    });
    const deployments = async (service: string) => {
      const response = await suite.app.inject({
        url: `/api/v1/deployments?environment=default&service=${service}&from=2026-03-01&to=2026-03-08`,
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().deployments as {
        revision: string | null;
        repository: string | null;
        commits: { sha: string; leadTimeSeconds: number }[];
        notes: string[];
      }[];
    };

    it('the build reported first: the deployment has the commit’s lead time, and says how', async () => {
      const digest = `sha256:${'a1'.repeat(32)}`;
      await post('/events', push('p1', SHA, '2026-03-05T07:00:00Z'), structured);
      await post(
        '/cdevents',
        packaged(
          'build-1',
          `pkg:oci/api@${encodeURIComponent(digest)}`,
          SHA,
          '2026-03-05T07:30:00Z',
        ),
        json,
      );
      await post(
        '/events',
        apiserverUpdate('a1', 'api', `ghcr.io/acme/api@${digest}`, 2, '2026-03-05T10:00:00Z'),
        structured,
      );
      await suite.settle();
      const [api] = await deployments('api');
      assert.equal(api!.revision, SHA);
      assert.equal(api!.repository, 'acme/api');
      assert.deepEqual(
        api!.commits.map((c) => [c.sha, c.leadTimeSeconds]),
        [[SHA, 3 * 3600]],
      );
      assert.match(api!.notes.join(), /the build of sha256:a1a1/);
    });

    it('a Tekton run that pushed the image by digest is the build', async () => {
      const digest = `sha256:${'d4'.repeat(32)}`;
      const commit = '7c1e9a3b5d7f9e1c3a5b7d9f1e3c5a7b9d1f3e5c';
      // Tekton's own CloudEvent (a recorded fixture), with the results Tekton Chains reads.
      const run = JSON.parse(
        readFileSync(
          new URL('../sources/fixtures/tekton/pipelinerun-build-successful.json', import.meta.url),
          'utf8',
        ),
      ) as { id: string; data: { pipelineRun: { spec: { params: Json[] }; status: Json } } };
      const pipelineRun = run.data.pipelineRun;
      pipelineRun.spec.params = pipelineRun.spec.params.map((p) =>
        p.name === 'git-revision' ? { name: 'git-revision', value: commit } : p,
      );
      pipelineRun.status.pipelineResults = [
        { name: 'IMAGE_URL', value: 'registry.example.com/acme/web' },
        { name: 'IMAGE_DIGEST', value: digest },
      ];
      await post('/events', push('p3', commit, '2026-03-07T06:00:00Z', 'web'), structured);
      await post('/events', run, structured);
      await post(
        '/events',
        apiserverUpdate(
          'a3',
          'web',
          `registry.example.com/acme/web@${digest}`,
          2,
          '2026-03-07T09:00:00Z',
        ),
        structured,
      );
      await suite.settle();
      const [web] = await deployments('web');
      assert.equal(web!.revision, commit);
      assert.deepEqual(
        web!.commits.map((c) => [c.sha, c.leadTimeSeconds]),
        [[commit, 3 * 3600]],
      );
    });

    it('a build naming only a change key: the commits come from that change’s repository', async () => {
      // The change's repository is named neither by the deployment nor like the service: the
      // pass finds it only through the build's change key (its change's repository).
      const digest = `sha256:${'c3'.repeat(32)}`;
      const commit = '3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e';
      const cdevent = (
        id: string,
        type: string,
        timestamp: string,
        subject: unknown,
        cadence?: unknown,
      ) => ({
        context: { specversion: '0.5.1', id, source: '/build-revision', type, timestamp },
        subject,
        ...(cadence ? { customData: { cadence } } : {}),
      });
      await post(
        '/cdevents',
        cdevent(
          'change-platform-7',
          'dev.cdevents.change.merged.0.3.0',
          '2026-03-04T07:00:00Z',
          { id: 'platform#7', content: { repository: { id: 'acme/platform' } } },
          {
            repository: 'acme/platform',
            revision: commit,
            commits: [{ id: commit, timestamp: '2026-03-04T06:00:00Z' }],
          },
        ),
        json,
      );
      await post(
        '/cdevents',
        {
          context: {
            version: '0.4.1',
            id: 'build-3',
            source: 'https://ci.example/acme',
            type: 'dev.cdevents.artifact.packaged.0.2.0',
            timestamp: '2026-03-04T07:30:00Z',
          },
          subject: {
            id: `pkg:oci/gateway@${encodeURIComponent(digest)}`,
            source: 'https://ci.example/acme',
            type: 'artifact',
            // Not a URL: the build names no repository, only the change.
            content: { change: { id: 'platform#7', source: 'ci' } },
          },
        },
        json,
      );
      await post(
        '/cdevents',
        cdevent('deployed-gateway', 'dev.cdevents.service.deployed.0.3.0', '2026-03-04T09:00:00Z', {
          id: 'gateway',
          content: {
            environment: { id: 'default' },
            artifactId: `pkg:oci/gateway@${encodeURIComponent(digest)}`,
          },
        }),
        json,
      );
      await suite.settle();
      const [gateway] = await deployments('gateway');
      assert.equal(gateway!.revision, commit);
      assert.equal(gateway!.repository, 'acme/platform');
      assert.deepEqual(
        gateway!.commits.map((c) => [c.sha, c.leadTimeSeconds]),
        [[commit, 3 * 3600]],
      );
    });

    it('the build reported after the deployment: the deployment is recomputed', async () => {
      const digest = `sha256:${'b2'.repeat(32)}`;
      await post('/events', push('p2', OTHER, '2026-03-06T07:00:00Z'), structured);
      await post(
        '/events',
        apiserverUpdate('a2', 'api', `ghcr.io/acme/api@${digest}`, 3, '2026-03-06T09:00:00Z'),
        structured,
      );
      await suite.settle();
      // Read once before the build arrives: no commit known yet.
      const before = await deployments('api');
      assert.equal(before[0]!.revision, null);
      await post(
        '/cdevents',
        packaged(
          'build-2',
          `pkg:oci/api@${encodeURIComponent(digest)}`,
          OTHER,
          '2026-03-06T07:10:00Z',
        ),
        json,
      );
      await suite.settle();
      const [latest] = await deployments('api');
      assert.equal(latest!.revision, OTHER);
      assert.deepEqual(
        latest!.commits.map((c) => [c.sha, c.leadTimeSeconds]),
        [[OTHER, 2 * 3600]],
      );
    });
  });
}
