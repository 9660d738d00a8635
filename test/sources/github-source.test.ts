import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import { listCdevents } from '../../src/events/index.js';
import { CadenceError } from '../../src/problem/index.js';
import { githubSettingsSchema } from '../../src/sources/index.js';
import {
  createGithubReceiver,
  createGithubSource,
  type GithubSettings,
} from '../../src/sources/github-source.js';
import { appPerSuite } from '../support/suite-app.js';
import {
  cadenceError,
  changed,
  factSummary as summary,
  malformedDeliveries,
  overHttp,
  storedEvent,
  transformerCases,
  webhookDelivery,
  type CloudEventInput,
  type Json,
  type TransformerCase,
} from '../support/source-deliveries.js';
import { sourceContract } from './source-contract.js';

// Real payloads: the examples GitHub's own Octokit team keeps for every webhook event.
const definitions = createRequire(import.meta.url)(
  '@octokit/webhooks-examples',
) as WebhookDefinition[];

/** A copy of the first example of `event` that `pick` accepts. */
function example(event: string, pick: (payload: Json) => boolean = () => true): Json {
  const found = definitions
    .find((definition) => definition.name === event)
    ?.examples.map((payload) => payload as unknown as Json)
    .find(pick);
  assert.ok(found, `@octokit/webhooks-examples has a matching ${event} example`);
  return structuredClone(found);
}

const at = (payload: Json, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value as Json | undefined)?.[key], payload);

const REPOSITORY = 'https://github.com/Codertocat/Hello-World';
const RECEIVED_AT = new Date('2026-11-20T09:30:00Z');
const SECRET = 'It’s a Secret to Everybody';

const settings = (overrides: Partial<GithubSettings> = {}): GithubSettings =>
  githubSettingsSchema.parse(overrides);

