import { PGlite } from '@electric-sql/pglite';

/**
 * PostgreSQL settings sized for one embedded tool rather than a shared server: PGlite runs one
 * backend in this process's WASM memory, which never shrinks, so every buffer it fills stays in
 * the process's RSS. 128 MB of shared buffers (initdb's default) is most of an idle server's
 * memory; 16 MB holds the hot pages of Cadence's tables, and the OS page cache keeps the rest.
 */
export const EMBEDDED_SETTINGS = [
  'shared_buffers=16MB',
  // One backend: the connection slots are never used, each still costs shared memory.
  'max_connections=4',
  'temp_buffers=1MB',
  'maintenance_work_mem=16MB',
] as const;

/** PGlite's own start parameters followed by {@link EMBEDDED_SETTINGS}. */
export function embeddedStartParams(): string[] {
  return [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting])];
}
