import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validateCdevent, type CloudEvent } from '../../src/events/index.js';
import { tektonSettingsSchema } from '../../src/sources/index.js';
import {
  createTektonSource,
  isDeployPipeline,
  type TektonSettings,
} from '../../src/sources/tekton-source.js';
import { gitRepositoryPath } from '../../src/events/cdevents/deployment-facts.js';
import { routeAll, structured } from '../support/app.js';
import { appPerSuite } from '../support/suite-app.js';
import { storedEvent, type Json } from '../support/source-deliveries.js';
import { ingestTokens, sourceContract } from './source-contract.js';

type Fixture = 'started' | 'running' | 'successful' | 'failed' | 'build-successful';

/**
 * CloudEvents as Tekton Pipelines sends them (pkg/reconciler/events/cloudevent in
 * tektoncd/pipeline: data `{ pipelineRun }` converted to v1beta1; source from the object's path).
 */
function fixture(name: Fixture): CloudEvent & { data: { pipelineRun: Json } } {
  return JSON.parse(
    readFileSync(new URL(`./fixtures/tekton/pipelinerun-${name}.json`, import.meta.url), 'utf8'),
  ) as CloudEvent & { data: { pipelineRun: Json } };
}

const stored = (event: CloudEvent) => storedEvent(event, new Date('2026-11-20T09:31:13Z'));

function transform(event: CloudEvent, options: Partial<TektonSettings> = {}) {
  const outcome = createTektonSource(tektonSettingsSchema.parse(options)).transform(stored(event));
  return outcome as Exclude<typeof outcome, Promise<unknown>>;
}

function valid(cdevent: Json) {
  const result = validateCdevent(cdevent);
  assert.ok(result.ok, JSON.stringify(result));
  return cdevent as {
    context: { id: string; type: string; timestamp: string; source: string };
    subject: { id: string; content: Json };
    customData?: { cadence?: Json; tekton?: Json };
  };
}

/** Edits the PipelineRun inside a fixture: params by name (undefined removes), labels, status. */
function withRun(
  event: ReturnType<typeof fixture>,
  edits: {
    params?: Record<string, string | undefined>;
    labels?: Record<string, string | undefined>;
    reason?: string;
  },
) {
  const copy = structuredClone(event);
  const run = copy.data.pipelineRun as {
    metadata: { labels: Record<string, string> };
    spec: { params: { name: string; value: unknown }[] };
    status: { conditions: { reason: string }[] };
  };
  for (const [name, value] of Object.entries(edits.params ?? {})) {
    run.spec.params = run.spec.params.filter((param) => param.name !== name);
    if (value !== undefined) run.spec.params.push({ name, value });
  }
  for (const [name, value] of Object.entries(edits.labels ?? {})) {
    if (value === undefined) delete run.metadata.labels[name];
    else run.metadata.labels[name] = value;
  }
  if (edits.reason) run.status.conditions[0]!.reason = edits.reason;
  return copy;
}

