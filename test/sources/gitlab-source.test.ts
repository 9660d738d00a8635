import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gitlabSettingsSchema } from '../../src/sources/index.js';
import {
  createGitlabReceiver,
  createGitlabSource,
  parseGitlabTime,
  type GitlabSettings,
} from '../../src/sources/gitlab-source.js';
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

/**
 * Payloads as GitLab's webhook documentation shows them
 * (https://docs.gitlab.com/user/project/integrations/webhook_events/), with the fields a merge
 * and an incident carry filled in.
 */
const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`./fixtures/gitlab/${name}.json`, import.meta.url), 'utf8'));

const RECEIVED_AT = new Date('2026-11-20T09:30:00Z');
const TOKEN = 'glwht-7f3c2a';

const settings = (overrides: Partial<GitlabSettings> = {}): GitlabSettings =>
  gitlabSettingsSchema.parse(overrides);

const HOOKS: Record<string, string> = {
  push: 'Push Hook',
  tag_push: 'Tag Push Hook',
  merge_request: 'Merge Request Hook',
  deployment: 'Deployment Hook',
  issue: 'Issue Hook',
  work_item: 'Issue Hook',
};

const delivery = (
  hook: string,
  body: Json | string,
  headers: Record<string, string | undefined> = {},
) =>
  webhookDelivery(body, {
    'x-gitlab-event': hook,
    'x-gitlab-event-uuid': '1b6b3b4e-0f2a-4b8e-9c53-2d1f1e0c6a11',
    ...headers,
  });

const stored = (event: CloudEventInput) => storedEvent(event, RECEIVED_AT);

/** A delivery through the receiver and the transformer, as the router would run them. */
async function deliverAndTransform(payload: Json, config = settings()) {
  const hook = HOOKS[payload.object_kind as string] ?? 'Unknown Hook';
  const [cloudEvent] = createGitlabReceiver(config).receive(delivery(hook, payload), RECEIVED_AT);
  return createGitlabSource(config).transform(stored(cloudEvent!));
}

describe('parseGitlabTime', () => {
  const accepted: [string, string][] = [
    ['2019-03-12 10:35:36 UTC', '2019-03-12T10:35:36Z'],
    ['2021-06-01 12:34:56 +0200', '2021-06-01T12:34:56+02:00'],
    ['2021-06-01 12:34:56 -0530', '2021-06-01T12:34:56-05:30'],
    ['2021-06-01 12:34:56 +02:00', '2021-06-01T12:34:56+02:00'],
    ['2011-12-12T14:27:31+02:00', '2011-12-12T14:27:31+02:00'],
    ['2013-12-03T17:23:34Z', '2013-12-03T17:23:34Z'],
    ['2016-08-11T11:28:34.085Z', '2016-08-11T11:28:34.085Z'],
  ];
  for (const [input, expected] of accepted) {
    it(`${input} → ${expected}`, () => assert.equal(parseGitlabTime(input), expected));
  }

  it('keeps the instant: 21:50 at +02:00 is 19:50 UTC', () => {
    const parsed = parseGitlabTime('2021-04-28 21:50:00 +0200');
    assert.equal(new Date(parsed!).toISOString(), '2021-04-28T19:50:00.000Z');
  });

  const rejected = [
    '',
    'yesterday',
    '2019-03-12',
    '2019-03-12 10:35:36',
    '2019-03-12 10:35:36 CEST',
    '2019-02-30 10:00:00 UTC',
    '2019-03-12 25:00:00 UTC',
    '12/03/2019 10:35:36 UTC',
    ' 2019-03-12 10:35:36 UTC',
    '2019-03-12 10:35:36 +2',
  ];
  for (const input of rejected) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.equal(parseGitlabTime(input), undefined));
  }
});

const DIASPORA = 'http://example.com/mike/diaspora';
const GITLAB_TEST = 'http://example.com/gitlabhq/gitlab-test';
const DEPLOYMENTS = 'http://10.126.0.2:3000/root/test-deployment-webhooks';
const PUSHED = 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7';
const MERGED = 'e2a1f1ef00d7ea0e5e0e4dbeb5a8c2f0f3e9a0d1';
const DEPLOYED = '279484c09fbe69ededfced8c1bb6e6d24616b468';
const NO_COMMIT = '0000000000000000000000000000000000000000';

const mergeRequest = (edits: Record<string, unknown> = {}) =>
  changed(fixture('merge-request-merged'), edits);
