import type { ESLint } from 'eslint';
export const moduleBoundaries: ESLint.Plugin;
export const repositorySrc: string;