describe('tekton transformer', () => {
  it('turns a started run into pipelinerun.started at its start time', () => {
    const { cdevents, note } = transform(fixture('started'));
    assert.equal(note, undefined);
    assert.equal(cdevents.length, 1);
    const started = valid(cdevents[0]!);
    assert.equal(started.context.type, 'dev.cdevents.pipelinerun.started.0.3.0');
    assert.equal(started.context.timestamp, '2026-11-20T09:28:41Z');
    assert.equal(started.context.source, '/apis///namespaces/ci//deploy-web-run-x7k2p');
    assert.equal(started.subject.id, 'ci/deploy-web-run-x7k2p');
    assert.deepEqual(started.subject.content, {
      pipelineName: 'deploy-web',
      uri: 'urn:tekton:pipelinerun:ci:deploy-web-run-x7k2p',
    });
  });

  it('links to Tekton Dashboard when its address is configured', () => {
    const { cdevents } = transform(fixture('successful'), {
      dashboardUrl: 'https://tekton.example.com/',
    });
    assert.equal(
      valid(cdevents[0]!).subject.content.uri,
      'https://tekton.example.com/#/namespaces/ci/pipelineruns/deploy-web-run-x7k2p',
    );
  });

  it('turns a successful deploy run into pipelinerun.finished and service.deployed at completion', () => {
    const { cdevents, note } = transform(fixture('successful'));
    assert.equal(note, undefined);
    const [finished, deployed] = cdevents.map(valid);
    assert.equal(finished!.context.type, 'dev.cdevents.pipelinerun.finished.0.3.0');
    assert.deepEqual(finished!.subject.content, { pipelineName: 'deploy-web', outcome: 'success' });
    assert.equal(finished!.context.timestamp, '2026-11-20T09:31:12Z');

    assert.equal(deployed!.context.type, 'dev.cdevents.service.deployed.0.3.0');
    assert.equal(deployed!.context.timestamp, '2026-11-20T09:31:12Z');
    assert.equal(deployed!.subject.id, 'web');
    assert.deepEqual(deployed!.subject.content, {
      environment: { id: 'production', source: '/apis///namespaces/ci//deploy-web-run-x7k2p' },
      artifactId: 'pkg:oci/web?repository_url=registry.example.com%2Facme%2Fweb&tag=1.4.2',
    });
    assert.deepEqual(deployed!.customData?.cadence, {
      revision: '9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29',
      repository: 'acme/web',
      outcome: 'success',
    });
    assert.equal(deployed!.customData?.tekton?.repositoryUrl, 'https://github.com/acme/web.git');
  });

  it('turns a failed deploy run into a failed run and a deployment with outcome failure', () => {
    const { cdevents } = transform(fixture('failed'));
    const [finished, deployed] = cdevents.map(valid);
    assert.deepEqual(finished!.subject.content, {
      pipelineName: 'deploy-web',
      outcome: 'failure',
      errors: 'Tasks Completed: 3 (Failed: 1, Cancelled 0), Skipped: 0',
    });
    assert.equal(deployed!.context.timestamp, '2026-11-20T10:02:56Z');
    assert.deepEqual(deployed!.customData?.cadence, {
      revision: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
      repository: 'acme/web',
      outcome: 'failure',
    });
  });

  it('reports a cancelled run as cancelled, and a cancelled deploy as no deployment attempt', () => {
    const { cdevents, note } = transform(withRun(fixture('failed'), { reason: 'Cancelled' }));
    assert.equal(cdevents.length, 1);
    assert.equal(valid(cdevents[0]!).subject.content.outcome, 'cancel');
    assert.match(note ?? '', /cancelled: not a deployment attempt/);
  });

  it('makes no deployment of a pipeline that does not deploy', () => {
    const { cdevents } = transform(fixture('build-successful'));
    assert.deepEqual(
      cdevents.map((c) => valid(c).context.type),
      ['dev.cdevents.pipelinerun.finished.0.3.0'],
    );
  });

  for (const kind of ['running'] as const) {
    it(`says nothing new for a ${kind} run`, () => {
      const { cdevents, note } = transform(fixture(kind));
      assert.deepEqual(cdevents, []);
      assert.match(note ?? '', /pipelinerun running: nothing new/);
    });
  }
  it('says nothing new for an unknown-state run', () => {
    const unknown = { ...fixture('running'), type: 'dev.tekton.event.pipelinerun.unknown.v1' };
    assert.match(transform(unknown).note ?? '', /pipelinerun unknown/);
  });

  const deployCases: {
    name: string;
    edits: Parameters<typeof withRun>[1];
    options?: Partial<TektonSettings>;
    service?: string;
    environment?: string;
    cadence?: Json;
    artifactId?: string;
    note?: RegExp;
    deploys?: false;
  }[] = [
    {
      name: 'service from the app.kubernetes.io/name label, said so',
      edits: { params: { service: undefined }, labels: { 'app.kubernetes.io/name': 'storefront' } },
      service: 'storefront',
      note: /service from label app\.kubernetes\.io\/name \(no param "service"\)/,
    },
    {
      name: 'environment from the namespace, said so',
      edits: { params: { environment: undefined } },
      environment: 'ci',
      note: /environment from namespace ci \(no param "environment"\)/,
    },
    {
      name: 'no service at all: no deployment, said so',
      edits: { params: { service: undefined }, labels: { 'app.kubernetes.io/name': undefined } },
      note: /names no service .*no deployment recorded/,
      deploys: false,
    },
    {
      name: 'revision from `revision` before `git-revision`, repository from `repo-url`',
      edits: {
        params: {
          revision: 'abc1234',
          'git-url': undefined,
          'repo-url': 'git@gitlab.com:shop/platform/web.git',
        },
      },
      cadence: { revision: 'abc1234', repository: 'shop/platform/web', outcome: 'success' },
    },
    {
      name: 'revision from `commit`',
      edits: { params: { 'git-revision': undefined, commit: 'deadbeef' } },
      cadence: { revision: 'deadbeef', repository: 'acme/web', outcome: 'success' },
    },
    {
      name: 'no revision or repository, no image: the service as a generic artifact, said so',
      edits: { params: { 'git-revision': undefined, 'git-url': undefined, image: undefined } },
      cadence: { outcome: 'success' },
      artifactId: 'pkg:generic/web',
      note: /no revision param \(revision, git-revision, commit\)/,
    },
    {
      name: 'no image: the service at its revision as a generic artifact',
      edits: { params: { image: undefined } },
      artifactId: 'pkg:generic/web@9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29',
    },
    {
      name: 'configured param names',
      edits: { params: { app: 'api', stage: 'staging', sha: 'f00d', 'git-revision': undefined } },
      options: { serviceParam: 'app', environmentParam: 'stage', revisionParams: ['sha'] },
      service: 'api',
      environment: 'staging',
      cadence: { revision: 'f00d', repository: 'acme/web', outcome: 'success' },
    },
  ];
  for (const {
    name,
    edits,
    options,
    service,
    environment,
    cadence,
    artifactId,
    note,
    deploys,
  } of deployCases) {
    it(`deploy params: ${name}`, () => {
      const outcome = transform(withRun(fixture('successful'), edits), options);
      const deployed = outcome.cdevents
        .map(valid)
        .find((c) => c.context.type.includes('service.deployed'));
      if (deploys === false) {
        assert.equal(deployed, undefined);
      } else {
        assert.ok(deployed, 'a deployment');
        const content = deployed.subject.content as {
          environment: { id: string };
          artifactId: string;
        };
        assert.equal(deployed.subject.id, service ?? 'web');
        assert.equal(content.environment.id, environment ?? 'production');
        if (cadence) assert.deepEqual(deployed.customData?.cadence, cadence);
        if (artifactId) assert.equal(content.artifactId, artifactId);
      }
      if (note) assert.match(outcome.note ?? '', note);
      else assert.equal(outcome.note, undefined);
    });
  }

  it('gives the same ids to a re-sent event (Tekton ids are random) and distinct ones per run and kind', () => {
    const ids = (event: CloudEvent) => transform(event).cdevents.map((c) => valid(c).context.id);
    const successful = ids(fixture('successful'));
    assert.deepEqual(ids({ ...fixture('successful'), id: 'another-random-uuid' }), successful);
    assert.equal(
      new Set([...successful, ...ids(fixture('started')), ...ids(fixture('failed'))]).size,
      5,
    );
  });

  it('notes events that are not PipelineRun events', () => {
    assert.match(
      transform({ ...fixture('successful'), type: 'dev.tekton.event.taskrun.successful.v1' })
        .note ?? '',
      /not a Tekton PipelineRun event/,
    );
    assert.match(
      transform({ ...fixture('successful'), data: { taskRun: {} } }).note ?? '',
      /not a Tekton PipelineRun event: pipelineRun/,
    );
  });
});

