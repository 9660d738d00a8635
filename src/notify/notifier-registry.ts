import { z } from 'zod';
import type { Logger } from '../log/index.js';
import type { Notifier } from './notifier.js';
import { createSlackNotifier } from './slack-notifier.js';
import { createWebhookNotifier } from './webhook-notifier.js';

/** Every notifier by the `type` a config names it with. */
const NOTIFIERS = {
  webhook: createWebhookNotifier,
  slack: createSlackNotifier,
} satisfies Record<string, (options: { url: string; logger: Logger }) => Notifier>;

export type NotifierType = keyof typeof NOTIFIERS;

export const notificationTargetSchema = z.strictObject({
  /** `webhook`: the facts as JSON; `slack`: a Slack-compatible `{ text, blocks }` message. */
  type: z.enum(Object.keys(NOTIFIERS) as [NotifierType, ...NotifierType[]]),
  url: z.url(),
});
export type NotificationTarget = z.infer<typeof notificationTargetSchema>;

/** The notifier a configured target names. */
export function createNotifier(target: NotificationTarget, logger: Logger): Notifier {
  return NOTIFIERS[target.type]({ url: target.url, logger });
}

/** One notifier per configured target. */
export function createNotifiers(
  targets: readonly NotificationTarget[],
  logger: Logger,
): Notifier[] {
  return targets.map((target) => createNotifier(target, logger));
}
