/**
 * The real app over a fresh store for one `describe` block: the store opened and the app built
 * before its tests, both closed after them. The fields are set once the block's `before` ran.
 */
import { after, before } from 'node:test';
import type { Store } from '../../src/store/index.js';
import type { StoreEngine } from '../../src/store/store.js';
import { testApp } from './app.js';
import { openTestStore } from './engines.js';

export type SuiteApp = ReturnType<typeof testApp> & { store: Store };

/**
 * @example
 *   describe('POST /webhooks/argocd', () => {
 *     const suite = appPerSuite('pglite', { webhookReceivers });
 *     it('…', async () => { await suite.app.inject({ … }); await routeAll(suite.router); });
 *   });
 */
export function appPerSuite(
  engine: StoreEngine,
  options?: Parameters<typeof testApp>[1],
  /** Runs once the store is open and the app built (e.g. to mint tokens). */
  setUp?: (store: Store) => Promise<void>,
): SuiteApp {
  const suite = {} as SuiteApp;
  let dispose: (() => Promise<void>) | undefined;
  before(async () => {
    const opened = await openTestStore(engine);
    dispose = opened.dispose;
    Object.assign(suite, testApp(opened.store, options), { store: opened.store });
    await setUp?.(opened.store);
  });
  after(async () => {
    await suite.app?.close();
    await dispose?.();
  });
  return suite;
}
