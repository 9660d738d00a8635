/** How a nap ended: cut short by `wake()`, or its time ran out. */
export type NapEnd = 'woken' | 'timed-out';

/**
 * A background loop's wait between passes: up to a poll interval, cut short by a kick. A wake that
 * arrives while nobody naps (the loop is busy with a pass) is kept, and ends the next nap at once,
 * so a kick during a pass is never lost.
 */
export interface Nap {
  /** Waits up to `ms`, or until `wake()`; a wake kept from before ends it at once. */
  take(ms: number): Promise<NapEnd>;
  /** Ends the nap in progress, or the next one if nobody naps now. Wakes do not add up. */
  wake(): void;
  /** Drops a kept wake: the pass about to start serves whoever asked. */
  forgetWake(): void;
}

/**
 * One wakeable nap for one loop (one napper at a time).
 * `unref`: the timer does not keep the process alive (a loop that must not hold Node open).
 *
 * @example
 *   const nap = createNap();
 *   while (running) {
 *     await pass();
 *     await nap.take(pollIntervalMs); // kick() { nap.wake(); }
 *   }
 */
export function createNap(options: { unref?: boolean } = {}): Nap {
  let kept = false;
  let end: ((how: NapEnd) => void) | undefined;

  return {
    take(ms) {
      if (kept) {
        kept = false;
        return Promise.resolve('woken');
      }
      return new Promise<NapEnd>((resolve) => {
        const timer = setTimeout(() => {
          end = undefined;
          resolve('timed-out');
        }, ms);
        if (options.unref) timer.unref();
        end = (how) => {
          clearTimeout(timer);
          end = undefined;
          resolve(how);
        };
      });
    },
    wake() {
      if (end) end('woken');
      else kept = true;
    },
    forgetWake() {
      kept = false;
    },
  };
}
