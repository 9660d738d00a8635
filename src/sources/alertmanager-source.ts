import { z } from 'zod';
import {
  isRfc3339,
  cdeventEnvelope,
  type CloudEvent,
  type HttpMessage,
  type StoredEvent,
  type Transformer,
  type TransformOutcome,
} from '../events/index.js';
import { nothing, UNNAMED_ENVIRONMENT } from './delivery-cdevents.js';
import {
  bodyDigestId,
  checkBearerToken,
  checkPayload,
  describeIssue,
  parseJsonBody,
  webhookCloudEvent,
  type FieldNaming,
  type WebhookReceiver,
} from './webhook-receiver.js';

/**
 * Prometheus Alertmanager → incidents.
 *
 * Alertmanager posts its webhook payload (version "4") to `/webhooks/alertmanager`; the receiver
 * checks the bearer token and the payload's shape and stores the notification as one CloudEvent
 * `io.prometheus.alertmanager.notification`. The transformer turns every alert in it into an
 * incident CDEvent: a firing alert → `incident.detected` at `startsAt`, a resolved one →
 * `incident.resolved` at `endsAt`.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 *
 * An incident is one firing period of one alert: keyed `alertmanager:<fingerprint>:<startsAt>`.
 * The fingerprint alone would merge every time an alert fires into one incident; the resolved
 * notification repeats the firing period's `startsAt`, so detection and resolution meet on the key.
 */

export const alertmanagerSettingsSchema = z.strictObject({
  /** When set, every delivery must carry `Authorization: Bearer <token>`. */
  token: z.string().min(1).optional(),
  /** The alert label naming the service that is down. */
  serviceLabel: z.string().min(1).default('service'),
  /** The alert label naming the environment. */
  environmentLabel: z.string().min(1).default('environment'),
  /**
   * The environment of an alert without the environment label when its service deploys to more
   * than one (or none): the DORA rules first try the service's only environment. Unset:
   * `dora.environment`.
   */
  defaultEnvironment: z.string().min(1).optional(),
  /** Labels tried in order for the service when the service label is missing. */
  fallbackServiceLabels: z.array(z.string().min(1)).default(['job', 'app']),
});
export type AlertmanagerSettings = z.infer<typeof alertmanagerSettingsSchema>;

/** The CloudEvent type a notification is stored as. */
export const ALERTMANAGER_NOTIFICATION_TYPE = 'io.prometheus.alertmanager.notification';

const timestamp = z.string().refine(isRfc3339, 'must be an RFC 3339 timestamp');
const labelSet = z.record(z.string(), z.string());
const status = z.enum(['firing', 'resolved']);

// Strict where Cadence reads (a wrong shape is a 400 naming the field); open objects, because
// Alertmanager adds fields over versions (`truncatedAlerts` arrived in 0.22).
const alertSchema = z.looseObject({
  status,
  labels: labelSet,
  annotations: labelSet,
  startsAt: timestamp,
  // A firing alert has the zero time `0001-01-01T00:00:00Z`: its end is not known yet.
  endsAt: timestamp,
  generatorURL: z.string(),
  // model.Fingerprint prints as 16 hex digits.
  fingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hexadecimal digits'),
});

