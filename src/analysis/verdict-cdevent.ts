import {
  validateCdevent,
  wrapCdevent,
  type CloudEvent,
  deterministicId,
  EMITTED_SPEC_VERSION,
} from '../events/index.js';
import type { Analysis } from './analysis-rows.js';

/** Where Cadence's own analysis CDEvents come from. */
export const ANALYSIS_SOURCE = '/cadence/analysis';

/**
 * The CDEvent a verdict adds to the delivery record, so DORA counts canaries:
 * - promoted → `service.upgraded`, a successful deployment of the canary's version;
 * - rolled back after a failed canary → `service.upgraded` with `customData.cadence.outcome:
 *   failure`: a failed deployment attempt (dora/delivery.ts counts outcome failure as failed).
 *   Not `service.rolledback`: that marks the previous successful deployment — stable — failed.
 * Inconclusive analyses deployed nothing and emit nothing. The id is deterministic (the
 * analysis and its verdict), so a retried emission is deduplicated by the intake.
 */
export function verdictCloudEvent(analysis: Analysis, at: Date): CloudEvent | undefined {
  if (analysis.verdict !== 'pass' && analysis.verdict !== 'fail') return undefined;
  const revision = analysis.revision ?? analysis.id;
  const body = {
    context: {
      specversion: EMITTED_SPEC_VERSION,
      id: deterministicId('analysis', ANALYSIS_SOURCE, analysis.id, analysis.verdict),
      source: ANALYSIS_SOURCE,
      type: 'dev.cdevents.service.upgraded.0.3.0',
      timestamp: at.toISOString(),
    },
    subject: {
      id: analysis.service,
      source: ANALYSIS_SOURCE,
      content: {
        environment: { id: analysis.environment, source: ANALYSIS_SOURCE },
        artifactId: `pkg:generic/${encodeURIComponent(analysis.service)}@${encodeURIComponent(revision)}`,
      },
    },
    customData: {
      cadence: {
        outcome: analysis.verdict === 'pass' ? 'success' : 'failure',
        ...(analysis.revision ? { revision: analysis.revision } : {}),
        analysis: { id: analysis.id, verdict: analysis.verdict, reason: analysis.reason },
      },
    },
  };
  const checked = validateCdevent(body);
  // Built here from known fields: an invalid one is a bug in this function.
  if (!checked.ok) throw new Error(`verdict CDEvent invalid: ${JSON.stringify(checked.issues)}`);
  return wrapCdevent(checked.value);
}
