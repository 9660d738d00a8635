import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cadenceVersion } from '../../src/version/index.js';

test('cadenceVersion is the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(cadenceVersion(), pkg.version);
  assert.match(cadenceVersion(), /^\d+\.\d+\.\d+/);
});
