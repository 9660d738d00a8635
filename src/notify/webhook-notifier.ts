import type { Logger } from '../log/index.js';
import type { Notifier } from './notifier.js';
import { postJson } from './post-json.js';

/** A generic webhook: the notice's facts as JSON, `{ kind, ...facts }`, for machines to act on. */
export function createWebhookNotifier(options: { url: string; logger: Logger }): Notifier {
  return {
    type: 'webhook',
    notify: (notice) =>
      postJson(
        options.url,
        { kind: notice.kind, ...notice.facts },
        {
          type: 'webhook',
          kind: notice.kind,
          logger: options.logger,
        },
      ),
  };
}
