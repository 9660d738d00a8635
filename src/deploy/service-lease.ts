import type { Store } from '../store/index.js';
import { tryLockService, unlockService } from './deploy-rows.js';

/** Runs work for one service at a time: `serialized(service, work)`. */
export type ServiceQueue = <T>(service: string, work: () => Promise<T>) => Promise<T>;

/**
 * Operations on one service run one at a time: queued in this process, and behind a lease row
 * in the database across replicas (a replica that died frees it after `leaseMs`).
 */
export function createServiceQueue(store: Store, owner: string, leaseMs: number): ServiceQueue {
  const queues = new Map<string, Promise<unknown>>();
  return function serialized<T>(service: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(service) ?? Promise.resolve();
    const run = previous.then(async () => {
      while (!(await tryLockService(store, service, owner, leaseMs))) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      try {
        return await work();
      } finally {
        await unlockService(store, service, owner);
      }
    });
    const settled = run.catch(() => undefined);
    queues.set(service, settled);
    void settled.then(() => {
      if (queues.get(service) === settled) queues.delete(service);
    });
    return run;
  };
}
