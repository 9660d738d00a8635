import type { Notifier } from './notifier.js';

/** Where notices go when nothing is configured: nowhere. */
export const noopNotifier: Notifier = { type: 'none', notify: async () => {} };
