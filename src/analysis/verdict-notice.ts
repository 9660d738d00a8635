import type { Notice } from '../notify/index.js';
import type { Analysis } from './analysis-rows.js';

/** The facts of an analysis that ended: what a JSON webhook receives (with `kind`). */
export interface VerdictFacts {
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

/** The notice of an analysis that ended: a Slack-style message and its facts. */
export function verdictNotice(analysis: Analysis): Notice {
  const facts = verdictFacts(analysis);
  return { kind: 'canary.verdict', ...slackMessage(facts), facts: { ...facts } };
}

function verdictFacts(analysis: Analysis): VerdictFacts {
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
function slackMessage(notice: VerdictFacts): { text: string; blocks: unknown[] } {
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
