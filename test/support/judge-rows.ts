/**
 * The judges' tables: a metric, canary and stable samples in; the classification and whether it
 * is a critical failure out. Every judge's table runs through the same runner.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Classification, Judge, JudgeSettings } from '../../src/analysis/judgement.js';
import { metricSpecSchema, type MetricSpecInput } from '../../src/analysis/schema.js';

/** A metric spec for a table row: latency-p95 needing 5 samples, unless the row says. */
export const metricSpec = (input: Partial<MetricSpecInput> = {}) =>
  metricSpecSchema.parse({ name: 'latency-p95', minSamples: 5, ...input });

export interface JudgeRow {
  name: string;
  metric?: Partial<MetricSpecInput>;
  canary: number[];
  stable: number[];
  classification: Classification;
  critical?: boolean;
}

/** One test per row: the judge's classification and critical failure (false unless the row says). */
export function judgeRows(judge: Judge, rows: readonly JudgeRow[], settings: JudgeSettings): void {
  for (const row of rows) {
    it(row.name, () => {
      const judgement = judge.judgeMetric(
        metricSpec(row.metric),
        { canary: row.canary, stable: row.stable },
        settings,
      );
      assert.equal(judgement.classification, row.classification, judgement.reason);
      assert.equal(judgement.criticalFailure, row.critical ?? false, judgement.reason);
    });
  }
}
