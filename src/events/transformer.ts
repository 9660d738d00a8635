import type { StoredEvent } from './event-rows.js';

/** What a transformer made of one raw event. */
export interface TransformOutcome {
  /** CDEvents (JSON objects, any supported spec version); each is validated before it is stored. */
  cdevents: Record<string, unknown>[];
  /** Why nothing (or less than expected) came out, kept on the raw event for `events show`. */
  note?: string;
}

/**
 * Turns one raw CloudEvent from a producer into CDEvents. Pure with respect to the database:
 * the router stores what it returns. Output ids must be deterministic (same input → same ids),
 * so that a re-delivered event cannot create a second CDEvent.
 */
export interface Transformer {
  /** The name routes refer to in the routing table. */
  readonly name: string;
  transform(event: StoredEvent): TransformOutcome | Promise<TransformOutcome>;
}
