import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/cdevents beside the repository: the official CDEvents files (never copied in). */
export function sharedCdeventsDir(): string {
  const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const dir = process.env.CADENCE_SHARED_DIR
    ? join(process.env.CADENCE_SHARED_DIR, 'cdevents')
    : resolve(repoRoot, '..', 'shared', 'cdevents');
  if (!existsSync(dir)) {
    throw new Error(
      `CDEvents conformance files not found at ${dir}: the shared folder must sit beside the repository`,
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
