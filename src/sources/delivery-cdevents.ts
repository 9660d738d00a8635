import type { z } from 'zod';
import {
  cdeventEnvelope,
  type CdeventSubject,
  type EmittedKind,
  type StoredEvent,
  type TransformOutcome,
} from '../events/index.js';
import { describeIssue } from './webhook-receiver.js';

/**
 * The CDEvents a producer's webhook delivery becomes, as the transformers share them: the
 * delivery as the CDEvents see it, the payload rules that turn it into CDEvents (or into none,
 * with a note), and the CDEvents several producers make alike (a merged change, an incident an
 * issue tracks). The envelope itself, ids and deployment facts are `events/cdevents`' (every
 * emitter of Cadence's uses them, not only the transformers).
 */

/** An outcome without CDEvents, saying why. */
export const nothing = (note: string): TransformOutcome => ({ cdevents: [], note });

/** When a stored event happened, as far as we know: its CloudEvent time, else when it arrived. */
export function eventTime(event: Pick<StoredEvent, 'time' | 'receivedAt'>): string {
  return event.time ?? event.receivedAt.toISOString();
}

/** One stored webhook delivery, as the CDEvents made from it see it. */
export interface WebhookDelivery<Settings> {
  id: string;
  source: string;
  /** When the producer sent it, as far as we know: the CloudEvent time. */
  time: string;
  settings: Settings;
}

/**
 * A CDEvent made from one webhook delivery: keyed by the delivery, its kind and its subject, with
 * the facts Cadence measures by (`cadence`) in `customData.cadence`.
 */
function deliveryCdevent(
  producer: string,
  delivery: Pick<WebhookDelivery<unknown>, 'id' | 'source'>,
  kind: EmittedKind,
  subject: CdeventSubject,
  timestamp: string,
  cadence?: Record<string, unknown>,
): Record<string, unknown> {
  return cdeventEnvelope({
    producer,
    key: [delivery.id, kind, subject.id],
    kind,
    source: delivery.source,
    timestamp,
    subject,
    customData: cadence ? { cadence } : undefined,
  });
}

/** `deliveryCdevent` of one producer, for the kinds it makes. */
export function deliveryCdevents<Kind extends EmittedKind>(producer: string) {
  return (
    delivery: Pick<WebhookDelivery<unknown>, 'id' | 'source'>,
    kind: Kind,
    subject: CdeventSubject,
    timestamp: string,
    cadence?: Record<string, unknown>,
  ): Record<string, unknown> =>
    deliveryCdevent(producer, delivery, kind, subject, timestamp, cadence);
}

/** A change that landed on a repository's default branch (a push, a merged pull/merge request). */
export interface MergedChange {
  /** What the change is, unique in the repository: `acme/web#42`, `acme/web@<sha>`. */
  key: string;
  /** The repository: its path (`acme/web`, `group/project`) and web address. */
  repository: { id: string; url: string };
  /** The commit the change put on the branch. */
  revision: string;
  mergedAt: string;
  /** The commits it brought, each measured from its own time. */
  commits: { id: string; timestamp: string }[];
}

/** The `change.merged` of a change, with what lead time is measured from in `customData.cadence`. */
export function changeMergedCdevent(
  producer: string,
  delivery: Pick<WebhookDelivery<unknown>, 'id' | 'source'>,
  change: MergedChange,
): Record<string, unknown> {
  const { repository } = change;
  return deliveryCdevent(
    producer,
    delivery,
    'change.merged',
    { id: change.key, content: { repository: { id: repository.id, source: repository.url } } },
    change.mergedAt,
    {
      repository: repository.id,
      revision: change.revision,
      mergedAt: change.mergedAt,
      commits: change.commits,
    },
  );
}

/** An incident a forge's issue tracks. */
export interface TrackedIncident {
  /** The issue: `acme/web#7`. */
  key: string;
  description: string;
  /** From the issue's `environment:` label; none: the DORA rules resolve it (docs/metrics.md). */
  environment: string | undefined;
  service: string;
}

/**
 * The environment id of an incident whose producer named none (CDEvents requires one), with
 * `customData.cadence.environmentGiven: false` telling the DORA rules to resolve it: the
 * service's only environment, else the default.
 */
export const UNNAMED_ENVIRONMENT = 'unknown';

/** The `incident.detected` / `incident.resolved` of an incident an issue tracks. */
export function trackedIncidentCdevent(
  producer: string,
  delivery: Pick<WebhookDelivery<unknown>, 'id' | 'source'>,
  kind: 'incident.detected' | 'incident.resolved',
  incident: TrackedIncident,
  at: string,
): Record<string, unknown> {
  return deliveryCdevent(
    producer,
    delivery,
    kind,
    {
      id: incident.key,
      content: {
        description: incident.description,
        environment: { id: incident.environment ?? UNNAMED_ENVIRONMENT, source: delivery.source },
        service: { id: incident.service },
      },
    },
    at,
    incident.environment ? undefined : { environmentGiven: false },
  );
}

/** One payload kind a producer sends that Cadence reads: its schema and what it becomes. */
export interface PayloadRule<Settings> {
  schema: z.ZodType;
  toCdevents(payload: unknown, delivery: WebhookDelivery<Settings>): TransformOutcome;
}

export function rule<S extends z.ZodType, Settings>(
  schema: S,
  toCdevents: (payload: z.output<S>, delivery: WebhookDelivery<Settings>) => TransformOutcome,
): PayloadRule<Settings> {
  return {
    schema,
    toCdevents: (payload, delivery) => toCdevents(payload as z.output<S>, delivery),
  };
}

/**
 * The CDEvents a stored delivery becomes by its rule; a payload that does not fit the rule's
 * schema makes none, with the note `<what>: <field>: <message>`.
 */
export function applyRule<Settings>(
  payloadRule: PayloadRule<Settings>,
  event: StoredEvent,
  what: string,
  settings: Settings,
): TransformOutcome {
  const parsed = payloadRule.schema.safeParse(event.data);
  if (!parsed.success) return nothing(describeIssue(parsed.error, what));
  return payloadRule.toCdevents(parsed.data, {
    id: event.id,
    source: event.source,
    time: eventTime(event),
    settings,
  });
}
