import { createHmac } from 'node:crypto';
import { z } from 'zod';
import {
  isRfc3339,
  type CloudEvent,
  type HttpMessage,
  type StoredEvent,
  type Transformer,
  type TransformOutcome,
} from '../events/index.js';
import { CadenceError } from '../problem/index.js';
import {
  applyRule,
  changeMergedCdevent,
  deliveryCdevents,
  nothing,
  rule,
  trackedIncidentCdevent,
  type PayloadRule,
  type WebhookDelivery,
} from './delivery-cdevents.js';
import {
  checkPayload,
  headerValue,
  parseJsonObject,
  refuseUnauthenticated,
  requiredHeader,
  sameSecret,
  webhookCloudEvent,
  type WebhookReceiver,
} from './webhook-receiver.js';

/**
 * GitHub webhooks → CDEvents.
 *
 * Deliveries arrive either posted straight to `/webhooks/github` (the receiver below checks the
 * signature and the payload's shape and stores them as `com.github.<event>`) or through a Knative
 * GitHubSource (`dev.knative.source.github.<event>`, same payload). The transformer makes:
 * - a push to the default branch → `change.merged` with the pushed commits;
 * - a pull request merged into the default branch → `change.merged`;
 * - a finished deployment status → `service.deployed` with its outcome;
 * - an issue carrying the incident label → `incident.detected` / `incident.resolved`;
 * - a published release → `artifact.published`.
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads
 */

export const githubSettingsSchema = z.strictObject({
  /** The webhook's secret; when set, every delivery must carry a valid `X-Hub-Signature-256`. */
  secret: z.string().min(1).optional(),
  /** The issue label that makes an issue an incident. */
  incidentLabel: z.string().min(1).default('incident'),
});
export type GithubSettings = z.infer<typeof githubSettingsSchema>;

// Payloads, declaring only the fields used; GitHub adds fields freely, so objects stay open.
const timestamp = z.string().refine(isRfc3339, 'must be an RFC 3339 timestamp');
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full commit sha');

const repositorySchema = z.looseObject({
  full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be "owner/name"'),
  name: z.string().min(1),
  html_url: z.url(),
  default_branch: z.string().min(1),
});
type Repository = z.infer<typeof repositorySchema>;

const commitSchema = z.looseObject({ id: sha, timestamp });

export const githubPushSchema = z.looseObject({
  ref: z.string().min(1),
  after: sha,
  deleted: z.boolean(),
  head_commit: commitSchema.nullable(),
  commits: z.array(commitSchema),
  repository: repositorySchema,
});

export const githubPullRequestSchema = z.looseObject({
  action: z.string(),
  number: z.number().int().positive(),
  pull_request: z
    .looseObject({
      merged: z.boolean().nullable(),
      merged_at: timestamp.nullable(),
      merge_commit_sha: sha.nullable(),
      base: z.looseObject({ ref: z.string().min(1) }),
    })
    .superRefine((pr, ctx) => {
      if (pr.merged !== true) return;
      for (const field of ['merged_at', 'merge_commit_sha'] as const) {
        if (pr[field] === null) {
          ctx.addIssue({ code: 'custom', path: [field], message: 'is required once merged' });
        }
      }
    }),
  repository: repositorySchema,
});

export const githubDeploymentStatusSchema = z.looseObject({
  deployment_status: z.looseObject({
    id: z.number().int().optional(),
    state: z.string().min(1),
    updated_at: timestamp,
  }),
  deployment: z.looseObject({
    id: z.number().int().optional(),
    environment: z.string().min(1),
    sha,
    // Whatever the deployer passed: any JSON, often an object; `service` is read when present.
    payload: z.unknown(),
  }),
  repository: repositorySchema,
});

const labelSchema = z.looseObject({ name: z.string() });

export const githubIssuesSchema = z.looseObject({
  action: z.string(),
  issue: z.looseObject({
    number: z.number().int().positive(),
    title: z.string(),
    labels: z.array(labelSchema).default([]),
    created_at: timestamp,
    updated_at: timestamp,
    closed_at: timestamp.nullable(),
  }),
  label: labelSchema.optional(),
  repository: repositorySchema,
});