const mergeChange = (revision: string, mergedAt: string, commits: unknown[]) => ({
  type: 'dev.cdevents.change.merged.0.3.0',
  subject: 'gitlabhq/gitlab-test!1',
  timestamp: mergedAt,
  content: { repository: { id: 'gitlabhq/gitlab-test', source: GITLAB_TEST } },
  cadence: { repository: 'gitlabhq/gitlab-test', revision, mergedAt, commits },
});
const LAST_COMMIT = { id: PUSHED, timestamp: '2012-01-03T23:36:29+02:00' };

const deployment = (edits: Record<string, unknown> = {}) => changed(fixture('deployment'), edits);
const deployed = (outcome: string, revision = DEPLOYED) => ({
  type: 'dev.cdevents.service.deployed.0.3.0',
  subject: 'test-deployment-webhooks',
  timestamp: '2021-04-28T21:50:00+02:00',
  content: {
    environment: { id: 'staging', source: DEPLOYMENTS },
    artifactId: `pkg:generic/root/test-deployment-webhooks@${revision}?vcs_url=${encodeURIComponent(DEPLOYMENTS)}`,
  },
  cadence: { repository: 'root/test-deployment-webhooks', revision, outcome },
});

const label = (title: string) => ({ id: title.length, title, type: 'ProjectLabel' });
const incident = (edits: Record<string, unknown> = {}) => changed(fixture('issue-incident'), edits);
const incidentEvent = (predicate: 'detected' | 'resolved', timestamp: string) => ({
  type: `dev.cdevents.incident.${predicate}.0.3.0`,
  subject: 'gitlabhq/gitlab-test#23',
  timestamp,
  content: {
    description: 'Checkout returns 502 for every request',
    environment: { id: 'unknown', source: GITLAB_TEST },
    service: { id: 'checkout' },
  },
  // No `environment:` label: the DORA rules resolve it.
  cadence: { environmentGiven: false },
});
// The documentation's plain issue, made an incident by its label.
const labelledIssue = (predicate: 'detected' | 'resolved', timestamp: string) => ({
  type: `dev.cdevents.incident.${predicate}.0.3.0`,
  subject: 'gitlabhq/gitlab-test#23',
  timestamp,
  content: {
    description: 'New API: create/update/delete file',
    environment: { id: 'unknown', source: GITLAB_TEST },
    service: { id: 'gitlab-test' },
  },
  // No `environment:` label: the DORA rules resolve it.
  cadence: { environmentGiven: false },
});
const withLabels = (titles: string[], edits: Record<string, unknown> = {}) =>
  changed(fixture('issue'), { 'object_attributes.labels': titles.map(label), ...edits });

interface Case extends TransformerCase {
  payload: () => Json;
}

