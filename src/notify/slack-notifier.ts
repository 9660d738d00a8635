import type { Logger } from '../log/index.js';
import type { Notifier } from './notifier.js';
import { postJson } from './post-json.js';

/**
 * A Slack incoming webhook, or anything that takes Slack's `{ text, blocks }` (Mattermost,
 * Rocket.Chat): the notice's text and blocks, not its facts.
 */
export function createSlackNotifier(options: { url: string; logger: Logger }): Notifier {
  return {
    type: 'slack',
    notify: (notice) =>
      postJson(
        options.url,
        { text: notice.text, blocks: notice.blocks },
        { type: 'slack', kind: notice.kind, logger: options.logger },
      ),
  };
}
