import { CadenceError, type ProblemIssue } from '../problem/index.js';
import type { CloudEvent } from './cloud-event.js';
import { isCdeventType, validateCdevent, type ValidCdevent } from './cdevents/index.js';
import type { EventWriter } from './event-writer.js';
import { decodeHttpMessage, parseJson, type HttpMessage, type HttpMode } from './http-binding.js';

export interface IntakeResult {
  mode: HttpMode | 'cdevent' | 'webhook';
  /** Events stored by this request. */
  accepted: number;
  /** Events already stored earlier (same source and id): acknowledged, not stored again. */
  duplicates: number;
}

/**
 * Checks a CloudEvent whose type says it carries a CDEvent: the payload must be a valid CDEvent
 * of a supported spec version. Field names are reported from the event (`data.context.id`).
 */
export function checkCdeventPayload(event: CloudEvent, at = ''): ValidCdevent | undefined {
  if (!isCdeventType(event.type)) return undefined;
  const result = validateCdevent(event.data);
  if (result.ok) return result.value;
  throw new CadenceError('invalid-input', {
    detail: `invalid CDEvent: ${result.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    issues: result.issues.map((issue): ProblemIssue => ({
      field: `${at}data.${issue.path}`,
      message: issue.message,
    })),
  });
}

function withIndexPrefix(events: CloudEvent[], check: (event: CloudEvent, at: string) => void) {
  events.forEach((event, index) => check(event, events.length > 1 ? `[${index}].` : ''));
}

/** Wraps a bare CDEvent in the CloudEvent the CDEvents CloudEvents binding describes. */
export function wrapCdevent(cdevent: ValidCdevent): CloudEvent {
  return {
    specversion: '1.0',
    id: cdevent.id,
    source: cdevent.source,
    type: cdevent.type,
    time: new Date(cdevent.timestamp).toISOString(),
    datacontenttype: 'application/json',
    extensions: {},
    data: cdevent.event,
  };
}

export interface Intake {
  /** `POST /events`: any CloudEvents; those typed `dev.cdevents.*` must carry a valid CDEvent. */
  acceptCloudEvents(message: HttpMessage): Promise<IntakeResult>;
  /** `POST /cdevents`: a CDEvent bare or wrapped in a CloudEvent (any mode). */
  acceptCdevents(message: HttpMessage): Promise<IntakeResult>;
  /** Already-decoded events: webhooks checked by their receiver, Cadence's own watchers. */
  acceptDecoded(events: CloudEvent[], mode?: IntakeResult['mode']): Promise<IntakeResult>;
}

/**
 * The intake: decode, validate, store durably (through the writer), then tell the router.
 * A request is acknowledged only after its events are committed.
 */
export function createIntake(options: { writer: EventWriter; onStored?: () => void }): Intake {
  async function store(mode: IntakeResult['mode'], events: CloudEvent[]): Promise<IntakeResult> {
    const { stored } = await options.writer.write(events);
    const accepted = stored.filter(Boolean).length;
    if (accepted > 0) options.onStored?.();
    return { mode, accepted, duplicates: stored.length - accepted };
  }

  return {
    async acceptCloudEvents(message) {
      const { mode, events } = decodeHttpMessage(message);
      withIndexPrefix(events, (event, at) => checkCdeventPayload(event, at));
      return store(mode, events);
    },
    async acceptCdevents(message) {
      const hasCloudEventHeaders = message.headers['ce-specversion'] !== undefined;
      const contentType = String(message.headers['content-type'] ?? '').toLowerCase();
      if (hasCloudEventHeaders || contentType.includes('cloudevents')) {
        const { mode, events } = decodeHttpMessage(message);
        withIndexPrefix(events, (event, at) => {
          if (!checkCdeventPayload(event, at)) {
            throw new CadenceError('invalid-input', {
              field: `${at}type`,
              detail: `CloudEvent type ${JSON.stringify(event.type)} is not a CDEvent type (dev.cdevents.*)`,
            });
          }
        });
        return store(mode, events);
      }
      const body = parseJson(message.body, 'body');
      if (
        typeof body === 'object' &&
        body !== null &&
        'specversion' in body &&
        !('context' in body)
      ) {
        throw new CadenceError('unsupported-media-type', {
          field: 'content-type',
          detail:
            'a CloudEvent in structured mode needs Content-Type: application/cloudevents+json',
        });
      }
      const result = validateCdevent(body);
      if (!result.ok) {
        throw new CadenceError('invalid-input', {
          detail: `invalid CDEvent: ${result.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
          issues: result.issues.map((issue) => ({ field: issue.path, message: issue.message })),
        });
      }
      return store('cdevent', [wrapCdevent(result.value)]);
    },
    acceptDecoded(events, mode = 'batch') {
      return store(mode, events);
    },
  };
}
