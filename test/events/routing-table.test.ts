import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRoutingTable } from '../../src/events/routing-table.js';
import { CadenceError } from '../../src/problem/index.js';

const known = ['a', 'b', 'c'];

describe('compileRoutingTable', () => {
  const table = compileRoutingTable(
    [
      { type: 'dev.cdevents.*', transformers: ['a'] },
      { type: 'dev.knative.apiserver.{resource,ref}.*', transformers: ['b'] },
      { type: 'com.github.push', source: 'https://github.com/acme/*', transformers: ['c', 'a'] },
      { type: 'dev.cdevents.service.deployed.0.3.0', transformers: ['a', 'c'] },
    ],
    known,
  );
  const cases: [string, string, string[]][] = [
    ['dev.cdevents.service.deployed.0.3.0', '/x', ['a', 'c']],
    ['dev.cdevents.change.merged.0.2.0', '/x', ['a']],
    ['dev.knative.apiserver.resource.update', 'https://10.0.0.1', ['b']],
    ['dev.knative.apiserver.ref.add', 'https://10.0.0.1', ['b']],
    ['dev.knative.apiserver.other.add', 'https://10.0.0.1', []],
    ['com.github.push', 'https://github.com/acme/web', ['c', 'a']],
    ['com.github.push', 'https://github.com/acme/web/extra', ['c', 'a']], // `*` crosses slashes too
    ['com.github.push', 'https://github.com/other/web', []],
    ['unknown.type', '/x', []],
  ];
  for (const [type, source, expected] of cases) {
    it(`routes ${type} from ${source} to [${expected.join(', ')}]`, () => {
      assert.deepEqual(table.match({ type, source }), expected);
    });
  }

  it('refuses an unknown transformer at compile time, naming the route', () => {
    assert.throws(
      () =>
        compileRoutingTable(
          [
            { type: 'x', transformers: ['a'] },
            { type: 'y', transformers: ['nope'] },
          ],
          known,
        ),
      (error: unknown) =>
        error instanceof CadenceError &&
        error.code === 'config-invalid' &&
        error.field === 'routes[1].transformers',
    );
  });
});
