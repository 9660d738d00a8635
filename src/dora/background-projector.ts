import type { Logger } from '../log/index.js';
import { createNap } from '../scheduling/index.js';
import type { Store } from '../store/index.js';
import { refreshDeliveries } from './delivery-rows.js';
import type { DoraSettings } from './settings.js';

export interface BackgroundProjector {
  /** Keeps projecting in the background until stop(). */
  start(): void;
  /** Asks for a pass soon (the router calls it after each batch it routed). */
  kick(): void;
  /** Resolves once a pass that started after this call has finished. */
  settle(): Promise<void>;
  /** Stops after the pass in hand has committed. */
  stop(): Promise<void>;
}

/**
 * Keeps the rules' results (facts, deliveries, daily rollups) up to date in the background, so a
 * metrics read only reads. Each pass is `refreshDeliveries`, whose claims (`for update skip
 * locked` on CDEvents, stale streams and days) let several replicas run it at once. Kicks that
 * arrive during a pass coalesce into one more pass; the timer covers other replicas' routing.
 */
export function createBackgroundProjector(options: {
  store: Store;
  settings: DoraSettings;
  logger: Logger;
  /** How often to look for work when nobody kicks. */
  pollIntervalMs?: number;
  /**
   * Least time between passes under load. On PGlite (one connection shared with the intake)
   * back-to-back passes would starve the intake; the default leaves it room there.
   */
  minGapMs?: number;
}): BackgroundProjector {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const minGapMs = options.minGapMs ?? (options.store.engine === 'pglite' ? 250 : 0);
  let running = false;
  let loop: Promise<void> | undefined;
  // Kicks (and settle requests) during a pass are kept by the nap: one more pass follows at once.
  const nap = createNap();
  // Settle waiters are answered by the first pass that starts after they asked.
  let waiting: (() => void)[] = [];

  async function run(): Promise<void> {
    while (running) {
      nap.forgetWake(); // this pass serves every kick so far
      const answering = waiting;
      waiting = [];
      try {
        await refreshDeliveries(options.store, options.settings);
      } catch (error) {
        options.logger.error({ err: error }, 'projection pass failed; will retry');
      }
      for (const done of answering) done();
      if (running && minGapMs > 0 && waiting.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, minGapMs));
      }
      if (!running || waiting.length > 0) continue;
      await nap.take(pollIntervalMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    kick() {
      nap.wake();
    },
    settle() {
      if (!running) return refreshDeliveries(options.store, options.settings).then(() => {});
      return new Promise((resolve) => {
        waiting.push(resolve);
        nap.wake();
      });
    },
    async stop() {
      running = false;
      nap.wake();
      await loop;
      for (const done of waiting) done();
      waiting = [];
    },
  };
}
