/**
 * The lint rules that keep modules apart, on a small src/ tree of their own, and the architecture
 * page against the real import graph (so the edges it lists cannot drift from the code).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { moduleBoundaries, repositorySrc } from '../../eslint/module-boundaries.js';
import {
  EDGES_END,
  EDGES_START,
  edgeList,
  moduleEdges,
  pathBetween,
} from '../../eslint/module-graph.js';

RuleTester.describe = describe;
RuleTester.it = it;

// A tree with edges a → b → c, and c importing nothing.
const root = mkdtempSync(join(tmpdir(), 'cadence-boundaries-'));
const src = join(root, 'src');
const files: Record<string, string> = {
  'a/index.ts': "export { a } from './a.js';",
  'a/a.ts': "import { b } from '../b/index.js';\nexport const a = b;",
  'b/index.ts': "export { b } from './b.js';",
  'b/b.ts': "import type { C } from '../c/index.js';\nexport const b = 1 as C;",
  'c/index.ts': 'export type C = number;',
  'c/inner/deep.ts': 'export const deep = 1;',
};
for (const [path, text] of Object.entries(files)) {
  mkdirSync(dirname(join(src, path)), { recursive: true });
  writeFileSync(join(src, path), text);
}
after(() => rmSync(root, { recursive: true, force: true }));

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });
const rules = moduleBoundaries.rules!;

tester.run('through-index', rules['through-index']!, {
  valid: [
    { filename: join(src, 'a/x.ts'), code: "import { b } from '../b/index.js';" },
    { filename: join(src, 'a/x.ts'), code: "import { a } from './a.js';" },
    { filename: join(src, 'c/inner/x.ts'), code: "import { deep } from './deep.js';" },
    { filename: join(src, 'c/inner/x.ts'), code: "import type { C } from '../index.js';" },
    { filename: join(src, 'c/inner/x.ts'), code: "import { b } from '../../b/index.js';" },
    // Outside src/ (tests, benches) inner files are fair game.
    { filename: join(root, 'test/x.ts'), code: "import { b } from '../src/b/b.js';" },
  ],
  invalid: [
    {
      filename: join(src, 'a/x.ts'),
      code: "import { b } from '../b/b.js';",
      errors: [{ messageId: 'inner' }],
    },
    {
      filename: join(src, 'a/x.ts'),
      code: "export { deep } from '../c/inner/deep.js';",
      errors: [{ messageId: 'inner' }],
    },
    {
      filename: join(src, 'c/inner/x.ts'),
      code: "import type { b } from '../../b/b.js';",
      errors: [{ messageId: 'inner' }],
    },
  ],
});

tester.run('no-cycle', rules['no-cycle']!, {
  valid: [
    { filename: join(src, 'a/y.ts'), code: "import { b } from '../b/index.js';" },
    { filename: join(src, 'b/y.ts'), code: "import type { C } from '../c/index.js';" },
  ],
  invalid: [
    {
      filename: join(src, 'c/y.ts'),
      code: "import { a } from '../a/index.js';",
      errors: [{ message: 'Importing a makes a cycle between modules: c → a → b → c.' }],
    },
    {
      filename: join(src, 'b/y.ts'),
      code: "export { a } from '../a/index.js';",
      errors: [{ message: 'Importing a makes a cycle between modules: b → a → b.' }],
    },
  ],
});

describe('the module graph', () => {
  it('reads edges from imports and re-exports, type-only ones too', () => {
    assert.deepEqual(
      [...moduleEdges(src)],
      [
        ['a', ['b']],
        ['b', ['c']],
        ['c', []],
      ],
    );
    assert.deepEqual(pathBetween(moduleEdges(src), 'a', 'c'), ['a', 'b', 'c']);
    assert.equal(pathBetween(moduleEdges(src), 'c', 'a'), undefined);
  });

  it('docs/architecture.md lists the real edges (regenerate: node --import tsx scripts/module-edges.ts)', () => {
    const page = readFileSync(join(repositorySrc, '../docs/architecture.md'), 'utf8');
    const start = page.indexOf(EDGES_START);
    const end = page.indexOf(EDGES_END);
    assert.ok(start >= 0 && end > start, 'docs/architecture.md has the generated edge block');
    const listed = page.slice(start + EDGES_START.length, end);
    assert.equal(listed, edgeList(moduleEdges(repositorySrc)));
  });
});
