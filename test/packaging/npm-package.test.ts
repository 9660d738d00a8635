/**
 * What `npm publish` would ship, from the real `npm pack --dry-run` (after the test command's
 * build): the scoped name with the `cadence` bin, the LICENSE, the compiled CLI with the embedded
 * store's template data directory, and no source map pointing at sources the package does not hold.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the npm package', () => {
  it('is @cadence-dora/cadence with LICENSE, bin/cadence and dist, without source maps', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { name: string; files: { path: string }[] }[];
    assert.equal(pack!.name, '@cadence-dora/cadence');
    const files = pack!.files.map((f) => f.path);
    // The template a new embedded store starts from (npm run build makes it; src/store).
    for (const file of [
      'LICENSE',
      'bin/cadence.js',
      'dist/cli/main.js',
      'dist/pglite-template.tar.gz',
      'dist/pglite-template.json',
      'package.json',
    ])
      assert.ok(files.includes(file), file);
    assert.ok(files.some((f) => f.startsWith('migrations/')));
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map')),
      [],
    );
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')));
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
      bin: Record<string, string>;
      license: string;
    };
    assert.deepEqual(pkg.bin, { cadence: './bin/cadence.js' });
    assert.equal(pkg.license, 'Apache-2.0');
    assert.match(
      readFileSync(`${root}LICENSE`, 'utf8'),
      /Apache License\s+Version 2\.0, January 2004/,
    );
  });
});