const cases: Case[] = [
  {
    name: 'a push to the default branch is a change with its commits',
    payload: () => fixture('push'),
    expected: [
      {
        type: 'dev.cdevents.change.merged.0.3.0',
        subject: `mike/diaspora@${PUSHED}`,
        timestamp: '2012-01-03T23:36:29+02:00',
        content: { repository: { id: 'mike/diaspora', source: DIASPORA } },
        cadence: {
          repository: 'mike/diaspora',
          revision: PUSHED,
          mergedAt: '2012-01-03T23:36:29+02:00',
          commits: [
            {
              id: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327',
              timestamp: '2011-12-12T14:27:31+02:00',
            },
            { id: PUSHED, timestamp: '2012-01-03T23:36:29+02:00' },
          ],
        },
      },
    ],
  },
  {
    name: 'a push to another branch is no change',
    payload: () => changed(fixture('push'), { ref: 'refs/heads/feature' }),
    expected: [],
    note: /push to refs\/heads\/feature, not to the default branch master/,
  },
  {
    name: 'a push deleting the branch is no change',
    payload: () => changed(fixture('push'), { after: NO_COMMIT, checkout_sha: null, commits: [] }),
    expected: [],
    note: /deletes refs\/heads\/master/,
  },
  {
    name: 'a kind named like an object property carries nothing',
    payload: () => ({ object_kind: 'constructor' }),
    expected: [],
    note: /GitLab constructor events carry nothing/,
  },
  {
    name: 'a tag push carries nothing',
    payload: () => fixture('tag-push'),
    expected: [],
    note: /GitLab tag_push events carry nothing Cadence measures/,
  },
  {
    name: 'a merged merge request is a change of its merge commit and its last commit',
    payload: () => mergeRequest(),
    expected: [
      mergeChange(MERGED, '2013-12-04T09:12:04Z', [
        { id: MERGED, timestamp: '2013-12-04T09:12:04Z' },
        LAST_COMMIT,
      ]),
    ],
  },
  {
    name: 'a merge request without merged_at was merged when it was last updated',
    payload: () => mergeRequest({ 'object_attributes.merged_at': undefined }),
    expected: [
      mergeChange(MERGED, '2013-12-04T09:12:05Z', [
        { id: MERGED, timestamp: '2013-12-04T09:12:05Z' },
        LAST_COMMIT,
      ]),
    ],
  },
  {
    name: 'a squashed fast-forward merge produced the squash commit',
    payload: () =>
      mergeRequest({
        'object_attributes.merge_commit_sha': null,
        'object_attributes.squash_commit_sha': MERGED,
      }),
    expected: [
      mergeChange(MERGED, '2013-12-04T09:12:04Z', [
        { id: MERGED, timestamp: '2013-12-04T09:12:04Z' },
        LAST_COMMIT,
      ]),
    ],
  },
  {
    name: 'a fast-forward merge lands the last commit itself, measured from its own time',
    payload: () => mergeRequest({ 'object_attributes.merge_commit_sha': null }),
    expected: [mergeChange(PUSHED, '2013-12-04T09:12:04Z', [LAST_COMMIT])],
  },
  {
    name: 'a merge request merged into another branch is no change',
    payload: () => mergeRequest({ 'object_attributes.target_branch': 'release' }),
    expected: [],
    note: /merged into release, not the default branch master/,
  },
  {
    name: 'a merge request opened is no change',
    payload: () => mergeRequest({ 'object_attributes.action': 'open' }),
    expected: [],
    note: /merge request open, not a merge/,
  },
  {
    name: 'a successful deployment is a deployment of the full commit its URL names',
    payload: () => deployment(),
    expected: [deployed('success')],
  },
  {
    name: 'a failed deployment is a failed attempt',
    payload: () => deployment({ status: 'failed' }),
    expected: [deployed('failure')],
  },
  {
    name: 'a deployment whose commit URL names no commit keeps the short sha',
    payload: () => deployment({ commit_url: `${DEPLOYMENTS}/-/commits/master` }),
    expected: [deployed('success', '279484c0')],
  },
  {
    name: 'a running deployment is no deployment yet',
    payload: () => deployment({ status: 'running' }),
    expected: [],
    note: /deployment running: not a finished deployment/,
  },
  {
    name: 'a deployment status named like an object property is no deployment',
    payload: () => deployment({ status: 'constructor' }),
    expected: [],
  },
  {
    name: 'a canceled deployment is no deployment',
    payload: () => deployment({ status: 'canceled' }),
    expected: [],
  },
  {
    name: 'an incident opened is detected when created, its service from a scoped label',
    payload: () => incident(),
    expected: [incidentEvent('detected', '2024-03-04T16:02:11Z')],
  },
  {
    name: 'an incident reopened is detected again (from when it was created)',
    payload: () => incident({ 'object_attributes.action': 'reopen' }),
    expected: [incidentEvent('detected', '2024-03-04T16:02:11Z')],
  },
  {
    name: 'an incident closed is resolved when closed',
    payload: () =>
      incident({
        'object_attributes.action': 'close',
        'object_attributes.state': 'closed',
        'object_attributes.closed_at': '2024-03-04 17:45:00 UTC',
      }),
    expected: [incidentEvent('resolved', '2024-03-04T17:45:00Z')],
  },
  {
    name: 'an incident sent as a work item is still an incident',
    payload: () => incident({ object_kind: 'work_item' }),
    expected: [incidentEvent('detected', '2024-03-04T16:02:11Z')],
  },
  {
    name: 'an issue opened without the incident type or label is no incident',
    payload: () => fixture('issue'),
    expected: [],
    note: /issue open does not open or close an incident \(label "incident"\)/,
  },
  {
    name: 'an issue opened with the incident label is an incident of the project',
    payload: () => withLabels(['API', 'incident']),
    expected: [labelledIssue('detected', '2013-12-03T17:15:43Z')],
  },
  {
    name: 'labelling an issue an incident detects it when it was opened',
    payload: () =>
      withLabels(['API', 'incident'], {
        'object_attributes.action': 'update',
        'changes.labels': { previous: [label('API')], current: [label('API'), label('incident')] },
      }),
    expected: [labelledIssue('detected', '2013-12-03T17:15:43Z')],
  },
  {
    name: 'removing the incident label resolves the incident then',
    payload: () =>
      withLabels(['API'], {
        'object_attributes.action': 'update',
        'object_attributes.updated_at': '2013-12-05 08:00:00 UTC',
        'changes.labels': { previous: [label('API'), label('incident')], current: [label('API')] },
      }),
    expected: [labelledIssue('resolved', '2013-12-05T08:00:00Z')],
  },
  {
    name: 'other label changes are no incident',
    payload: () =>
      withLabels(['Platform'], {
        'object_attributes.action': 'update',
        'changes.labels': { previous: [label('API')], current: [label('Platform')] },
      }),
    expected: [],
  },
];

