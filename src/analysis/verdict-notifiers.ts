import type { Logger } from '../log/index.js';
import type { Analysis } from './analysis-rows.js';
import type { NotificationTarget } from './schema.js';

/** What a notifier is told when an analysis ends. */
export interface VerdictNotice {
  analysisId: string;
  service: string;
  namespace: string;
  environment: string;
  revision: string | null;
  status: Analysis['status'];
  verdict: Analysis['verdict'];
  reason: string | null;
  passed: number;
  failed: number;
  inconclusive: number;
  /** The deployer's answer to promote / rollback, if one was asked. */
  action: unknown;
}

export interface VerdictNotifier {
  readonly type: NotificationTarget['type'];
  notify(notice: VerdictNotice): Promise<void>;
}

export function verdictNotice(analysis: Analysis): VerdictNotice {
  return {
    analysisId: analysis.id,
    service: analysis.service,
    namespace: analysis.namespace,
    environment: analysis.environment,
    revision: analysis.revision,
    status: analysis.status,
    verdict: analysis.verdict,
    reason: analysis.reason,
    passed: analysis.passed,
    failed: analysis.failed,
    inconclusive: analysis.inconclusive,
    action: analysis.actionResult,
  };
}

const headline: Record<string, string> = {
  promoted: 'promoted',
  'rolled-back': 'rolled back',
  inconclusive: 'inconclusive, canary held',
  holding: 'inconclusive, canary held (then rolled back)',
};

/** A Slack incoming-webhook message: `text` for notifications, a section block for the body. */
export function slackMessage(notice: VerdictNotice): Record<string, unknown> {
  const version = notice.revision ? ` ${notice.revision}` : '';
  const text = `Canary ${notice.service}${version}: ${headline[notice.status] ?? notice.status}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*\n${notice.reason ?? ''}` } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `analysis ${notice.analysisId} · ${notice.passed} passed, ${notice.failed} failed, ${notice.inconclusive} inconclusive intervals`,
          },
        ],
      },
    ],
  };
}

const TIMEOUT_MS = 5000;

/**
 * One notifier per configured target. A notification that cannot be delivered is logged and
 * dropped: it must never hold up a rollback.
 */
export function createVerdictNotifiers(
  targets: readonly NotificationTarget[],
  logger: Logger,
): VerdictNotifier[] {
  return targets.map((target) => ({
    type: target.type,
    async notify(notice) {
      const body =
        target.type === 'slack' ? slackMessage(notice) : { kind: 'canary.verdict', ...notice };
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        if (!response.ok) {
          logger.warn(
            { type: target.type, status: response.status, analysisId: notice.analysisId },
            'verdict notification refused',
          );
        }
      } catch (error) {
        logger.warn(
          { type: target.type, err: error, analysisId: notice.analysisId },
          'verdict notification failed',
        );
      }
    },
  }));
}
