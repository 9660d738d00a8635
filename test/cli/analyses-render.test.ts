/** What `cadence analyses ID` and `canary --wait` print for a judgement: pure, as a table. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeForAnalysis, trackValue } from '../../src/cli/analyses-command.js';

describe('trackValue', () => {
  const rows: [{ count: number; mean: number | null }, string][] = [
    [{ count: 10, mean: 0.012345 }, '0.0123 (n=10)'],
    [{ count: 3, mean: 250 }, '250 (n=3)'],
    [{ count: 0, mean: null }, '-'],
  ];
  for (const [summary, printed] of rows) {
    it(printed, () => assert.equal(trackValue(summary), printed));
  }
});

describe('exitCodeForAnalysis', () => {
  const rows = [
    ['promoted', 'pass', 0],
    ['rolled-back', 'fail', 2],
    ['holding', 'inconclusive', 3],
    ['cancelled', null, 5],
  ] as const;
  for (const [status, verdict, code] of rows) {
    it(`${status} → ${code}`, () => assert.equal(exitCodeForAnalysis({ status, verdict }), code));
  }
});
