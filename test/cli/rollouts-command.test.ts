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
