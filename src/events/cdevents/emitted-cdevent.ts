import { createHash } from 'node:crypto';

/**
 * Making the CDEvents Cadence emits (the transformers, the rollout watcher, the deployer, canary
 * analysis): the spec version, the type of each kind, deterministic ids and the envelope. Beside
 * the validators, so what Cadence writes and what it accepts are one vocabulary.
 */

/**
 * A deterministic UUID-shaped id for a CDEvent a transformer produces: the same input key gives
 * the same id, so a producer re-sending an event (or a re-run of the router) cannot create a
 * second CDEvent. Shaped like an RFC 9562 version 8 (custom) UUID.
 */
export function deterministicId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The CDEvents spec version Cadence emits. */
export const EMITTED_SPEC_VERSION = '0.5.1';

// The CDEvents 0.5 type of each event Cadence makes (see vocabulary.ts).
const EMITTED_TYPES = {
  'change.merged': 'dev.cdevents.change.merged.0.3.0',
  'artifact.published': 'dev.cdevents.artifact.published.0.3.0',
  'artifact.packaged': 'dev.cdevents.artifact.packaged.0.3.0',
  'pipelinerun.started': 'dev.cdevents.pipelinerun.started.0.3.0',
  'pipelinerun.finished': 'dev.cdevents.pipelinerun.finished.0.3.0',
  'service.deployed': 'dev.cdevents.service.deployed.0.3.0',
  'service.upgraded': 'dev.cdevents.service.upgraded.0.3.0',
  'service.removed': 'dev.cdevents.service.removed.0.3.0',
  'incident.detected': 'dev.cdevents.incident.detected.0.3.0',
  'incident.resolved': 'dev.cdevents.incident.resolved.0.3.0',
} as const;

/** A kind of CDEvent Cadence makes, `<subject>.<predicate>`. */
export type EmittedKind = keyof typeof EMITTED_TYPES;

/** The subject of a CDEvent, less its source (the CDEvent's own). */
export interface CdeventSubject {
  id: string;
  content: Record<string, unknown>;
}

/**
 * One CDEvent: `{ context, subject, customData? }`. Its id is deterministic, made of the producer,
 * the source and `key` (what makes this CDEvent this one), so a re-sent delivery or a re-run of
 * the router makes the same CDEvent again rather than a second one.
 */
export function cdeventEnvelope(fields: {
  /** The producer (`github`, `tekton`, …): the first part of the id's key. */
  producer: string;
  key: readonly string[];
  kind: EmittedKind;
  source: string;
  timestamp: string;
  subject: CdeventSubject;
  customData?: Record<string, unknown> | undefined;
}): Record<string, unknown> {
  const { source, subject, customData } = fields;
  return {
    context: {
      specversion: EMITTED_SPEC_VERSION,
      id: deterministicId(fields.producer, source, ...fields.key),
      source,
      type: EMITTED_TYPES[fields.kind],
      timestamp: fields.timestamp,
    },
    subject: { id: subject.id, source, content: subject.content },
    ...(customData ? { customData } : {}),
  };
}
