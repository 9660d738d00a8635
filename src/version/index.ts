/**
 * version — Cadence's own version, read once from package.json so the CLI, `GET /version` and
 * the user agent never drift from what npm installed.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** The `version` field of Cadence's package.json, e.g. `0.1.0`. */
export function cadenceVersion(): string {
  if (cached === undefined) {
    // src/version/index.ts and dist/version/index.js both sit two folders below the package root.
    const url = new URL('../../package.json', import.meta.url);
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    if (typeof parsed.version !== 'string') throw new Error('package.json has no version');
    cached = parsed.version;
  }
  return cached;
}
