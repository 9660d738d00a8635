import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { liveHolder } from '../store/index.js';

export const DISCOVERY_FILE = 'cadence-server.json';

/** The user name of the local credential (`Bearer cadence-local:SECRET`). */
export const LOCAL_PRINCIPAL_NAME = 'cadence-local';

const discoverySchema = z.looseObject({
  url: z.string().url(),
  /** `cadence-local:SECRET`, accepted by this server from loopback connections only. */
  credential: z.string().min(1),
  pid: z.number().int().positive(),
});
export type Discovery = z.infer<typeof discoverySchema>;

/** A fresh credential for one server run: never stored in the database, gone when it stops. */
export function newLocalCredential(): string {
  return `${LOCAL_PRINCIPAL_NAME}:${randomBytes(32).toString('base64url')}`;
}

/**
 * Writes the discovery file, readable by its owner only; returns its removal. Written whole
 * under another name and renamed, so a reader never sees half of it.
 */
export function writeDiscovery(
  dataDir: string,
  server: { url: string; credential: string },
): () => void {
  const file = join(resolve(dataDir), DISCOVERY_FILE);
  const staging = `${file}.${process.pid}`;
  const body: Discovery = { url: server.url, credential: server.credential, pid: process.pid };
  // A staging file a killed writer left keeps its own mode: start from none, created 0600.
  rmSync(staging, { force: true });
  writeFileSync(staging, `${JSON.stringify(body)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(staging, file);
  return () => removeDiscovery(dataDir);
}

/**
 * Removes `dataDir`'s discovery file: on a clean exit, and when a server takes the directory,
 * since a file a killed server left names this server's pid after a container restart (PID 1)
 * and would send CLIs an old credential until the new file is written.
 */
export function removeDiscovery(dataDir: string): void {
  rmSync(join(resolve(dataDir), DISCOVERY_FILE), { force: true });
}

/**
 * The server holding `dataDir`, when one does: its discovery file, if the process that wrote it
 * still holds the directory's lock. Undefined for no file, an unreadable one, or a stale one.
 */
export function readDiscovery(dataDir: string): Discovery | undefined {
  let text: string;
  try {
    text = readFileSync(join(resolve(dataDir), DISCOVERY_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: ReturnType<typeof discoverySchema.safeParse>;
  try {
    parsed = discoverySchema.safeParse(JSON.parse(text));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const holder = liveHolder(resolve(dataDir));
  return holder?.pid === parsed.data.pid ? parsed.data : undefined;
}
