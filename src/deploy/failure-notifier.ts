import type { Logger } from '../log/index.js';

/** A Slack-compatible message: `text` always, `blocks` for clients that render them. */
export interface Notification {
  text: string;
  blocks?: unknown[];
}

/** Where deploy failures are told. */
export interface FailureNotifier {
  notify(notification: Notification): Promise<void>;
}

export const noopNotifier: FailureNotifier = { notify: async () => {} };

/**
 * POSTs each notification as JSON to a webhook (a Slack incoming webhook or anything that takes
 * `{text, blocks}`). A webhook that fails is logged, never fails the operation it reports.
 */
export function createWebhookNotifier(options: {
  url: string;
  logger: Logger;
  timeoutMs?: number;
}): FailureNotifier {
  return {
    async notify(notification) {
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(notification),
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
        await response.body?.cancel();
        if (!response.ok)
          options.logger.warn({ status: response.status }, 'deploy webhook refused a notification');
      } catch (error) {
        options.logger.warn({ err: error }, 'deploy webhook unreachable');
      }
    },
  };
}