describe('gitlab transformer', () => {
  transformerCases(cases, ({ payload }) => deliverAndTransform(payload()));

  it('reads a configured incident label', async () => {
    const outcome = await deliverAndTransform(
      withLabels(['sev1']),
      settings({ incidentLabel: 'sev1' }),
    );
    assert.deepEqual(
      outcome.cdevents.map((cdevent) => summary(cdevent).type),
      ['dev.cdevents.incident.detected.0.3.0'],
    );
  });

  it('gives a redelivery the same CDEvent ids', async () => {
    const ids = async () =>
      (await deliverAndTransform(fixture('push'))).cdevents.map(
        (cdevent) => (cdevent.context as Json).id,
      );
    const first = await ids();
    assert.equal(first.length, 1);
    assert.deepEqual(await ids(), first);
  });

  it('notes a stored payload that is not the kind it claims to be', async () => {
    const outcome = await createGitlabSource(settings()).transform(
      stored({
        id: 'x',
        source: DIASPORA,
        type: 'com.gitlab.push',
        data: { ref: 'refs/heads/master' },
      }),
    );
    assert.deepEqual(outcome.cdevents, []);
    assert.match(outcome.note ?? '', /not a GitLab push payload: after:/);
  });
});

describe('gitlab receiver', () => {
  it('stores a delivery as com.gitlab.<object_kind> from the project, keyed by the event UUID', () => {
    const payload = fixture('push');
    const [event] = createGitlabReceiver(settings()).receive(
      delivery('Push Hook', payload),
      RECEIVED_AT,
    );
    assert.deepEqual(
      { ...event, data: undefined },
      {
        specversion: '1.0',
        id: '1b6b3b4e-0f2a-4b8e-9c53-2d1f1e0c6a11',
        source: DIASPORA,
        type: 'com.gitlab.push',
        time: '2026-11-20T09:30:00.000Z',
        datacontenttype: 'application/json',
        extensions: {},
        data: undefined,
      },
    );
    assert.deepEqual(event!.data, payload);
  });

  it('keys a delivery without an event UUID by its body', () => {
    const receiver = createGitlabReceiver(settings());
    const id = (body: Json) =>
      receiver.receive(
        delivery('Push Hook', body, { 'x-gitlab-event-uuid': undefined }),
        RECEIVED_AT,
      )[0]!.id;
    assert.match(id(fixture('push')), /^[0-9a-f]{32}$/);
    assert.equal(id(fixture('push')), id(fixture('push')));
    assert.notEqual(id(fixture('push')), id(changed(fixture('push'), { ref: 'refs/heads/x' })));
  });

  it('stores kinds it does not read, named from the header when the body does not say', () => {
    const [event] = createGitlabReceiver(settings()).receive(
      delivery('Feature Flag Hook', { object_attributes: { active: true } }),
      RECEIVED_AT,
    );
    assert.equal(event!.type, 'com.gitlab.feature_flag');
    assert.equal(event!.source, '/webhooks/gitlab');
  });

  describe('secret token (X-Gitlab-Token)', () => {
    const receiver = createGitlabReceiver(settings({ token: TOKEN }));

    it('accepts a delivery carrying the token', () => {
      const events = receiver.receive(
        delivery('Push Hook', fixture('push'), { 'x-gitlab-token': TOKEN }),
        RECEIVED_AT,
      );
      assert.equal(events.length, 1);
    });

    const refused: [string, string | undefined][] = [
      ['missing', undefined],
      ['wrong', 'glwht-guess'],
      ['a prefix of the right one', TOKEN.slice(0, -1)],
      ['empty', ''],
    ];
    for (const [name, token] of refused) {
      it(`refuses a token ${name} with 401`, () => {
        assert.throws(
          () =>
            receiver.receive(
              delivery('Push Hook', fixture('push'), { 'x-gitlab-token': token }),
              RECEIVED_AT,
            ),
          cadenceError('unauthorized', 'x-gitlab-token'),
        );
      });
    }

    it('needs no token when none is configured', () => {
      const events = createGitlabReceiver(settings()).receive(
        delivery('Push Hook', fixture('push')),
        RECEIVED_AT,
      );
      assert.equal(events.length, 1);
    });
  });

  const malformed: [string, () => ReturnType<typeof delivery>, string][] = [
    ['a body that is not JSON', () => delivery('Push Hook', 'object_kind=push'), 'body'],
    ['a body that is JSON null', () => delivery('Push Hook', 'null'), 'body'],
    [
      'a push without project',
      () => delivery('Push Hook', changed(fixture('push'), { project: undefined })),
      'project',
    ],
    [
      'a project web_url that is not a URL',
      () => delivery('Push Hook', changed(fixture('push'), { 'project.web_url': 'mike/diaspora' })),
      'project.web_url',
    ],
    [
      'a commit timestamp that is not a time',
      () =>
        delivery(
          'Push Hook',
          changed(fixture('push'), { 'commits.1.timestamp': 'Tue Jan 3 2012' }),
        ),
      'commits.1.timestamp',
    ],
    [
      'a merge request iid that is a string',
      () => delivery('Merge Request Hook', mergeRequest({ 'object_attributes.iid': '1' })),
      'object_attributes.iid',
    ],
    [
      'a merge time that cannot be read',
      () =>
        delivery(
          'Merge Request Hook',
          mergeRequest({ 'object_attributes.merged_at': '2013-12-04 09:12:04' }),
        ),
      'object_attributes.merged_at',
    ],
    [
      'a deployment time that cannot be read',
      () => delivery('Deployment Hook', deployment({ status_changed_at: 'yesterday' })),
      'status_changed_at',
    ],
    [
      'a deployment without environment',
      () => delivery('Deployment Hook', deployment({ environment: undefined })),
      'environment',
    ],
    [
      'an issue created on 13/13',
      () =>
        delivery(
          'Issue Hook',
          incident({ 'object_attributes.created_at': '2024-13-13 16:02:11 UTC' }),
        ),
      'object_attributes.created_at',
    ],
    [
      'no X-Gitlab-Event',
      () => delivery('Push Hook', fixture('push'), { 'x-gitlab-event': undefined }),
      'x-gitlab-event',
    ],
  ];
  malformedDeliveries(malformed, (message) =>
    createGitlabReceiver(settings()).receive(message, RECEIVED_AT),
  );
});