export const githubReleaseSchema = z.looseObject({
  action: z.string(),
  release: z.looseObject({
    tag_name: z.string().min(1),
    published_at: timestamp.nullable(),
    author: z.looseObject({ login: z.string().min(1) }).optional(),
  }),
  repository: repositorySchema,
});

/** What one delivery is, for the CDEvents made from it. */
type Delivery = WebhookDelivery<GithubSettings>;

// Changes and incidents are made by `changeMergedCdevent` and `trackedIncidentCdevent`.
const cdevent = deliveryCdevents<'service.deployed' | 'artifact.published'>('github');

/**
 * The package URL of a GitHub repository at a version (a tag or a commit sha):
 * `pkg:github/acme/web@v1.2.0`. Owner and name are lower-cased, as the purl `github` type says.
 * https://github.com/package-url/purl-spec/blob/main/types-doc/github-definition.md
 */
export function githubPurl(fullName: string, version: string): string {
  const [owner, name] = fullName.toLowerCase().split('/') as [string, string];
  return `pkg:github/${encodeURIComponent(owner)}/${encodeURIComponent(name)}@${encodeURIComponent(version)}`;
}

/** A repository as a change names it. */
const repositoryRef = (repository: Repository) => ({
  id: repository.full_name,
  url: repository.html_url,
});

function pushToCdevents(
  push: z.infer<typeof githubPushSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { repository } = push;
  if (push.deleted) return nothing(`push deletes ${push.ref}: no change lands`);
  if (push.ref !== `refs/heads/${repository.default_branch}`) {
    return nothing(`push to ${push.ref}, not to the default branch ${repository.default_branch}`);
  }
  const mergedAt = push.head_commit?.timestamp ?? delivery.time;
  return {
    cdevents: [
      changeMergedCdevent('github', delivery, {
        key: `${repository.full_name}@${push.after}`,
        repository: repositoryRef(repository),
        revision: push.after,
        mergedAt,
        // Every commit the push brought onto the branch, each measured from its own time.
        commits: push.commits.map(({ id, timestamp }) => ({ id, timestamp })),
      }),
    ],
  };
}

function pullRequestToCdevents(
  event: z.infer<typeof githubPullRequestSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { pull_request: pr, repository } = event;
  if (event.action !== 'closed' || pr.merged !== true) {
    return nothing(`pull request ${event.action}${pr.merged === true ? '' : ', not merged'}`);
  }
  if (pr.base.ref !== repository.default_branch) {
    return nothing(
      `pull request merged into ${pr.base.ref}, not the default branch ${repository.default_branch}`,
    );
  }
  const revision = pr.merge_commit_sha!;
  const mergedAt = pr.merged_at!;
  return {
    cdevents: [
      changeMergedCdevent('github', delivery, {
        key: `${repository.full_name}#${event.number}`,
        repository: repositoryRef(repository),
        revision,
        mergedAt,
        // The payload does not list the pull request's commits, so the change is its merge (or
        // squash) commit at merge time; the push to the default branch, when also delivered,
        // lists the commits with their own times.
        commits: [{ id: revision, timestamp: mergedAt }],
      }),
    ],
  };
}

// GitHub's deployment states; `error` means the deploy tooling failed: a failed attempt too.
// (Maps, not object literals, wherever a payload's string is the key: `constructor` is no state.)
// https://docs.github.com/en/rest/deployments/statuses
const DEPLOYMENT_OUTCOMES = new Map<string, 'success' | 'failure'>([
  ['success', 'success'],
  ['failure', 'failure'],
  ['error', 'failure'],
]);

const namedService = z.looseObject({ service: z.string().min(1) });

/** The deployed service: `payload.service` when the deployer named it, else the repository. */
function deployedService(payload: unknown, repository: Repository): string {
  const named = namedService.safeParse(payload);
  return named.success ? named.data.service : repository.name;
}

