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
  bodyDigestId,
  checkPayload,
  headerValue,
  parseJsonObject,
  refuseUnauthenticated,
  sameSecret,
  webhookCloudEvent,
  type WebhookReceiver,
} from './webhook-receiver.js';

/**
 * GitLab webhooks → CDEvents.
 *
 * Deliveries are posted to `/webhooks/gitlab`; the receiver checks the secret token and the
 * payload's shape and stores them as `com.gitlab.<object_kind>`. The transformer makes:
 * - a push to the default branch → `change.merged` with the pushed commits;
 * - a merged merge request → `change.merged`;
 * - a finished deployment → `service.deployed` with its outcome;
 * - an incident (issue type `incident`, or the incident label) opened or closed →
 *   `incident.detected` / `incident.resolved`.
 * https://docs.gitlab.com/user/project/integrations/webhook_events/
 */

export const gitlabSettingsSchema = z.strictObject({
  /** The webhook's secret token; when set, every delivery must carry it in `X-Gitlab-Token`. */
  token: z.string().min(1).optional(),
  /** The issue label that makes an issue an incident (GitLab's incident type always does). */
  incidentLabel: z.string().min(1).default('incident'),
});
export type GitlabSettings = z.infer<typeof gitlabSettingsSchema>;

// `2019-03-12 10:35:36 UTC`, `2021-06-01 12:34:56 +0200`, or RFC 3339 proper.
const GITLAB_TIME =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d+)?) ?(Z|UTC|[+-]\d{2}:?\d{2})$/;

/**
 * A GitLab timestamp as RFC 3339, or undefined when it is not one. Several hooks write Ruby's
 * default format instead of ISO 8601 (deployment `status_changed_at`, some issue and merge
 * request times), so both are accepted; the offset is kept.
 *
 * @example parseGitlabTime('2021-04-28 21:50:00 +0200') // '2021-04-28T21:50:00+02:00'
 */
export function parseGitlabTime(value: string): string | undefined {
  const match = GITLAB_TIME.exec(value);
  if (!match) return undefined;
  const [, date, time, zone] = match as unknown as [string, string, string, string];
  const offset =
    zone === 'UTC' || zone === 'Z'
      ? 'Z'
      : zone.includes(':')
        ? zone
        : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const normalized = `${date}T${time}${offset}`;
  return isRfc3339(normalized) ? normalized : undefined;
}

const gitlabTime = z.string().transform((value, ctx) => {
  const parsed = parseGitlabTime(value);
  if (parsed === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a timestamp (RFC 3339, or "2019-03-12 10:35:36 UTC")',
    });
    return z.NEVER;
  }
  return parsed;
});
const sha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'must be a full commit sha');
const NO_COMMIT = '0000000000000000000000000000000000000000';

// Payloads, declaring only the fields used; GitLab adds fields freely, so objects stay open.
const projectSchema = z.looseObject({
  web_url: z.url(),
  path_with_namespace: z.string().regex(/^[^/\s]+(\/[^/\s]+)+$/, 'must be "group/project"'),
});
type Project = z.infer<typeof projectSchema>;
const projectWithBranch = projectSchema.extend({ default_branch: z.string().min(1) });

const commitSchema = z.looseObject({ id: sha, timestamp: gitlabTime });

export const gitlabPushSchema = z.looseObject({
  ref: z.string().min(1),
  after: sha,
  commits: z.array(commitSchema),
  project: projectWithBranch,
});

export const gitlabMergeRequestSchema = z.looseObject({
  object_attributes: z.looseObject({
    iid: z.number().int().positive(),
    action: z.string().optional(),
    target_branch: z.string().min(1),
    merge_commit_sha: sha.nullish(),
    squash_commit_sha: sha.nullish(),
    merged_at: gitlabTime.nullish(),
    updated_at: gitlabTime,
    last_commit: commitSchema.nullish(),
  }),
  project: projectWithBranch,
});

export const gitlabDeploymentSchema = z.looseObject({
  status: z.string().min(1),
  status_changed_at: gitlabTime,
  environment: z.string().min(1),
  short_sha: z.string().min(1),
  commit_url: z.url(),
  project: projectSchema,
});