describe('tekton builds: a run that pushed an image by digest', () => {
  const DIGEST = `sha256:${'c3'.repeat(32)}`;
  /** The build fixture with pipeline results (v1beta1 `pipelineResults`), params edited. */
  const built = (
    results: Record<string, string>,
    params: Record<string, string | undefined> = {},
    reason?: string,
  ) => {
    const event = withRun(fixture('build-successful'), { params, ...(reason ? { reason } : {}) });
    const status = event.data.pipelineRun.status as Json;
    status.pipelineResults = Object.entries(results).map(([name, value]) => ({ name, value }));
    return event;
  };
  const table: [string, ReturnType<typeof built>, string[], RegExp | undefined][] = [
    [
      'IMAGE_URL and IMAGE_DIGEST with a revision: artifact.packaged',
      built({ IMAGE_URL: 'registry.example.com/acme/web:1.4.2', IMAGE_DIGEST: DIGEST }),
      ['dev.cdevents.pipelinerun.finished.0.3.0', 'dev.cdevents.artifact.packaged.0.3.0'],
      undefined,
    ],
    [
      'no IMAGE_DIGEST: no build',
      built({ IMAGE_URL: 'registry.example.com/acme/web:1.4.2' }),
      ['dev.cdevents.pipelinerun.finished.0.3.0'],
      undefined,
    ],
    [
      'no revision param: no build, noted',
      built(
        { IMAGE_URL: 'registry.example.com/acme/web', IMAGE_DIGEST: DIGEST },
        { 'git-revision': undefined },
      ),
      ['dev.cdevents.pipelinerun.finished.0.3.0'],
      /built registry\.example\.com\/acme\/web@sha256:c3c3.* names no revision param/,
    ],
  ];
  for (const [name, event, types, note] of table) {
    it(name, () => {
      const outcome = transform(event);
      assert.deepEqual(
        outcome.cdevents.map((c) => valid(c).context.type),
        types,
      );
      if (note) assert.match(outcome.note ?? '', note);
      else assert.equal(outcome.note, undefined);
    });
  }

  it('names the image by digest and the commit it was built from', () => {
    const [, packaged] = transform(table[0]![1]).cdevents.map(valid);
    assert.equal(
      packaged!.subject.id,
      `pkg:oci/web@sha256%3A${'c3'.repeat(32)}?repository_url=registry.example.com%2Facme%2Fweb`,
    );
    assert.deepEqual(packaged!.subject.content, {
      change: {
        id: '9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29',
        source: 'https://github.com/acme/web.git',
      },
    });
    assert.deepEqual(packaged!.customData?.cadence, {
      revision: '9f3c2d41a7b8e6f5d4c3b2a1908f7e6d5c4b3a29',
      repository: 'acme/web',
    });
  });

  it('a failed run built nothing', () => {
    const failed = built(
      { IMAGE_URL: 'registry.example.com/acme/web', IMAGE_DIGEST: DIGEST },
      {},
      'Failed',
    );
    failed.type = 'dev.tekton.event.pipelinerun.failed.v1';
    const conditions = (failed.data.pipelineRun.status as { conditions: Json[] }).conditions;
    conditions[0]!.status = 'False';
    assert.deepEqual(
      transform(failed).cdevents.map((c) => valid(c).context.type),
      ['dev.cdevents.pipelinerun.finished.0.3.0'],
    );
  });
});