function deploymentStatusToCdevents(
  event: z.infer<typeof githubDeploymentStatusSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { deployment, deployment_status: status, repository } = event;
  const outcome = DEPLOYMENT_OUTCOMES.get(status.state);
  if (!outcome)
    return nothing(`deployment status ${status.state}: the deployment has not finished`);
  // Keyed by the deployment and its status, not the delivery: a redelivered (or re-sent)
  // status is the same deployment. Payloads without the ids fall back to the delivery.
  const keyed =
    deployment.id !== undefined && status.id !== undefined
      ? { id: `${repository.full_name}/deployments/${deployment.id}/statuses/${status.id}` }
      : delivery;
  return {
    cdevents: [
      cdevent(
        { id: keyed.id, source: delivery.source },
        'service.deployed',
        {
          id: deployedService(deployment.payload, repository),
          content: {
            environment: { id: deployment.environment, source: delivery.source },
            artifactId: githubPurl(repository.full_name, deployment.sha),
          },
        },
        status.updated_at,
        { repository: repository.full_name, revision: deployment.sha, outcome },
      ),
    ],
  };
}

/** `service:web` → `web` for prefix `service`; labels name what the issue itself cannot. */
function labelValue(labels: { name: string }[], prefix: string): string | undefined {
  const label = labels.find(
    (l) => l.name.startsWith(`${prefix}:`) && l.name.length > prefix.length + 1,
  );
  return label?.name.slice(prefix.length + 1);
}

function issuesToCdevents(
  event: z.infer<typeof githubIssuesSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { issue, repository } = event;
  const incidentLabel = delivery.settings.incidentLabel;
  const labelled = issue.labels.some((label) => label.name === incidentLabel);
  const aboutTheLabel = event.label?.name === incidentLabel;
  const incident = (kind: 'incident.detected' | 'incident.resolved', at: string) =>
    trackedIncidentCdevent(
      'github',
      delivery,
      kind,
      {
        key: `${repository.full_name}#${issue.number}`,
        description: issue.title,
        environment: labelValue(issue.labels, 'environment'),
        service: labelValue(issue.labels, 'service') ?? repository.name,
      },
      at,
    );
  const resolvedAt = issue.closed_at ?? issue.updated_at;

  // The problem was known when the issue was opened, even if it was labelled an incident later.
  if ((event.action === 'opened' || event.action === 'reopened') && labelled) {
    return { cdevents: [incident('incident.detected', issue.created_at)] };
  }
  if (event.action === 'labeled' && aboutTheLabel) {
    // A closed issue labelled an incident was one in hindsight: detected and resolved.
    const detected = incident('incident.detected', issue.created_at);
    return {
      cdevents: issue.closed_at
        ? [detected, incident('incident.resolved', resolvedAt)]
        : [detected],
    };
  }
  if ((event.action === 'closed' && labelled) || (event.action === 'unlabeled' && aboutTheLabel)) {
    return { cdevents: [incident('incident.resolved', resolvedAt)] };
  }
  return nothing(
    `issue ${event.action} does not open or close an incident (label "${incidentLabel}")`,
  );
}

function releaseToCdevents(
  event: z.infer<typeof githubReleaseSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { release, repository } = event;
  if (event.action !== 'published') return nothing(`release ${event.action} publishes nothing`);
  return {
    cdevents: [
      cdevent(
        delivery,
        'artifact.published',
        {
          id: githubPurl(repository.full_name, release.tag_name),
          content: release.author ? { user: release.author.login } : {},
        },
        release.published_at ?? delivery.time,
      ),
    ],
  };
}

// Each event GitHub sends that Cadence reads: its payload schema and what it becomes.
const EVENT_RULES = new Map<string, PayloadRule<GithubSettings>>([
  ['push', rule(githubPushSchema, pushToCdevents)],
  ['pull_request', rule(githubPullRequestSchema, pullRequestToCdevents)],
  ['deployment_status', rule(githubDeploymentStatusSchema, deploymentStatusToCdevents)],
  ['issues', rule(githubIssuesSchema, issuesToCdevents)],
  ['release', rule(githubReleaseSchema, releaseToCdevents)],
]);

