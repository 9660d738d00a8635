// Lint rules that carry the architecture: domain modules never import the shells (server, cli),
// a module reaches another only through its index.ts, no import makes a cycle between modules,
// promises are never left floating, and type-only imports are marked.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { moduleBoundaries } from './eslint/module-boundaries.js';

const shells = ['**/server/**', '**/server/index.js', '**/cli/**', '**/cli/index.js'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cadence/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Modules meet at their index.ts and never in a cycle (docs/architecture.md lists the edges).
    files: ['src/**/*.ts'],
    plugins: { boundaries: moduleBoundaries },
    rules: { 'boundaries/through-index': 'error', 'boundaries/no-cycle': 'error' },
  },
  {
    // Domain code is imported by the shells, never the other way round.
    files: ['src/**/*.ts'],
    ignores: ['src/server/**', 'src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: shells, message: 'Domain modules must not import server/ or cli/.' }],
        },
      ],
    },
  },
);