const sign = (body: Buffer | string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const delivery = (
  event: string,
  body: Json | string,
  headers: Record<string, string | undefined> = {},
  id = '72d3162e-cc78-11e3-81ab-4c9367dc0958',
) => webhookDelivery(body, { 'x-github-event': event, 'x-github-delivery': id, ...headers });

const stored = (event: CloudEventInput) => storedEvent(event, RECEIVED_AT);

/** A delivery through the receiver and the transformer, as the router would run them. */
async function deliverAndTransform(
  event: string,
  payload: Json,
  options: { settings?: GithubSettings; id?: string } = {},
) {
  const config = options.settings ?? settings();
  const [cloudEvent] = createGithubReceiver(config).receive(
    delivery(event, payload, {}, options.id),
    RECEIVED_AT,
  );
  return createGithubSource(config).transform(stored(cloudEvent!));
}

const pushToMaster = () =>
  example('push', (p) => p.ref === 'refs/heads/master' && (p.commits as unknown[]).length > 0);
const closedPullRequest = () => example('pull_request', (p) => p.action === 'closed');
const mergedPullRequest = () =>
  changed(closedPullRequest(), {
    'pull_request.merged': true,
    'pull_request.merged_at': '2019-05-15T15:20:33Z',
  });
const deploymentStatus = (state: string) =>
  example('deployment_status', (p) => at(p, 'deployment_status.state') === state);
const issue = (action: string) => example('issues', (p) => p.action === action);
const withIssueLabels = (payload: Json, names: string[]) =>
  changed(payload, { 'issue.labels': names.map((name, id) => ({ id, name })) });

const PUSHED = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const MERGED = 'c4295bd74fb0f4fda03689c3df3f2803b658fd85';
const DEPLOYED = 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e';

const incidentContent = (service = 'Hello-World', environment = 'production') => ({
  description: 'Spelling error in the README file',
  environment: { id: environment, source: REPOSITORY },
  service: { id: service },
});
// The examples' issue as an incident with no `environment:` label: the DORA rules resolve it.
const unlabelledIncident = (predicate: 'detected' | 'resolved', timestamp: string) => ({
  type: `dev.cdevents.incident.${predicate}.0.3.0`,
  subject: 'Codertocat/Hello-World#1',
  timestamp,
  content: incidentContent(undefined, 'unknown'),
  cadence: { environmentGiven: false },
});

// The deployment the examples' deployment_status describes, as its summary.
const deployed = (outcome: string, service = 'Hello-World', environment = 'production') => ({
  type: 'dev.cdevents.service.deployed.0.3.0',
  subject: service,
  timestamp: '2019-05-15T15:20:55Z',
  content: {
    environment: { id: environment, source: REPOSITORY },
    artifactId: `pkg:github/codertocat/hello-world@${DEPLOYED}`,
  },
  cadence: { repository: 'Codertocat/Hello-World', revision: DEPLOYED, outcome },
});

interface Case extends TransformerCase {
  event: string;
  payload: () => Json;
}

const cases: Case[] = [
  {
    name: 'a push to the default branch is a change with its commits',
    event: 'push',
    payload: pushToMaster,
    expected: [
      {
        type: 'dev.cdevents.change.merged.0.3.0',
        subject: `Codertocat/Hello-World@${PUSHED}`,
        timestamp: '2019-05-15T15:19:25Z',
        content: { repository: { id: 'Codertocat/Hello-World', source: REPOSITORY } },
        cadence: {
          repository: 'Codertocat/Hello-World',
          revision: PUSHED,
          mergedAt: '2019-05-15T15:19:25Z',
          commits: [{ id: PUSHED, timestamp: '2019-05-15T15:19:25Z' }],
        },
      },
    ],
  },
  {
    name: 'a push to another branch is no change',
    event: 'push',
    payload: () => changed(pushToMaster(), { ref: 'refs/heads/feature' }),
    expected: [],
    note: /push to refs\/heads\/feature, not to the default branch master/,
  },
  {
    name: 'a pushed tag is no change',
    event: 'push',
    payload: () => example('push', (p) => p.ref === 'refs/tags/simple-tag' && p.deleted === false),
    expected: [],
    note: /not to the default branch/,
  },
  {
    name: 'a push deleting a ref is no change',
    event: 'push',
    payload: () => example('push', (p) => p.deleted === true),
    expected: [],
    note: /deletes refs\/tags\/simple-tag/,
  },
  {
    name: 'a merged pull request is a change of its merge commit at merge time',
    event: 'pull_request',
    payload: mergedPullRequest,
    expected: [
      {
        type: 'dev.cdevents.change.merged.0.3.0',
        subject: 'Codertocat/Hello-World#2',
        timestamp: '2019-05-15T15:20:33Z',
        content: { repository: { id: 'Codertocat/Hello-World', source: REPOSITORY } },
        cadence: {
          repository: 'Codertocat/Hello-World',
          revision: MERGED,
          mergedAt: '2019-05-15T15:20:33Z',
          commits: [{ id: MERGED, timestamp: '2019-05-15T15:20:33Z' }],
        },
      },
    ],
  },
  {
    name: 'a pull request closed without merging is no change',
    event: 'pull_request',
    payload: closedPullRequest,
    expected: [],
    note: /closed, not merged/,
  },
  {
    name: 'a pull request merged into another branch is no change',
    event: 'pull_request',
    payload: () => changed(mergedPullRequest(), { 'pull_request.base.ref': 'release' }),
    expected: [],
    note: /merged into release/,
  },
  {
    name: 'a pull request opened is no change',
    event: 'pull_request',
    payload: () => example('pull_request', (p) => p.action === 'opened'),
    expected: [],
  },
  {
    name: 'a successful deployment status is a deployment of the repository',
    event: 'deployment_status',
    payload: () => deploymentStatus('success'),
    expected: [deployed('success')],
  },
  {
    name: 'a failed deployment status names the service from the deployment payload',
    event: 'deployment_status',
    payload: () =>
      changed(deploymentStatus('success'), {
        'deployment_status.state': 'failure',
        'deployment.payload': { service: 'api' },
        'deployment.environment': 'staging',
      }),
    expected: [deployed('failure', 'api', 'staging')],
  },
  {
    name: 'an errored deployment status is a failed attempt',
    event: 'deployment_status',
    payload: () => changed(deploymentStatus('success'), { 'deployment_status.state': 'error' }),
    expected: [deployed('failure')],
  },
  {
    name: 'a deployment state named like an object property is no deployment',
    event: 'deployment_status',
    payload: () =>
      changed(deploymentStatus('success'), { 'deployment_status.state': 'constructor' }),
    expected: [],
  },
  {
    name: 'a deployment in progress is no deployment yet',
    event: 'deployment_status',
    payload: () => deploymentStatus('in_progress'),
    expected: [],
    note: /in_progress: the deployment has not finished/,
  },
  {
    name: 'an issue opened with the incident label is an incident, service and environment from labels',
    event: 'issues',
    payload: () =>
      withIssueLabels(issue('opened'), ['incident', 'service:web', 'environment:staging']),
    expected: [
      {
        type: 'dev.cdevents.incident.detected.0.3.0',
        subject: 'Codertocat/Hello-World#1',
        timestamp: '2019-05-15T15:20:18Z',
        content: incidentContent('web', 'staging'),
        cadence: undefined,
      },
    ],
  },
  {
    name: 'an issue opened without the incident label is no incident',
    event: 'issues',
    payload: () => issue('opened'),
    expected: [],
    note: /does not open or close an incident/,
  },
  {
    name: 'labelling an open issue an incident detects it when it was opened',
    event: 'issues',
    payload: () =>
      changed(withIssueLabels(issue('labeled'), ['bug', 'incident']), {
        label: { id: 9, name: 'incident' },
      }),
    expected: [unlabelledIncident('detected', '2019-05-15T15:20:18Z')],
  },
  {
    name: 'labelling a closed issue an incident records it detected and resolved',
    event: 'issues',
    payload: () =>
      changed(withIssueLabels(issue('labeled'), ['incident']), {
        label: { id: 9, name: 'incident' },
        'issue.state': 'closed',
        'issue.closed_at': '2019-05-16T08:00:00Z',
      }),
    expected: [
      unlabelledIncident('detected', '2019-05-15T15:20:18Z'),
      unlabelledIncident('resolved', '2019-05-16T08:00:00Z'),
    ],
  },
  {
    name: 'closing an incident resolves it when it was closed',
    event: 'issues',
    payload: () =>
      changed(withIssueLabels(issue('opened'), ['incident']), {
        action: 'closed',
        'issue.state': 'closed',
        'issue.closed_at': '2019-05-15T17:00:00Z',
      }),
    expected: [unlabelledIncident('resolved', '2019-05-15T17:00:00Z')],
  },
  {
    name: 'removing the incident label from an open issue resolves the incident then',
    event: 'issues',
    payload: () => changed(issue('unlabeled'), { label: { id: 9, name: 'incident' } }),
    expected: [unlabelledIncident('resolved', '2019-05-15T15:20:26Z')],
  },
  {
    name: 'removing another label is no incident',
    event: 'issues',
    payload: () => issue('unlabeled'),
    expected: [],
  },
  {
    name: 'a published release is an artifact named by its tag',
    event: 'release',
    payload: () => example('release', (p) => p.action === 'published'),
    expected: [
      {
        type: 'dev.cdevents.artifact.published.0.3.0',
        subject: 'pkg:github/codertocat/hello-world@0.0.1',
        timestamp: '2019-05-15T15:20:53Z',
        content: { user: 'Codertocat' },
        cadence: undefined,
      },
    ],
  },
  {
    name: 'a release created as a draft publishes nothing',
    event: 'release',
    payload: () => example('release', (p) => p.action === 'created'),
    expected: [],
    note: /release created publishes nothing/,
  },
  {
    name: 'a ping carries nothing',
    event: 'ping',
    payload: () => example('ping'),
    expected: [],
    note: /GitHub ping events carry nothing Cadence measures/,
  },
  {
    name: 'an event named like an object property carries nothing',
    event: 'constructor',
    payload: () => ({ zen: 'Approachable is better than simple.' }),
    expected: [],
    note: /GitHub constructor events carry nothing/,
  },
  {
    name: 'a star carries nothing',
    event: 'star',
    payload: () => example('star'),
    expected: [],
    note: /GitHub star events carry nothing/,
  },
];

describe('github transformer', () => {
  transformerCases(cases, ({ event, payload }) => deliverAndTransform(event, payload()));

  it('gives a redelivery the same CDEvent ids and another delivery new ones', async () => {
    const ids = async (id: string) =>
      (await deliverAndTransform('push', pushToMaster(), { id })).cdevents.map(
        (cdevent) => (cdevent.context as Json).id,
      );
    const first = await ids('delivery-1');
    assert.equal(first.length, 1);
    assert.deepEqual(await ids('delivery-1'), first);
    assert.notDeepEqual(await ids('delivery-2'), first);
  });

  it('reads a configured incident label', async () => {
    const payload = withIssueLabels(issue('opened'), ['sev1']);
    const outcome = await deliverAndTransform('issues', payload, {
      settings: settings({ incidentLabel: 'sev1' }),
    });
    assert.deepEqual(
      outcome.cdevents.map((cdevent) => (cdevent.context as Json).type),
      ['dev.cdevents.incident.detected.0.3.0'],
    );
  });

  it('transforms a Knative GitHubSource event like a webhook delivery', async () => {
    const source = createGithubSource(settings());
    const outcome = await source.transform(
      stored({
        id: 'knative-delivery-1',
        source: REPOSITORY,
        type: 'dev.knative.source.github.push',
        data: pushToMaster(),
      }),
    );
    assert.deepEqual(
      outcome.cdevents.map((cdevent) => summary(cdevent).subject),
      [`Codertocat/Hello-World@${PUSHED}`],
    );
    // No event time: the CDEvent falls back to the payload's own time, else the receipt.
    assert.equal(summary(outcome.cdevents[0]!).timestamp, '2019-05-15T15:19:25Z');
  });

  it('notes a Knative payload that is not the event it claims to be', async () => {
    const outcome = await createGithubSource(settings()).transform(
      stored({
        id: 'knative-delivery-2',
        source: REPOSITORY,
        type: 'dev.knative.source.github.push',
        data: { ref: 'refs/heads/master' },
      }),
    );
    assert.deepEqual(outcome.cdevents, []);
    assert.match(outcome.note ?? '', /not a GitHub push payload: after:/);
  });
});

describe('github receiver', () => {
  it('stores a delivery as com.github.<event> from the repository, keyed by the delivery id', () => {
    const payload = pushToMaster();
    const [event] = createGithubReceiver(settings()).receive(
      delivery('push', payload, {}, 'delivery-42'),
      RECEIVED_AT,
    );
    assert.deepEqual(
      { ...event, data: undefined },
      {
        specversion: '1.0',
        id: 'delivery-42',
        source: REPOSITORY,
        type: 'com.github.push',
        time: '2026-11-20T09:30:00.000Z',
        datacontenttype: 'application/json',
        extensions: {},
        data: undefined,
      },
    );
    assert.deepEqual(event!.data, payload);
  });

  const sources: [string, () => Json, string][] = [
    [
      'a repository event',
      () => example('ping', (p) => p.repository !== undefined),
      'https://github.com/Octocoders/Hello-World',
    ],
    [
      'an organization event',
      () => example('ping', (p) => p.repository === undefined),
      'https://github.com/Octocoders',
    ],
    ['an event naming neither', () => ({ zen: 'Keep it logically awesome.' }), '/webhooks/github'],
  ];
  for (const [name, payload, source] of sources) {
    it(`takes the source of ${name} from the payload: ${source}`, () => {
      const [event] = createGithubReceiver(settings()).receive(
        delivery('ping', payload()),
        RECEIVED_AT,
      );
      assert.equal(event!.source, source);
    });
  }

  describe('signature (X-Hub-Signature-256)', () => {
    const receiver = createGithubReceiver(settings({ secret: SECRET }));
    const body = JSON.stringify(pushToMaster());

    it('accepts a delivery signed with the secret', () => {
      const events = receiver.receive(
        delivery('push', body, { 'x-hub-signature-256': sign(body) }),
        RECEIVED_AT,
      );
      assert.equal(events.length, 1);
    });

    // GitHub's documented test vector: the signature passes, then the body (not JSON) is refused.
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    it('accepts the signature GitHub documents for its test vector', () => {
      const documented = createGithubReceiver(settings({ secret: "It's a Secret to Everybody" }));
      const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
      assert.throws(
        () =>
          documented.receive(
            delivery('push', 'Hello, World!', { 'x-hub-signature-256': signature }),
            RECEIVED_AT,
          ),
        (error: unknown) => error instanceof CadenceError && error.field === 'body',
      );
    });

    const refused: [string, string | undefined][] = [
      ['missing', undefined],
      ['made with another secret', sign(body, 'not the secret')],
      ['of another body', sign(`${body} `)],
      ['without the sha256= prefix', sign(body).slice('sha256='.length)],
      ['empty', ''],
    ];
    for (const [name, signature] of refused) {
      it(`refuses a signature ${name} with 401`, () => {
        assert.throws(
          () =>
            receiver.receive(
              delivery('push', body, { 'x-hub-signature-256': signature }),
              RECEIVED_AT,
            ),
          cadenceError('unauthorized', 'x-hub-signature-256'),
        );
      });
    }

    it('needs no signature when no secret is configured', () => {
      const events = createGithubReceiver(settings()).receive(delivery('push', body), RECEIVED_AT);
      assert.equal(events.length, 1);
    });
  });

  const malformed: [string, () => ReturnType<typeof delivery>, string][] = [
    ['a body that is not JSON', () => delivery('push', '{"ref": '), 'body'],
    ['a body that is a JSON array', () => delivery('push', '[]'), 'body'],
    [
      'a push without repository',
      () => delivery('push', changed(pushToMaster(), { repository: undefined })),
      'repository',
    ],
    [
      'a repository full_name that is not a string',
      () => delivery('push', changed(pushToMaster(), { 'repository.full_name': 42 })),
      'repository.full_name',
    ],
    [
      'a push whose after is not a sha',
      () => delivery('push', changed(pushToMaster(), { after: 'main' })),
      'after',
    ],
    [
      'a commit timestamp that is not a time',
      () => delivery('push', changed(pushToMaster(), { 'head_commit.timestamp': 'yesterday' })),
      'head_commit.timestamp',
    ],
    [
      'a merged pull request without its merge commit',
      () =>
        delivery(
          'pull_request',
          changed(mergedPullRequest(), { 'pull_request.merge_commit_sha': null }),
        ),
      'pull_request.merge_commit_sha',
    ],
    [
      'a deployment status time that is not a time',
      () =>
        delivery(
          'deployment_status',
          changed(deploymentStatus('success'), { 'deployment_status.updated_at': '15/05/2019' }),
        ),
      'deployment_status.updated_at',
    ],
    [
      'an issue number that is a string',
      () => delivery('issues', changed(issue('opened'), { 'issue.number': '1' })),
      'issue.number',
    ],
    [
      'a release without a tag',
      () => delivery('release', changed(example('release'), { 'release.tag_name': undefined })),
      'release.tag_name',
    ],
    [
      'no X-GitHub-Event',
      () => delivery('push', pushToMaster(), { 'x-github-event': undefined }),
      'x-github-event',
    ],
    [
      'an X-GitHub-Event that is no event name',
      () => delivery('Push Hook', pushToMaster()),
      'x-github-event',
    ],
    [
      'no X-GitHub-Delivery',
      () => delivery('push', pushToMaster(), { 'x-github-delivery': undefined }),
      'x-github-delivery',
    ],
  ];
  malformedDeliveries(malformed, (message) =>
    createGithubReceiver(settings()).receive(message, RECEIVED_AT),
  );

  it('stores events it does not read whatever their shape', () => {
    const [event] = createGithubReceiver(settings()).receive(
      delivery('star', { repository: 'not an object' }),
      RECEIVED_AT,
    );
    assert.equal(event!.type, 'com.github.star');
    assert.equal(event!.source, '/webhooks/github');
  });
});

describe('POST /webhooks/github (PGlite)', () => {
  const suite = appPerSuite('pglite', {
    webhookReceivers: new Map([['github', createGithubReceiver(settings({ secret: SECRET }))]]),
    sources: { github: settings({ secret: SECRET }) },
  });

  // Signatures, shape errors, redeliveries and notes: the source contract below.
  // GitHub's default content type: `payload=<url-encoded JSON>`, signed over the raw form body.
  const formPost = (
    event: string,
    json: string,
    id: string,
    form = `payload=${encodeURIComponent(json)}`,
  ) =>
    suite.app.inject({
      method: 'POST',
      url: '/webhooks/github',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': event,
        'x-github-delivery': id,
        'x-hub-signature-256': sign(form),
      },
      payload: form,
    });

  it('accepts a form-encoded delivery signed over its raw body', async () => {
    const response = await formPost(
      'ping',
      JSON.stringify({ zen: 'Design for failure.' }),
      'form-1',
    );
    assert.equal(response.statusCode, 202, response.body);
  });

  it('refuses a form without payload with 400 naming payload', async () => {
    const response = await formPost('ping', '', 'form-2', 'other=1');
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().field, 'payload');
  });

  it('counts one deployment for a deployment_status redelivered three times', async () => {
    const payload = example('deployment_status', () => true);
    const status = changed(payload, { 'deployment_status.state': 'success' });
    for (const id of ['redelivery-1', 'redelivery-2', 'redelivery-3']) {
      const response = await formPost('deployment_status', JSON.stringify(status), id);
      assert.equal(response.statusCode, 202, response.body);
    }
    // Routed and projected: the frequency below reads what the projector made of it.
    await suite.settle();
    const deployed = (await listCdevents(suite.store, { limit: 50 })).filter((c) =>
      c.type.startsWith('dev.cdevents.service.deployed'),
    );
    assert.equal(deployed.length, 1);
    const frequency = await suite.app.inject({ url: '/deploy-frequency/year' });
    assert.equal(
      frequency
        .json()
        .reduce((sum: number, row: { Deployments: number }) => sum + row.Deployments, 0),
      1,
    );
  });
});

