import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BIN_BASE,
  RELATIVE_ACCURACY,
  ZERO_BIN,
  binOf,
  binValue,
  durationBinSql,
  mergeBins,
  quantileOfBins,
} from '../../src/dora/duration-bins.js';
import { quantile } from '../../src/statistics/index.js';
import { engines, openTestStore } from '../support/engines.js';

describe('binOf / binValue', () => {
  const cases: [number, number][] = [
    [1, 0],
    [BIN_BASE * 0.9999, 1],
    [BIN_BASE * 1.0001, 2],
    [0.9999 / BIN_BASE, -1],
    [0.9999, 0],
    [0, ZERO_BIN],
    [-5, ZERO_BIN],
  ];
  for (const [seconds, bin] of cases) {
    it(`${seconds} s falls in bin ${bin}`, () => assert.equal(binOf(seconds), bin));
  }
  for (const seconds of [0.004, 0.9, 1, 59, 60, 3_600, 86_400, 3.1e7]) {
    it(`reports ${seconds} s within ${RELATIVE_ACCURACY * 100} %`, () => {
      const value = binValue(binOf(seconds));
      assert.ok(Math.abs(value - seconds) <= RELATIVE_ACCURACY * seconds * (1 + 1e-12));
    });
  }
  it('reports 0 for the zero bin', () => assert.equal(binValue(ZERO_BIN), 0));
});

describe('quantileOfBins', () => {
  it('is null without values', () => assert.equal(quantileOfBins([], 0.5), null));
  const cases: [number[], number][] = [
    [[60, 60, 60], 0.5],
    [[1, 2, 3, 4], 0.5],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9],
    [[0, 0, 5, 3_600], 0.5],
  ];
  for (const [values, q] of cases) {
    it(`q${q} of [${values.join(',')}] is within 1 % of the exact quantile`, () => {
      const bins = mergeBins(values.map((v) => ({ bin: binOf(v), count: 1 })));
      const exact = quantile(values, q)!;
      const approx = quantileOfBins(bins, q)!;
      assert.ok(Math.abs(approx - exact) <= 0.01 * exact + 1e-9, `${approx} vs ${exact}`);
    });
  }
  it('merges days: the bins of two halves give the quantile of the whole', () => {
    const values = Array.from({ length: 1_000 }, (_, i) => 30 + ((i * 7_919) % 86_400));
    const half = (part: number[]) => part.map((v) => ({ bin: binOf(v), count: 1 }));
    const merged = mergeBins(half(values.slice(0, 400)), half(values.slice(400)));
    assert.equal(
      merged.reduce((sum, b) => sum + b.count, 0),
      1_000,
    );
    for (const q of [0.1, 0.5, 0.9]) {
      const exact = quantile(values, q)!;
      const approx = quantileOfBins(merged, q)!;
      assert.ok(Math.abs(approx - exact) <= 0.01 * exact, `q${q}: ${approx} vs ${exact}`);
    }
  });
});

for (const engine of engines) {
  describe(`durationBinSql on ${engine}`, () => {
    it('puts every value in the same bin as binOf', async () => {
      const { store, dispose } = await openTestStore(engine, { migrate: false });
      try {
        // Values on a bin's exact edge are left out: ln() may round differently in the two.
        const values = [-1, 0, 1e-6, 0.5, 1, 59.999, 60, 7_200, 1e6, 3.1e7];
        const { rows } = await store.query<{ v: number; bin: number }>(
          `select v, ${durationBinSql('v')} as bin from unnest($1::float8[]) as t(v)`,
          [values],
        );
        assert.deepEqual(
          rows.map((r) => Number(r.bin)),
          values.map(binOf),
        );
      } finally {
        await dispose();
      }
    });
  });
}
