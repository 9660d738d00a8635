import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressBar } from '../../src/cli/rollouts-command.js';

describe('rollout progress bars', () => {
  const cases: [number, number, string][] = [
    [0, 10, '[..........]   0%'],
    [0.25, 4, '[#...]  25%'],
    [0.5, 10, '[#####.....]  50%'],
    [1, 10, '[##########] 100%'],
    [1.5, 4, '[####] 100%'],
  ];
  for (const [progress, width, bar] of cases) {
    it(`${progress} → ${bar}`, () => assert.equal(progressBar(progress, width), bar));
  }
});

describe('rollout durations, the same in the CLI and the dashboard', async () => {
  const { rolloutDuration } = await import('../../src/cli/rollouts-command.js');
  const { formatRolloutDuration } = await import('../../web/src/format.js');
  const cases: [number | null, string][] = [
    [1200, '1.2s'],
    [0, '0s'],
    [45_040, '45s'],
    [119_900, '119.9s'],
    [120_000, '2m'],
    [210_000, '3.5m'],
    [5_400_000, '90m'],
  ];
  for (const [ms, text] of cases) {
    it(`${ms} ms → ${text}`, () => {
      assert.equal(rolloutDuration(ms), text);
      assert.equal(formatRolloutDuration(ms), text);
    });
  }
  it('no duration yet', () => {
    assert.equal(rolloutDuration(null), '-');
    assert.equal(formatRolloutDuration(null), '–');
  });
});