const labelSchema = z.looseObject({ title: z.string() });

export const gitlabIssueSchema = z.looseObject({
  object_attributes: z.looseObject({
    iid: z.number().int().positive(),
    title: z.string(),
    action: z.string().optional(),
    // `issue_type` in older GitLab, `type` (capitalised) since work items.
    issue_type: z.string().nullish(),
    type: z.string().nullish(),
    created_at: gitlabTime,
    updated_at: gitlabTime,
    closed_at: gitlabTime.nullish(),
    labels: z.array(labelSchema).optional(),
  }),
  labels: z.array(labelSchema).optional(),
  changes: z
    .looseObject({
      labels: z
        .looseObject({ previous: z.array(labelSchema), current: z.array(labelSchema) })
        .optional(),
    })
    .optional(),
  project: projectSchema,
});

/** What one delivery is, for the CDEvents made from it. */
type Delivery = WebhookDelivery<GitlabSettings>;

// Changes and incidents are made by `changeMergedCdevent` and `trackedIncidentCdevent`.
const cdevent = deliveryCdevents<'service.deployed'>('gitlab');

/** The project's own path (`gitlab-test` in `gitlabhq/gitlab-test`): the default service. */
const projectSlug = (project: Project) => project.path_with_namespace.split('/').pop()!;

/**
 * The package URL of a project at a commit. The purl spec has no `gitlab` type, and GitLab is
 * often self-hosted, so it is a `generic` purl pointing at the project.
 */
export function gitlabPurl(project: Project, revision: string): string {
  const path = project.path_with_namespace.toLowerCase().split('/').map(encodeURIComponent);
  const qualifiers = new URLSearchParams({ vcs_url: project.web_url });
  return `pkg:generic/${path.join('/')}@${encodeURIComponent(revision)}?${qualifiers.toString()}`;
}

/** A project as a change names its repository. */
const repositoryRef = (project: Project) => ({
  id: project.path_with_namespace,
  url: project.web_url,
});

function pushToCdevents(
  push: z.infer<typeof gitlabPushSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { project } = push;
  if (push.after === NO_COMMIT) return nothing(`push deletes ${push.ref}: no change lands`);
  if (push.ref !== `refs/heads/${project.default_branch}`) {
    return nothing(`push to ${push.ref}, not to the default branch ${project.default_branch}`);
  }
  // GitLab lists at most the newest 20 commits of a push; older ones are not measured.
  const commits = push.commits.map(({ id, timestamp }) => ({ id, timestamp }));
  const head = commits.find((commit) => commit.id === push.after);
  return {
    cdevents: [
      changeMergedCdevent('gitlab', delivery, {
        key: `${project.path_with_namespace}@${push.after}`,
        repository: repositoryRef(project),
        revision: push.after,
        mergedAt: head?.timestamp ?? delivery.time,
        commits,
      }),
    ],
  };
}

function mergeRequestToCdevents(
  event: z.infer<typeof gitlabMergeRequestSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { object_attributes: mr, project } = event;
  if (mr.action !== 'merge') return nothing(`merge request ${mr.action ?? 'event'}, not a merge`);
  if (mr.target_branch !== project.default_branch) {
    return nothing(
      `merge request merged into ${mr.target_branch}, not the default branch ${project.default_branch}`,
    );
  }
  // What the merge put on the target branch: the merge commit; with fast-forward merges there is
  // none, so the squash commit, else the merge request's last commit itself.
  const revision = mr.merge_commit_sha ?? mr.squash_commit_sha ?? mr.last_commit?.id;
  if (!revision) return nothing('merged merge request names no commit');
  const mergedAt = mr.merged_at ?? mr.updated_at;
  // The payload does not list the merge request's commits; its last commit is one of them and
  // carries its own time, which is closer to the truth than the merge time for lead time.
  const commits = mr.last_commit
    ? [{ id: mr.last_commit.id, timestamp: mr.last_commit.timestamp }]
    : [];
  if (revision !== mr.last_commit?.id) commits.unshift({ id: revision, timestamp: mergedAt });
  return {
    cdevents: [
      changeMergedCdevent('gitlab', delivery, {
        key: `${project.path_with_namespace}!${mr.iid}`,
        repository: repositoryRef(project),
        revision,
        mergedAt,
        commits,
      }),
    ],
  };
}