/** A delivery as HTTP sends it, with `token` in X-Gitlab-Token (null: no header). */
const http = (message: ReturnType<typeof delivery>, token: string | null = TOKEN) =>
  overHttp(message, token ? { 'x-gitlab-token': token } : {});

// Through the app, on every engine: the token, shape errors, redeliveries and notes.
sourceContract({
  source: 'gitlab',
  app: {
    webhookReceivers: new Map([['gitlab', createGitlabReceiver(settings({ token: TOKEN }))]]),
    sources: { gitlab: settings({ token: TOKEN }) },
  },
  valid: () => http(delivery('Deployment Hook', fixture('deployment'))),
  unauthorised: () => [
    {
      name: 'no token',
      ...http(delivery('Deployment Hook', fixture('deployment')), null),
      status: 401,
      field: 'x-gitlab-token',
    },
    {
      name: 'a wrong token',
      ...http(delivery('Deployment Hook', fixture('deployment')), 'glwht-guess'),
      status: 401,
      field: 'x-gitlab-token',
    },
  ],
  shapeErrors: () => [
    { name: 'a body that is not JSON', ...http(delivery('Push Hook', '{"ref": ')), field: 'body' },
    {
      name: 'a deployment without environment',
      ...http(
        delivery('Deployment Hook', changed(fixture('deployment'), { environment: undefined })),
      ),
      field: 'environment',
    },
    {
      name: 'no X-Gitlab-Event',
      ...http(delivery('Push Hook', fixture('push'), { 'x-gitlab-event': undefined })),
      field: 'x-gitlab-event',
    },
  ],
  unmapped: () => ({
    ...http(
      delivery('Push Hook', changed(fixture('push'), { ref: 'refs/heads/feature' }), {
        'x-gitlab-event-uuid': 'feature-1',
      }),
    ),
    note: /not to the default branch/,
  }),
});
