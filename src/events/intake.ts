import { CadenceError, type ProblemIssue } from '../problem/index.js';
import type { CloudEvent } from './cloud-event.js';
import { isCdeventType, validateCdevent, type ValidCdevent } from './cdevents/index.js';
import { INTERNAL_DOOR, type Door } from './event-rows.js';
import type { BacklogGate } from './backlog-gate.js';
import type { EventWriter } from './event-writer.js';
import { decodeHttpMessage, parseJson, type HttpMessage, type HttpMode } from './http-binding.js';
import type { RoutingTable } from './routing-table.js';

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

/**
 * The longest `id` or `source` stored, in UTF-8 bytes: the two together are the events' unique
 * key, and PostgreSQL refuses an index row over 2,704 bytes, so a longer one would fail its
 * whole write instead of being told which field is too long.
 */
export const MAX_KEY_BYTES = 1024;

function checkKeyLengths(mode: IntakeResult['mode'], events: CloudEvent[]): void {
  const issues: ProblemIssue[] = [];
  events.forEach((event, index) => {
    for (const name of ['id', 'source'] as const) {
      if (Buffer.byteLength(event[name]) <= MAX_KEY_BYTES) continue;
      const field =
        mode === 'cdevent'
          ? `context.${name}`
          : mode === 'binary'
            ? `ce-${name}`
            : `${events.length > 1 ? `[${index}].` : ''}${name}`;
      issues.push({ field, message: `${field} is longer than ${MAX_KEY_BYTES} bytes` });
    }
  });
  if (issues.length === 0) return;
  throw new CadenceError('invalid-input', {
    detail: issues.map((issue) => issue.message).join('; '),
    issues,
  });
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

/** Who sent a request to `/events` or `/cdevents`: a token's name and the sources it may send for. */
export interface IntakeCaller {
  name: string;
  /** Transformer names, `*` for every one. */
  sources: readonly string[];
}

/**
 * What the intake checks each event's producer against: the routing table (which transformers an
 * event would feed) and the producers whose webhook has a secret (refused from anonymous callers).
 */
export interface IntakeAdmission {
  table: RoutingTable;
  secured: ReadonlySet<string>;
}

export interface Intake {
  /** `POST /events`: any CloudEvents; those typed `dev.cdevents.*` must carry a valid CDEvent. */
  acceptCloudEvents(message: HttpMessage, caller?: IntakeCaller): Promise<IntakeResult>;
  /** `POST /cdevents`: a CDEvent bare or wrapped in a CloudEvent (any mode). */
  acceptCdevents(message: HttpMessage, caller?: IntakeCaller): Promise<IntakeResult>;
  /**
   * Already-decoded events: webhooks checked by their receiver (`door` names it), Cadence's own
   * watchers (internal when absent).
   */
  acceptDecoded(
    events: CloudEvent[],
    mode?: IntakeResult['mode'],
    door?: Door,
  ): Promise<IntakeResult>;
}

const covers = (list: readonly string[], name: string) => list.includes('*') || list.includes(name);

/**
 * The door of an event sent to `/events` or `/cdevents`, refusing it (403, naming the event's
 * type) when it would feed a transformer its caller may not send for: a producer with a webhook
 * secret, for an anonymous caller; any producer outside an ingest token's sources.
 *
 * @example admitEvent({ table, secured: new Set(['alertmanager']) }, '/events', undefined, event, '')
 */
export function admitEvent(
  admission: IntakeAdmission | undefined,
  doorName: string,
  caller: IntakeCaller | undefined,
  event: { type: string; source: string },
  at: string,
): Door {
  if (!admission) {
    // No routing table to check against (a bare intake in tests): the router still checks.
    return { name: doorName, principal: caller?.name ?? null, vouched: caller?.sources ?? ['*'] };
  }
  const names = admission.table.match(event);
  const refused = names.filter((name) =>
    caller ? !covers(caller.sources, name) : admission.secured.has(name),
  );
  if (refused.length > 0) {
    throw new CadenceError('forbidden', {
      field: `${at}type`,
      detail: caller
        ? `token ${caller.name} may not send events for ${refused.join(', ')} (type ${JSON.stringify(event.type)})`
        : `events of type ${JSON.stringify(event.type)} feed ${refused.join(', ')}, which has a webhook secret configured: send them to /webhooks/${refused[0]} or with an ingest token allowed that source`,
    });
  }
  return caller
    ? { name: doorName, principal: caller.name, vouched: caller.sources }
    : { name: doorName, principal: null, vouched: names };
}

/**
 * The intake: decode, validate, store durably (through the writer), then tell the router.
 * A request is acknowledged only after its events are committed.
 */
export function createIntake(options: {
  writer: EventWriter;
  onStored?: () => void;
  /** Checks each event's producer at the door; without it the router's check is the only one. */
  admission?: IntakeAdmission;
  /**
   * Refuses producers' requests (429) while the router's backlog is over its bound; told of every
   * event stored, so its estimate of the backlog keeps up between counts.
   */
  backlog?: Pick<BacklogGate, 'admit' | 'stored'>;
}): Intake {
  async function store(
    mode: IntakeResult['mode'],
    events: CloudEvent[],
    doors: readonly Door[],
  ): Promise<IntakeResult> {
    checkKeyLengths(mode, events);
    const { stored } = await options.writer.write(events, doors);
    const accepted = stored.filter(Boolean).length;
    if (accepted > 0) {
      options.backlog?.stored(accepted);
      options.onStored?.();
    }
    return { mode, accepted, duplicates: stored.length - accepted };
  }

  function admitAll(door: string, events: CloudEvent[], caller: IntakeCaller | undefined): Door[] {
    return events.map((event, index) =>
      admitEvent(options.admission, door, caller, event, events.length > 1 ? `[${index}].` : ''),
    );
  }

  return {
    async acceptCloudEvents(message, caller) {
      await options.backlog?.admit();
      const { mode, events } = decodeHttpMessage(message);
      withIndexPrefix(events, (event, at) => checkCdeventPayload(event, at));
      return store(mode, events, admitAll('/events', events, caller));
    },
    async acceptCdevents(message, caller) {
      await options.backlog?.admit();
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
        return store(mode, events, admitAll('/cdevents', events, caller));
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
      const wrapped = wrapCdevent(result.value);
      return store('cdevent', [wrapped], admitAll('/cdevents', [wrapped], caller));
    },
    acceptDecoded(events, mode = 'batch', door = INTERNAL_DOOR) {
      return store(
        mode,
        events,
        events.map(() => door),
      );
    },
  };
}
