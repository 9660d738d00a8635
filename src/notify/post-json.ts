import type { Logger } from '../log/index.js';

const NOTIFY_TIMEOUT_MS = 5000;

/** POSTs `body` as JSON; a refusal or an unreachable target is logged, never thrown. */
export async function postJson(
  url: string,
  body: unknown,
  context: { type: string; kind: string; logger: Logger },
): Promise<void> {
  const { logger, type, kind } = context;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) {
      logger.warn({ type, kind, status: response.status }, 'notification refused');
    }
  } catch (error) {
    logger.warn({ type, kind, err: error }, 'notification failed');
  }
}
