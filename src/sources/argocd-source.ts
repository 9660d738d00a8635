import { z } from 'zod';
import {
  isRfc3339,
  cdeventEnvelope,
  deployedArtifactId,
  deploymentFacts,
  type CloudEvent,
  type HttpMessage,
  type StoredEvent,
  type Transformer,
  type TransformOutcome,
} from '../events/index.js';
import { nothing } from './delivery-cdevents.js';
import {
  bodyDigestId,
  checkBearerToken,
  checkPayload,
  describeIssue,
  parseJsonBody,
  webhookCloudEvent,
  type WebhookReceiver,
} from './webhook-receiver.js';

/**
 * Argo CD Notifications → deployments.
 *
 * Argo CD's webhook notifications have no fixed payload: the template decides the body. Cadence
 * defines one (the `argocd-notifications-cm` snippet in docs/sources.md) and the receiver holds
 * deliveries to it strictly, so a template typo is a 400 naming the field instead of a deployment
 * silently missing its revision. Deliveries are stored as `io.argoproj.argocd.app.<event>`.
 *
 * The transformer: a sync that succeeded and left the app Healthy → `service.deployed`; a sync
 * that failed or errored → `service.deployed` with outcome `failure`; a Degraded app after a sync
 * is only noted — the incident it may be comes from Alertmanager, which knows when it ends.
 */

export const argocdSettingsSchema = z.strictObject({
  /** When set, every delivery must carry `Authorization: Bearer <token>`. */
  token: z.string().min(1).optional(),
});
export type ArgocdSettings = z.infer<typeof argocdSettingsSchema>;

/** The CloudEvent source of every delivery (the body names no Argo CD instance). */
export const ARGOCD_SOURCE = '/webhooks/argocd';
const TYPE_PREFIX = 'io.argoproj.argocd.app.';

// A value Argo CD does not have renders as "" through the template's `dig … ""`.
const text = z.string();
const optionalTime = z
  .string()
  .refine((value) => value === '' || isRfc3339(value), 'must be an RFC 3339 timestamp or ""');

/** The body of Cadence's Argo CD webhook template: every key required except `environment`. */
export const argocdNotificationSchema = z.strictObject({
  app: z.string().min(1),
  project: text,
  namespace: text,
  environment: text.optional(),
  revision: text,
  repoURL: text,
  syncStatus: text,
  healthStatus: text,
  phase: text,
  startedAt: optionalTime,
  finishedAt: optionalTime,
  images: z.array(z.string().min(1)).nullable(),
  // It becomes part of a CloudEvent type: a trigger name such as `on-sync-succeeded`.
  event: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'must be a trigger name (a-z, 0-9, ".", "-")'),
});
export type ArgocdNotification = z.infer<typeof argocdNotificationSchema>;

function parseNotification(body: Buffer): ArgocdNotification {
  return checkPayload(
    argocdNotificationSchema,
    parseJsonBody(body),
    "not Cadence's Argo CD notification body (see docs/sources.md)",
    // An unknown key is named itself: it is most likely a misspelt template field.
    { brackets: true, nameUnknownKey: true },
  );
}

/** What a notification says about one sync; a re-sent notification has the same id. */
export function argocdNotificationId(notification: ArgocdNotification): string {
  const { app, revision, phase, finishedAt, event } = notification;
  return bodyDigestId(Buffer.from(JSON.stringify([app, revision, phase, finishedAt, event])));
}

export function createArgocdReceiver(settings: ArgocdSettings): WebhookReceiver {
  return {
    name: 'argocd',
    receive(message: HttpMessage, receivedAt: Date): CloudEvent[] {
      // Authenticity first: an unauthenticated caller learns nothing about the expected shape.
      if (settings.token) checkBearerToken(message, settings.token);
      const notification = parseNotification(message.body);
      return [
        webhookCloudEvent({
          id: argocdNotificationId(notification),
          source: ARGOCD_SOURCE,
          type: `${TYPE_PREFIX}${notification.event}`,
          time: receivedAt,
          subject: notification.app,
          data: notification,
        }),
      ];
    },
  };
}

const FAILED_PHASES = new Set(['Failed', 'Error']);

/** The deployment a notification reports, if it reports one. */
export function notificationToCdevents(
  notification: ArgocdNotification,
  event: Pick<StoredEvent, 'source' | 'time' | 'receivedAt'>,
): TransformOutcome {
  const { app, phase, healthStatus } = notification;
  const failed = FAILED_PHASES.has(phase);
  if (!failed && healthStatus === 'Degraded') {
    return nothing(
      `${app} is Degraded after a sync: not a deployment; an incident comes from Alertmanager`,
    );
  }
  if (!failed && phase !== 'Succeeded') {
    return nothing(`sync phase ${phase || '(none)'}: the sync has not finished`);
  }
  if (!failed && healthStatus !== 'Healthy') {
    return nothing(
      `${app} synced but is ${healthStatus || 'of unknown health'}: it counts as deployed once Healthy`,
    );
  }
  const environment = notification.environment || notification.namespace;
  if (!environment) {
    return nothing(`${app} names no environment (no environment label, no destination namespace)`);
  }
  const { revision, repoURL, finishedAt } = notification;
  // Without an image, the application at its revision.
  const artifactId = deployedArtifactId(notification.images?.[0], app, revision);
  const outcome = failed ? 'failure' : 'success';
  return {
    cdevents: [
      cdeventEnvelope({
        producer: 'argocd',
        // Not the trigger: two triggers reporting one sync report one deployment.
        key: [app, revision, phase, finishedAt],
        kind: 'service.deployed',
        source: event.source,
        // `||`, not `eventTime`: an empty CloudEvent time counts as none here.
        timestamp: finishedAt || event.time || event.receivedAt.toISOString(),
        subject: {
          id: app,
          content: { environment: { id: environment, source: event.source }, artifactId },
        },
        customData: {
          cadence: deploymentFacts(revision, repoURL, outcome),
          argocd: {
            project: notification.project,
            namespace: notification.namespace,
            phase,
            syncStatus: notification.syncStatus,
            healthStatus,
            ...(repoURL ? { repoURL } : {}),
            ...(notification.startedAt ? { startedAt: notification.startedAt } : {}),
            images: notification.images ?? [],
          },
        },
      }),
    ],
  };
}

export function createArgocdSource(_settings: ArgocdSettings): Transformer {
  return {
    name: 'argocd',
    transform(event: StoredEvent): TransformOutcome {
      if (!event.type.startsWith(TYPE_PREFIX)) {
        return nothing(`type ${event.type} is not an Argo CD notification`);
      }
      const parsed = argocdNotificationSchema.safeParse(event.data);
      if (!parsed.success) {
        return nothing(
          describeIssue(parsed.error, "not Cadence's Argo CD notification body", {
            brackets: true,
          }),
        );
      }
      return notificationToCdevents(parsed.data, event);
    },
  };
}