export const alertmanagerPayloadSchema = z.looseObject({
  version: z.literal('4', { error: 'must be "4" (the webhook payload version Cadence reads)' }),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().min(0).optional(),
  status,
  receiver: z.string(),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.url(),
  alerts: z.array(alertSchema).min(1),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;
export type AlertmanagerAlert = z.infer<typeof alertSchema>;

// A problem names its field as `alerts[0].fingerprint`.
const FIELD_NAMING: FieldNaming = { brackets: true };
const NOT_A_PAYLOAD = 'not an Alertmanager webhook payload';

/**
 * The id of a notification: what it says, not when it was sent. Alertmanager re-sends an
 * unchanged group every `repeat_interval`; those deliveries get the same id and are stored once.
 */
export function notificationId(payload: AlertmanagerPayload): string {
  const said = [
    payload.groupKey,
    payload.status,
    payload.alerts.map((alert) => [alert.fingerprint, alert.status, alert.startsAt, alert.endsAt]),
  ];
  return bodyDigestId(Buffer.from(JSON.stringify(said)));
}

export function createAlertmanagerReceiver(settings: AlertmanagerSettings): WebhookReceiver {
  return {
    name: 'alertmanager',
    receive(message: HttpMessage, receivedAt: Date): CloudEvent[] {
      // Authenticity first: an unauthenticated caller learns nothing about the expected shape.
      if (settings.token) checkBearerToken(message, settings.token);
      const payload = checkPayload(
        alertmanagerPayloadSchema,
        parseJsonBody(message.body),
        NOT_A_PAYLOAD,
        FIELD_NAMING,
      );
      return [
        webhookCloudEvent({
          id: notificationId(payload),
          source: payload.externalURL,
          type: ALERTMANAGER_NOTIFICATION_TYPE,
          time: receivedAt,
          subject: payload.groupKey,
          data: payload,
        }),
      ];
    },
  };
}

/** The key of the incident an alert's firing period is. */
export function incidentKey(alert: Pick<AlertmanagerAlert, 'fingerprint' | 'startsAt'>): string {
  return `alertmanager:${alert.fingerprint}:${alert.startsAt}`;
}

/** The service an alert is about: the service label, else the first fallback label present. */
export function alertService(
  labels: Record<string, string>,
  settings: Pick<AlertmanagerSettings, 'serviceLabel' | 'fallbackServiceLabels'>,
): string | undefined {
  for (const name of [settings.serviceLabel, ...settings.fallbackServiceLabels]) {
    const value = labels[name];
    if (value) return value;
  }
  return undefined;
}

function incidentCdevent(
  alert: AlertmanagerAlert,
  source: string,
  settings: AlertmanagerSettings,
): Record<string, unknown> {
  const key = incidentKey(alert);
  const predicate = alert.status === 'firing' ? 'detected' : 'resolved';
  const service = alertService(alert.labels, settings);
  // Without the label the DORA rules resolve it (the service's only environment, else the
  // default), so an unlabelled alert meets the deployments it follows.
  const labelled = alert.labels[settings.environmentLabel] || undefined;
  const description = alert.annotations.summary ?? alert.labels.alertname;
  const content: Record<string, unknown> = {
    ...(description ? { description } : {}),
    environment: {
      id: labelled ?? settings.defaultEnvironment ?? UNNAMED_ENVIRONMENT,
      source,
    },
    ...(service ? { service: { id: service, source } } : {}),
  };
  return cdeventEnvelope({
    producer: 'alertmanager',
    key: [key, alert.status],
    kind: `incident.${predicate}`,
    source,
    timestamp: alert.status === 'firing' ? alert.startsAt : alert.endsAt,
    subject: { id: key, content },
    customData: {
      ...(labelled
        ? {}
        : {
            cadence: {
              environmentGiven: false,
              ...(settings.defaultEnvironment
                ? { defaultEnvironment: settings.defaultEnvironment }
                : {}),
            },
          }),
      alertmanager: {
        fingerprint: alert.fingerprint,
        labels: alert.labels,
        ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
      },
    },
  });
}

/** The incident CDEvents of one Alertmanager notification, one per alert. */
export function notificationToCdevents(
  payload: AlertmanagerPayload,
  source: string,
  settings: AlertmanagerSettings,
): TransformOutcome {
  const cdevents = payload.alerts.map((alert) => incidentCdevent(alert, source, settings));
  const unnamed = payload.alerts.filter((alert) => !alertService(alert.labels, settings)).length;
  if (unnamed === 0) return { cdevents };
  const labels = [settings.serviceLabel, ...settings.fallbackServiceLabels].join(', ');
  return {
    cdevents,
    note: `${unnamed} of ${payload.alerts.length} alerts name no service (labels ${labels}): their incidents belong to no service`,
  };
}

export function createAlertmanagerSource(settings: AlertmanagerSettings): Transformer {
  return {
    name: 'alertmanager',
    transform(event: StoredEvent): TransformOutcome {
      if (event.type !== ALERTMANAGER_NOTIFICATION_TYPE) {
        return nothing(`type ${event.type} is not an Alertmanager notification`);
      }
      const parsed = alertmanagerPayloadSchema.safeParse(event.data);
      if (!parsed.success) return nothing(describeIssue(parsed.error, NOT_A_PAYLOAD, FIELD_NAMING));
      return notificationToCdevents(parsed.data, event.source, settings);
    },
  };
}