// Types the transformer accepts: deliveries stored by the receiver, and Knative's GitHubSource.
const TYPE_PREFIXES = ['com.github.', 'dev.knative.source.github.'];

/** The GitHub event name in a CloudEvent type (`com.github.push` → `push`), if it is one. */
export function githubEventName(type: string): string | undefined {
  const prefix = TYPE_PREFIXES.find((p) => type.startsWith(p));
  return prefix ? type.slice(type.lastIndexOf('.') + 1) || undefined : undefined;
}

export function createGithubSource(settings: GithubSettings): Transformer {
  return {
    name: 'github',
    transform(event: StoredEvent) {
      const name = githubEventName(event.type);
      if (!name) return nothing(`type ${event.type} is not a GitHub event`);
      const eventRule = EVENT_RULES.get(name);
      if (!eventRule) return nothing(`GitHub ${name} events carry nothing Cadence measures`);
      return applyRule(eventRule, event, `not a GitHub ${name} payload`, settings);
    },
  };
}

/** `sha256=<hex>`: the HMAC-SHA256 of the raw body with the webhook secret. */
function expectedSignature(body: Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries */
function checkSignature(message: HttpMessage, secret: string): void {
  const given = headerValue(message, 'x-hub-signature-256');
  if (!given) {
    refuseUnauthenticated(
      'x-hub-signature-256',
      'the delivery is not signed (X-Hub-Signature-256 is missing)',
    );
  }
  if (!sameSecret(given, expectedSignature(message.body, secret))) {
    refuseUnauthenticated(
      'x-hub-signature-256',
      'X-Hub-Signature-256 does not match the body and the configured secret',
    );
  }
}

// Read permissively: events Cadence does not use are stored whatever their shape.
const originSchema = z.looseObject({
  repository: z.looseObject({ html_url: z.url() }).optional().catch(undefined),
  organization: z
    .looseObject({ login: z.string().min(1) })
    .optional()
    .catch(undefined),
});

/** The CloudEvent source: the repository, else the organization, else the endpoint. */
function deliverySource(payload: Record<string, unknown>): string {
  const origin = originSchema.parse(payload);
  if (origin.repository) return origin.repository.html_url;
  if (origin.organization)
    return `https://github.com/${encodeURIComponent(origin.organization.login)}`;
  return '/webhooks/github';
}

/**
 * The JSON of a delivery: the body, or, for GitHub's default content type
 * `application/x-www-form-urlencoded`, its `payload` field. The signature was checked over the
 * raw body before this.
 */
function formPayload(message: HttpMessage): Buffer {
  const type = headerValue(message, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return message.body;
  const payload = new URLSearchParams(message.body.toString('utf8')).get('payload');
  if (payload === null) {
    throw new CadenceError('invalid-input', {
      field: 'payload',
      detail: 'a form-encoded GitHub delivery carries its JSON in the payload field',
    });
  }
  return Buffer.from(payload, 'utf8');
}

export function createGithubReceiver(settings: GithubSettings): WebhookReceiver {
  return {
    name: 'github',
    receive(message: HttpMessage, receivedAt: Date): CloudEvent[] {
      // Authenticity first: an unsigned request learns nothing about the expected shape.
      if (settings.secret) checkSignature(message, settings.secret);
      const name = requiredHeader(message, 'x-github-event', /^[a-z][a-z0-9_]*$/);
      const delivery = requiredHeader(message, 'x-github-delivery');
      const payload = parseJsonObject(formPayload(message));
      // Checked, not parsed: the delivery is stored as GitHub sent it.
      const eventRule = EVENT_RULES.get(name);
      if (eventRule) checkPayload(eventRule.schema, payload, `GitHub ${name} payload`);
      return [
        webhookCloudEvent({
          id: delivery,
          source: deliverySource(payload),
          type: `com.github.${name}`,
          time: receivedAt,
          data: payload,
        }),
      ];
    },
  };
}
