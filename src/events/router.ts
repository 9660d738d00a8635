import type { Logger } from '../log/index.js';
import { createNap } from '../scheduling/index.js';
import type { Store, Queryable } from '../store/index.js';
import { isCdeventType, validateCdevent } from './cdevents/index.js';
import { insertCdevents, type CdeventInsert } from './cdevent-rows.js';
import { INTERNAL_DOOR, toStoredEvent, type StoredEvent } from './event-rows.js';
import type { RoutingTable } from './routing-table.js';
import type { Transformer } from './transformer.js';

export interface RouterOptions {
  store: Store;
  table: RoutingTable;
  transformers: Map<string, Transformer>;
  logger: Logger;
  /** Raw events claimed per transaction. */
  batchSize?: number;
  /** How often to look for work when nobody kicks (other replicas' intake, missed kicks). */
  pollIntervalMs?: number;
  /**
   * After a kick, how long to let more events arrive before claiming them. Routing each request's
   * events in a transaction of their own would double the intake's transactions (and on PGlite,
   * which has one connection, halve its throughput); a short wait batches them.
   */
  settleMs?: number;
  /** Called after each committed batch that routed events (the projector's cue). */
  onRouted?: (count: number) => void;
  /**
   * Batches routed at once, each in its own transaction (default 1). Only where the engine has
   * more than one connection: on PGlite a second transaction would only wait for the first.
   */
  workers?: number;
}

export interface Router {
  /** Routes one batch of unrouted events; resolves to how many were claimed. */
  routeBatch(): Promise<number>;
  /** Keeps routing in the background until stop(). */
  start(): void;
  /** Wakes the background loop now (called by the intake after a write). */
  kick(): void;
  /** Stops the loop after the batch in hand is committed. */
  stop(): Promise<void>;
}

interface Routed {
  seq: number;
  outputs: CdeventInsert[];
  notes: string[];
}

/**
 * Whether the event's door vouches for the transformer: a producer's transformer runs only for
 * events that came through its own webhook receiver, from a token allowed that source, or (for a
 * producer with no webhook secret) from an open intake. Events stored before doors were recorded
 * route as they always did.
 */
export function doorAllows(event: Pick<StoredEvent, 'door'>, transformer: string): boolean {
  if (!event.door) return true;
  return event.door.vouched.includes('*') || event.door.vouched.includes(transformer);
}

/** Doors whose intake validates every `dev.cdevents.*` payload before storing it. */
const VALIDATING_DOORS = new Set(['/events', '/cdevents', INTERNAL_DOOR.name]);

/**
 * Whether a transformer's output is the event's own payload, already validated by the intake
 * (the CDEvents passthrough): validated once, at the door, not again here.
 */
export function intakeChecked(event: StoredEvent, body: unknown): boolean {
  return (
    body === event.data &&
    isCdeventType(event.type) &&
    event.door !== undefined &&
    event.door !== null &&
    VALIDATING_DOORS.has(event.door.name)
  );
}

/** Runs an event through its transformers; a failing transformer is noted, never fatal. */
async function transformEvent(
  event: StoredEvent,
  names: string[],
  transformers: Map<string, Transformer>,
  logger: Logger,
): Promise<Routed> {
  const routed: Routed = { seq: event.seq, outputs: [], notes: [] };
  if (names.length === 0) routed.notes.push('no route matches this event type');
  for (const name of names) {
    if (!doorAllows(event, name)) {
      // Checked here as well as at intake: a routing table changed since, or any other path in,
      // still cannot hand a producer's transformer an event that producer did not send.
      routed.notes.push(
        `${name}: not run: the event came through ${event.door?.name}, which does not vouch for ${name}`,
      );
      continue;
    }
    try {
      const outcome = await transformers.get(name)!.transform(event);
      if (outcome.note) routed.notes.push(`${name}: ${outcome.note}`);
      for (const body of outcome.cdevents) {
        const result = validateCdevent(body, { schemaChecked: intakeChecked(event, body) });
        if (result.ok) {
          routed.outputs.push({ cdevent: result.value, eventSeq: event.seq, transformer: name });
        } else {
          // A transformer producing an invalid CDEvent is a bug in Cadence: keep the raw event,
          // record why, and carry on with the others.
          const issue = result.issues[0];
          routed.notes.push(
            `${name}: produced an invalid CDEvent (${issue?.path}: ${issue?.message})`,
          );
          logger.error(
            { seq: event.seq, transformer: name, issues: result.issues },
            'transformer produced an invalid CDEvent',
          );
        }
      }
    } catch (error) {
      routed.notes.push(`${name}: failed: ${(error as Error).message}`);
      logger.error({ seq: event.seq, transformer: name, err: error }, 'transformer failed');
    }
  }
  return routed;
}

