import type { Analysis, AnalysisStatus, AnalysisVerdict } from './analysis-rows.js';
import type { Verdict } from './judgement.js';
import type { AnalysisSpec } from './schema.js';

export interface Progress {
  status: AnalysisStatus;
  verdict: AnalysisVerdict | null;
  reason: string | null;
  passed: number;
  failed: number;
  inconclusive: number;
}

/**
 * The analysis after one more interval's verdict:
 * - a pass counts towards `intervals` passes; with all of them, promote;
 * - a fail counts towards `failAfter`; reaching it, roll back;
 * - marginal and inconclusive intervals neither pass nor fail; more than `maxInconclusive` of
 *   them ends the analysis inconclusive: held for a person (`holding`, rolled back after
 *   `holdSeconds`; or `inconclusive`, held for good, with `afterHold: hold`), or rolled back at
 *   once with `onInconclusive: rollback`.
 *   Never promote without every pass: Prometheus down or too little traffic cannot promote.
 */
export function nextProgress(
  current: Pick<Analysis, 'passed' | 'failed' | 'inconclusive'>,
  verdict: Verdict,
  spec: Pick<
    AnalysisSpec,
    'intervals' | 'failAfter' | 'maxInconclusive' | 'onInconclusive' | 'afterHold'
  >,
  missing: readonly string[] = [],
): Progress {
  const counts = {
    passed: current.passed + (verdict === 'pass' ? 1 : 0),
    failed: current.failed + (verdict === 'fail' ? 1 : 0),
    inconclusive:
      current.inconclusive + (verdict === 'marginal' || verdict === 'inconclusive' ? 1 : 0),
  };
  if (counts.failed >= spec.failAfter) {
    return {
      ...counts,
      status: 'rolling-back',
      verdict: 'fail',
      reason: `${counts.failed} failing interval${counts.failed === 1 ? '' : 's'} (rollback after ${spec.failAfter})`,
    };
  }
  if (counts.passed >= spec.intervals) {
    return {
      ...counts,
      status: 'promoting',
      verdict: 'pass',
      reason: `passed all ${spec.intervals} intervals`,
    };
  }
  if (counts.inconclusive > spec.maxInconclusive) {
    const last = missing.length > 0 ? `; last: ${missing.join('; ')}` : '';
    return {
      ...counts,
      // Held: for `holdSeconds` then rolled back (`holding`), or for good (`inconclusive`).
      status:
        spec.onInconclusive === 'rollback'
          ? 'rolling-back'
          : spec.afterHold === 'hold'
            ? 'inconclusive'
            : 'holding',
      verdict: 'inconclusive',
      reason: `${counts.inconclusive} intervals without a verdict (more than ${spec.maxInconclusive})${last}`,
    };
  }
  return { ...counts, status: 'running', verdict: null, reason: null };
}