describe('tekton helpers', () => {
  const globs: [string, string[], boolean][] = [
    ['deploy-web', ['*deploy*'], true],
    ['web-deploy', ['*deploy*'], true],
    ['build-web', ['*deploy*'], false],
    ['release-web', ['release-*', 'promote-*'], true],
    ['deploy-web', ['release-*'], false],
  ];
  for (const [name, deployPipelines, deploys] of globs) {
    it(`${name} with ${deployPipelines.join(', ')} → ${deploys ? 'deploys' : 'does not deploy'}`, () =>
      assert.equal(isDeployPipeline(name, { deployPipelines }), deploys));
  }

  const urls: [string, string][] = [
    ['https://github.com/acme/web.git', 'acme/web'],
    ['https://github.com/acme/web', 'acme/web'],
    ['https://github.com/acme/web/', 'acme/web'],
    ['git@github.com:acme/web.git', 'acme/web'],
    ['ssh://git@gitlab.example.com:2222/shop/platform/web.git', 'shop/platform/web'],
    ['acme/web', 'acme/web'],
    ['https://github.com/', 'https://github.com/'],
  ];
  for (const [url, path] of urls)
    it(`${url} → ${path}`, () => assert.equal(gitRepositoryPath(url), path));
});

describe('Tekton CloudEvents through POST /events on PGlite', () => {
  const suite = appPerSuite('pglite');

  it('routes Tekton events by the default routes into CDEvents', async () => {
    for (const name of ['started', 'running', 'successful'] as const) {
      const response = await suite.app.inject({
        method: 'POST',
        url: '/events',
        headers: structured,
        payload: JSON.stringify(fixture(name)),
      });
      assert.equal(response.statusCode, 202, response.body);
    }
    await routeAll(suite.router);
    const { rows } = await suite.store.query<{ type: string; transformer: string }>(
      'select type, transformer from cdevents order by seq',
    );
    assert.deepEqual(rows, [
      { type: 'dev.cdevents.pipelinerun.started.0.3.0', transformer: 'tekton' },
      { type: 'dev.cdevents.pipelinerun.finished.0.3.0', transformer: 'tekton' },
      { type: 'dev.cdevents.service.deployed.0.3.0', transformer: 'tekton' },
    ]);
    const { rows: notes } = await suite.store.query<{ route_note: string | null }>(
      `select route_note from events where type = 'dev.tekton.event.pipelinerun.running.v1'`,
    );
    assert.match(notes[0]?.route_note ?? '', /nothing new until it finishes/);
  });
});

// Through POST /events with server.auth.ingest on, on every engine.
const tokens = ingestTokens('tekton');
const cloudEvent = (event: unknown, headers = tokens.headers.mine) => ({
  body: typeof event === 'string' ? event : JSON.stringify(event),
  headers: { ...structured, ...headers },
});
sourceContract({
  source: 'tekton',
  path: '/events',
  app: { auth: tokens.auth },
  setUp: tokens.setUp,
  valid: () => cloudEvent(fixture('successful')),
  unauthorised: () => [
    {
      name: 'no token',
      ...cloudEvent(fixture('successful'), {}),
      status: 401,
      field: 'authorization',
    },
    {
      name: "another producer's token",
      ...cloudEvent(fixture('successful'), tokens.headers.other),
      status: 403,
      // The token is good; the event's type is what it may not send.
      field: 'type',
    },
  ],
  shapeErrors: () => [
    { name: 'a body that is not JSON', ...cloudEvent('{'), field: 'body' },
    {
      name: 'no type',
      ...cloudEvent({ ...fixture('successful'), type: undefined }),
      field: 'type',
    },
  ],
  unmapped: () => ({ ...cloudEvent(fixture('running')), note: /nothing new until it finishes/ }),
});