async function markRouted(tx: Queryable, routed: Routed[]): Promise<void> {
  await tx.query(
    `update events set routed_at = now(), route_count = route_count + 1,
            route_outputs = t.outputs, route_note = t.note
     from unnest($1::int8[], $2::int4[], $3::text[]) as t(seq, outputs, note)
     where events.seq = t.seq`,
    [
      routed.map((r) => r.seq),
      routed.map((r) => r.outputs.length),
      routed.map((r) => (r.notes.length > 0 ? r.notes.join('; ') : null)),
    ],
  );
}

/** Batches waiting their turn for one step, in the order they joined. */
interface Line {
  tail: Promise<void>;
}

interface Place {
  /** Settles when everyone who joined before has called `done`. */
  before: Promise<void>;
  /** Lets the next one go (idempotent). */
  done: () => void;
}

function joinLine(line: Line): Place {
  const before = line.tail;
  let done!: () => void;
  line.tail = new Promise<void>((resolve) => (done = resolve));
  return { before, done };
}

/**
 * The router: claims unrouted raw events in intake order, runs the transformers the routing
 * table names, stores their CDEvents and marks the events routed, all in one transaction.
 * `for update skip locked` lets several Cadence replicas share the queue: each event is claimed
 * by exactly one, and an event whose transaction fails stays unrouted for the next attempt.
 *
 * Within one process, `workers` batches are routed at once (PostgreSQL). Their order is kept as
 * one worker keeps it: claims are taken one at a time (each gets the next events in intake
 * order), and each batch stores its CDEvents only after the batch claimed before it has stored
 * its own, so CDEvents are numbered in the order their raw events were claimed, for every subject
 * (the rules break ties between equal timestamps by that number). What overlaps is everything
 * else: the transformers, marking the events routed, and the commits. Claim order is intake
 * order among committed events; on PostgreSQL the writer commits up to four groups at once, so
 * an event can become visible after one with a higher number and be claimed after it — with one
 * worker as with several (seen once in a hand-driven run of 200 concurrent posts).
 *
 * @example
 * const router = createRouter({ store, table, transformers, logger, workers: 2 });
 * router.start(); // router.kick() after each intake write; await router.stop() to finish
 */
export function createRouter(options: RouterOptions): Router {
  const batchSize = options.batchSize ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const settleMs = options.settleMs ?? 50;
  const workers = options.workers ?? 1;
  let running = false;
  let loops: Promise<void>[] = [];
  // One nap per worker; a kick during a batch is kept by the nap, so the loop goes straight on.
  const naps = Array.from({ length: workers }, () => createNap());
  // Claims one at a time, CDEvent inserts in claim order (see above).
  const claims: Line = { tail: Promise.resolve() };
  const inserts: Line = { tail: Promise.resolve() };

  async function routeBatch(): Promise<number> {
    let claim: Place | undefined;
    let insert: Place | undefined;
    try {
      return await options.store.transaction(async (tx) => {
        // In line only once the transaction has its connection: nobody holding one waits on a
        // batch that is still waiting for one.
        claim = joinLine(claims);
        await claim.before;
        const { rows } = await tx.query<Parameters<typeof toStoredEvent>[0]>(
          `select * from events where routed_at is null order by seq limit $1 for update skip locked`,
          [batchSize],
        );
        insert = joinLine(inserts);
        claim.done();
        if (rows.length === 0) return 0;
        const routed: Routed[] = [];
        for (const row of rows) {
          const event = toStoredEvent(row);
          const names = options.table.match(event);
          routed.push(await transformEvent(event, names, options.transformers, options.logger));
        }
        await insert.before;
        await insertCdevents(
          tx,
          routed.flatMap((r) => r.outputs),
        );
        insert.done();
        await markRouted(tx, routed);
        return rows.length;
      });
    } finally {
      // A failed batch holds no one up.
      claim?.done();
      insert?.done();
    }
  }

  async function run(worker: number): Promise<void> {
    const nap = naps[worker]!;
    while (running) {
      let claimed = 0;
      try {
        claimed = await routeBatch();
        if (claimed > 0) options.onRouted?.(claimed);
      } catch (error) {
        options.logger.error({ err: error, worker }, 'routing batch failed; will retry');
      }
      if (claimed === batchSize) {
        // A full batch: more is waiting, so the idle workers join in.
        for (const other of naps) if (other !== nap) other.wake();
        continue;
      }
      if (!running) continue;
      await nap.take(pollIntervalMs);
      if (running && settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    }
  }

  return {
    routeBatch,
    start() {
      if (running) return;
      running = true;
      loops = naps.map((_nap, worker) => run(worker));
    },
    kick() {
      // The first worker answers kicks; the others join when it finds a full batch.
      naps[0]!.wake();
    },
    async stop() {
      running = false;
      for (const nap of naps) nap.wake();
      await Promise.all(loops);
    },
  };
}
