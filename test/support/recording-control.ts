/**
 * A CanaryControl that records what it is asked. It stands in for the deployer, which is built
 * on another branch (`deploy`) and not available here; the lead wires the deployer's promote and
 * rollback into the analysis after merging. Everything else in these tests is real.
 */
import type { CanaryActionResult, CanaryControl, CanaryRequest } from '../../src/analysis/index.js';

export interface RecordedAction {
  action: 'promote' | 'rollback';
  request: CanaryRequest & { reason?: string };
}

export function recordingControl(options: { failFirst?: number } = {}): CanaryControl & {
  actions: RecordedAction[];
  of(analysisId: string): RecordedAction[];
} {
  const actions: RecordedAction[] = [];
  let failures = options.failFirst ?? 0;
  const answer = (action: RecordedAction['action'], request: RecordedAction['request']) => {
    if (failures > 0) {
      failures--;
      return Promise.reject(new Error('deployer unavailable'));
    }
    actions.push({ action, request });
    return Promise.resolve<CanaryActionResult>({ applied: true, detail: `${action} recorded` });
  };
  return {
    actions,
    of: (analysisId) => actions.filter((entry) => entry.request.analysisId === analysisId),
    promote: (request) => answer('promote', request),
    rollback: (request) => answer('rollback', request),
  };
}