/** A delivery as HTTP sends it, signed with `secret` (null: no signature header). */
const http = (message: ReturnType<typeof delivery>, secret: string | null = SECRET) =>
  overHttp(message, secret ? { 'x-hub-signature-256': sign(message.body, secret) } : {});

sourceContract({
  source: 'github',
  app: {
    webhookReceivers: new Map([['github', createGithubReceiver(settings({ secret: SECRET }))]]),
    sources: { github: settings({ secret: SECRET }) },
  },
  valid: () => http(delivery('push', pushToMaster())),
  unauthorised: () => [
    {
      name: 'no signature',
      ...http(delivery('push', pushToMaster()), null),
      status: 401,
      field: 'x-hub-signature-256',
    },
    {
      name: 'a signature made with another secret',
      ...http(delivery('push', pushToMaster()), 'not the secret'),
      status: 401,
      field: 'x-hub-signature-256',
    },
  ],
  shapeErrors: () => [
    { name: 'a body that is not JSON', ...http(delivery('push', '{"ref": ')), field: 'body' },
    {
      name: 'a push whose after is not a sha',
      ...http(delivery('push', changed(pushToMaster(), { after: 'main' }))),
      field: 'after',
    },
    {
      name: 'no X-GitHub-Delivery',
      ...http(delivery('push', pushToMaster(), { 'x-github-delivery': undefined })),
      field: 'x-github-delivery',
    },
  ],
  unmapped: () => ({
    ...http(
      delivery('push', changed(pushToMaster(), { ref: 'refs/heads/feature' }), {}, 'feature-1'),
    ),
    note: /not to the default branch/,
  }),
});