// Deployment statuses: running, success, failed, canceled. A canceled deployment never ran.
// (Maps, not object literals, wherever a payload's string is the key: `constructor` is no status.)
const DEPLOYMENT_OUTCOMES = new Map<string, 'success' | 'failure'>([
  ['success', 'success'],
  ['failed', 'failure'],
]);

/** The deployed commit: the hook names only a short sha, but its commit URL ends in the full one. */
function deployedRevision(event: z.infer<typeof gitlabDeploymentSchema>): string {
  const last = new URL(event.commit_url).pathname.split('/').pop() ?? '';
  return sha.safeParse(last).success && last.startsWith(event.short_sha) ? last : event.short_sha;
}

function deploymentToCdevents(
  event: z.infer<typeof gitlabDeploymentSchema>,
  delivery: Delivery,
): TransformOutcome {
  const outcome = DEPLOYMENT_OUTCOMES.get(event.status);
  if (!outcome) return nothing(`deployment ${event.status}: not a finished deployment`);
  const revision = deployedRevision(event);
  return {
    cdevents: [
      cdevent(
        delivery,
        'service.deployed',
        {
          id: projectSlug(event.project),
          content: {
            environment: { id: event.environment, source: delivery.source },
            artifactId: gitlabPurl(event.project, revision),
          },
        },
        event.status_changed_at,
        { repository: event.project.path_with_namespace, revision, outcome },
      ),
    ],
  };
}

/** `service::web` (a scoped label) or `service:web` → `web`. */
function labelValue(labels: { title: string }[], prefix: string): string | undefined {
  for (const separator of ['::', ':']) {
    const start = `${prefix}${separator}`;
    const label = labels.find((l) => l.title.startsWith(start) && l.title.length > start.length);
    if (label) return label.title.slice(start.length);
  }
  return undefined;
}

function issueToCdevents(
  event: z.infer<typeof gitlabIssueSchema>,
  delivery: Delivery,
): TransformOutcome {
  const { object_attributes: issue, project } = event;
  const incidentLabel = delivery.settings.incidentLabel;
  const labels = issue.labels ?? event.labels ?? [];
  const hasLabel = (list: { title: string }[]) => list.some((l) => l.title === incidentLabel);
  const typedIncident = issue.issue_type === 'incident' || issue.type === 'Incident';
  const isIncident = typedIncident || hasLabel(labels);
  const incident = (kind: 'incident.detected' | 'incident.resolved', at: string) =>
    trackedIncidentCdevent(
      'gitlab',
      delivery,
      kind,
      {
        key: `${project.path_with_namespace}#${issue.iid}`,
        description: issue.title,
        environment: labelValue(labels, 'environment'),
        service: labelValue(labels, 'service') ?? projectSlug(project),
      },
      at,
    );
  const resolvedAt = issue.closed_at ?? issue.updated_at;
  const labelChange = event.changes?.labels;
  const labelAdded =
    !!labelChange && hasLabel(labelChange.current) && !hasLabel(labelChange.previous);
  const labelRemoved =
    !!labelChange && hasLabel(labelChange.previous) && !hasLabel(labelChange.current);

  // The problem was known when the issue was opened, even if it was labelled an incident later.
  if ((issue.action === 'open' || issue.action === 'reopen') && isIncident) {
    return { cdevents: [incident('incident.detected', issue.created_at)] };
  }
  if (issue.action === 'close' && isIncident) {
    return { cdevents: [incident('incident.resolved', resolvedAt)] };
  }
  if (issue.action === 'update' && labelAdded) {
    // Labelled after it was closed: an incident recognised in hindsight, detected and resolved.
    const detected = incident('incident.detected', issue.created_at);
    return {
      cdevents: issue.closed_at
        ? [detected, incident('incident.resolved', resolvedAt)]
        : [detected],
    };
  }
  if (issue.action === 'update' && labelRemoved && !typedIncident) {
    return { cdevents: [incident('incident.resolved', resolvedAt)] };
  }
  return nothing(
    `issue ${issue.action ?? 'event'} does not open or close an incident (label "${incidentLabel}")`,
  );
}

