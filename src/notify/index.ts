/**
 * notify — telling people and machines what happened: one {@link Notifier} interface, one file per
 * implementation (Slack-compatible `{ text, blocks }`, a generic JSON webhook, a no-op) and a
 * registry that makes them from the config's targets. The deployer tells its failures and canary
 * analysis its verdicts through it; neither knows the formats.
 */
export type { Notice, Notifier } from './notifier.js';
export { noopNotifier } from './noop-notifier.js';
export { createNotifier, createNotifiers, notificationTargetSchema } from './notifier-registry.js';
