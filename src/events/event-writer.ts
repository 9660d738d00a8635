import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import type { CloudEvent } from './cloud-event.js';
import { insertEvents, type Door, type InsertOutcome } from './event-rows.js';

interface Pending {
  events: CloudEvent[];
  doors: readonly (Door | undefined)[];
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: unknown) => void;
}

export interface EventWriter {
  /** Resolves once the events are durably stored (or known duplicates). */
  write(events: CloudEvent[], doors?: readonly Door[]): Promise<InsertOutcome>;
  /** Waits for queued writes to finish. */
  drain(): Promise<void>;
}

/** PostgreSQL's "data exception" class: a value the database refuses (e.g. U+0000 in jsonb). */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('22');
}

/** A transaction PostgreSQL aborted to break a cycle: serialization failure or deadlock. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40001' || code === '40P01';
}

/**
 * Writes events in (source, id) order and maps the outcome back to the given order. Every writer
 * taking the unique index's keys in one order is what keeps overlapping batches from deadlocking
 * (each waiting on a key the other inserted first); one retry covers what a sort cannot (another
 * statement's locks), after which the error is the caller's.
 */
async function insertInKeyOrder(
  store: Store,
  events: CloudEvent[],
  doors: readonly (Door | undefined)[],
): Promise<InsertOutcome> {
  const key = (event: CloudEvent) => `${event.source}\u0000${event.id}`;
  const order = events
    .map((event, index) => ({ key: key(event), index }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
  const sorted = order.map(({ index }) => events[index]!);
  const sortedDoors = order.map(({ index }) => doors[index]);
  let outcome: InsertOutcome;
  try {
    outcome = await insertEvents(store, sorted, sortedDoors);
  } catch (error) {
    if (!isRetryable(error)) throw error;
    outcome = await insertEvents(store, sorted, sortedDoors);
  }
  const stored = new Array<boolean>(events.length);
  order.forEach(({ index }, position) => (stored[index] = outcome.stored[position]!));
  return { stored };
}

function refusedValue(error: unknown): CadenceError {
  return new CadenceError('invalid-input', {
    field: 'data',
    detail: `the event holds a value the database cannot store: ${(error as Error).message}`,
    cause: error,
  });
}

/** The path (`data.a.b`, `data[2]`) of the first string or key in a JSON value holding U+0000. */
function nulPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = nulPath(value[index], `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return `${path}.${key.split('\u0000').join('\\0')}`;
    const found = nulPath(item, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses, before it joins a group, an event the database would refuse: U+0000 in its JSON data
 * (jsonb cannot hold it; the attributes are checked by the decoder). A refusal here costs the
 * other requests nothing; what slips past it is still caught by the group's retry below.
 */
function checkStorable(events: readonly CloudEvent[]): void {
  events.forEach((event, index) => {
    const at = events.length > 1 ? `[${index}].` : '';
    const path = nulPath(event.data, `${at}data`);
    if (path) {
      throw new CadenceError('invalid-input', {
        field: path,
        detail: `${path} holds U+0000, which the database cannot store in JSON`,
      });
    }
  });
}

/**
 * Group commit: requests that arrive while a write is in flight, or in the same turn of the
 * event loop, are queued and written together in the next single INSERT, so one commit (one
 * fsync) acknowledges many requests. Each request's events land together or not at all, and its
 * promise resolves only after the commit holding them. Whatever the database refuses fails only
 * the request that sent it: a failed group is written again one request at a time.
 *
 * A group starts from `setImmediate`, after the event loop has read every request that is ready.
 * That matters on PGlite, whose queries run synchronously in this thread: a write started inside
 * the first request's handler would block the loop before the others were even parsed, so every
 * request would be its own transaction (≈ 1,800 single events/s instead of > 5,000).
 *
 * @example
 * const writer = createEventWriter(store);
 * const { stored } = await writer.write([event]); // [true]: committed; [false]: a duplicate
 */
export function createEventWriter(
  store: Store,
  options: { maxBatchEvents?: number; concurrency?: number } = {},
): EventWriter {
  const maxBatchEvents = options.maxBatchEvents ?? 1000;
  // PGlite has one connection: a second group would only wait for the first.
  const concurrency = options.concurrency ?? (store.engine === 'postgres' ? 4 : 1);
  const queue: Pending[] = [];
  let running = 0;
  let scheduled = false;
  let idle: (() => void)[] = [];

  async function writeGroup(group: Pending[]): Promise<void> {
    try {
      const outcome = await insertInKeyOrder(
        store,
        group.flatMap((pending) => pending.events),
        group.flatMap((pending) => pending.events.map((_event, index) => pending.doors[index])),
      );
      let offset = 0;
      for (const pending of group) {
        pending.resolve({ stored: outcome.stored.slice(offset, offset + pending.events.length) });
        offset += pending.events.length;
      }
    } catch (error) {
      if (group.length > 1) {
        // The group's transaction stored nothing. Whatever the database refused (a value, an
        // index row too large, a trigger), it may be one request's: each is written again on its
        // own, so only the requests that fail alone fail.
        for (const pending of group) await writeGroup([pending]);
      } else if (isDataException(error)) {
        group[0]!.reject(refusedValue(error));
      } else {
        group[0]!.reject(error);
      }
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  }

  function pump(): void {
    scheduled = false;
    while (running < concurrency && queue.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      while (
        queue.length > 0 &&
        (group.length === 0 || size + queue[0]!.events.length <= maxBatchEvents)
      ) {
        const next = queue.shift()!;
        size += next.events.length;
        group.push(next);
      }
      running++;
      void writeGroup(group).finally(() => {
        running--;
        if (queue.length > 0) schedule();
        else if (running === 0) {
          for (const wake of idle) wake();
          idle = [];
        }
      });
    }
  }

  return {
    write(events, doors = []) {
      if (events.length === 0) return Promise.resolve({ stored: [] });
      try {
        checkStorable(events);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<InsertOutcome>((resolve, reject) => {
        queue.push({ events, doors, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