// Each object kind GitLab sends that Cadence reads: its payload schema and what it becomes.
// Checked at the receiver: a delivery of these kinds that does not fit is refused.
const INTAKE_RULES = new Map<string, PayloadRule<GitlabSettings>>([
  ['push', rule(gitlabPushSchema, pushToCdevents)],
  ['merge_request', rule(gitlabMergeRequestSchema, mergeRequestToCdevents)],
  ['deployment', rule(gitlabDeploymentSchema, deploymentToCdevents)],
  ['issue', rule(gitlabIssueSchema, issueToCdevents)],
]);

const EVENT_RULES = new Map<string, PayloadRule<GitlabSettings>>([
  ...INTAKE_RULES,
  // Newer GitLab sends incidents as work items; other work items (epics, group-level, without a
  // project) share the kind, so these are read leniently and never refused at the receiver.
  ['work_item', rule(gitlabIssueSchema, issueToCdevents)],
]);

const TYPE_PREFIX = 'com.gitlab.';

export function createGitlabSource(settings: GitlabSettings): Transformer {
  return {
    name: 'gitlab',
    transform(event: StoredEvent) {
      if (!event.type.startsWith(TYPE_PREFIX)) {
        return nothing(`type ${event.type} is not a GitLab event`);
      }
      const kind = event.type.slice(TYPE_PREFIX.length);
      const eventRule = EVENT_RULES.get(kind);
      if (!eventRule) return nothing(`GitLab ${kind} events carry nothing Cadence measures`);
      return applyRule(eventRule, event, `not a GitLab ${kind} payload`, settings);
    },
  };
}

// Read permissively: kinds Cadence does not check are stored whatever their shape.
const envelopeSchema = z.looseObject({
  object_kind: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .optional()
    .catch(undefined),
  project: z.looseObject({ web_url: z.url() }).optional().catch(undefined),
});

/** `Tag Push Hook` → `tag_push`: the kind of a payload that does not say. */
const kindFromHeader = (hook: string) =>
  hook
    .trim()
    .toLowerCase()
    .replace(/ hook$/, '')
    .replace(/[^a-z0-9]+/g, '_');

export function createGitlabReceiver(settings: GitlabSettings): WebhookReceiver {
  return {
    name: 'gitlab',
    receive(message: HttpMessage, receivedAt: Date): CloudEvent[] {
      // Authenticity first: a request without the token learns nothing about the expected shape.
      if (settings.token) {
        const given = headerValue(message, 'x-gitlab-token');
        if (!given) refuseUnauthenticated('x-gitlab-token', 'header X-Gitlab-Token is missing');
        if (!sameSecret(given, settings.token)) {
          refuseUnauthenticated(
            'x-gitlab-token',
            'X-Gitlab-Token does not match the configured token',
          );
        }
      }
      const hook = headerValue(message, 'x-gitlab-event');
      if (!hook || !/[a-z]/i.test(hook)) {
        throw new CadenceError('invalid-input', {
          field: 'x-gitlab-event',
          detail: 'header x-gitlab-event is required',
        });
      }
      const payload = parseJsonObject(message.body);
      const envelope = envelopeSchema.parse(payload);
      const kind = envelope.object_kind ?? kindFromHeader(hook);
      // Checked, not parsed: the delivery is stored as GitLab sent it.
      const intakeRule = INTAKE_RULES.get(kind);
      if (intakeRule) checkPayload(intakeRule.schema, payload, `GitLab ${kind} payload`);
      return [
        webhookCloudEvent({
          // Shared by every webhook one event triggers, so a project and a group hook both
          // pointing here store it once; a body hash when an older GitLab sends no UUID.
          id: headerValue(message, 'x-gitlab-event-uuid') ?? bodyDigestId(message.body),
          source: envelope.project?.web_url ?? '/webhooks/gitlab',
          type: `com.gitlab.${kind}`,
          time: receivedAt,
          data: payload,
        }),
      ];
    },
  };
}
