import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * ../shared/cdevents beside the repository: the official CDEvents files (never copied in). They
 * are part of the test environment, so their absence fails the run (no skip) with what to do.
 */
export function sharedCdeventsDir(): string {
  const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const shared = process.env.CADENCE_SHARED_DIR ?? resolve(repoRoot, '..', 'shared');
  const dir = join(shared, 'cdevents');
  if (!existsSync(dir)) {
    throw new Error(
      [
        `The CDEvents conformance files are missing: no folder ${dir}.`,
        `The CDEvents tests read each spec version's conformance events from`,
        `${join(dir, '<version>', 'conformance', '*.json')} (0.3.0, 0.4.1, 0.5.1, as in the`,
        `cdevents/spec repository). Put the shared folder at ${shared} (beside the repository),`,
        `or set CADENCE_SHARED_DIR to the folder that holds cdevents/.`,
      ].join('\n'),
    );
  }
  return dir;
}

export interface ConformanceEvent {
  version: string;
  file: string;
  event: Record<string, unknown> & { context: Record<string, unknown> };
}

/** Every conformance event of every spec version. */
export function conformanceEvents(): ConformanceEvent[] {
  const root = sharedCdeventsDir();
  return readdirSync(root)
    .filter((version) => /^\d+\.\d+\.\d+$/.test(version))
    .flatMap((version) =>
      readdirSync(join(root, version, 'conformance'))
        .filter((file) => file.endsWith('.json'))
        .map((file) => ({
          version,
          file,
          event: JSON.parse(readFileSync(join(root, version, 'conformance', file), 'utf8')),
        })),
    );
}
