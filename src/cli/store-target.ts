/**
 * Where a CLI command that needs the store runs: on a server (`--server`, or the one that holds
 * the embedded data directory, found through its discovery file) or on the store opened here.
 */
import { loadConfig } from '../config/index.js';
import { readDiscovery } from '../discovery/index.js';
import { authorization, serverUrl, tokenFor } from './api-client.js';

export interface StoreFlags {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
  server?: string;
}

/** A server to call, with the Authorization header to call it with. */
export interface ServerTarget {
  url: string;
  headers: Record<string, string>;
}

function configured(flags: StoreFlags) {
  return loadConfig({
    file: flags.config,
    env: process.env,
    flags: { dataDir: flags.dataDir, databaseUrl: flags.databaseUrl },
  });
}

/**
 * The server a store command goes through, or undefined to open the store here: `--server`,
 * else the server holding the embedded data directory. A PostgreSQL store is opened here even
 * while servers use it (many processes may), as before.
 */
export function storeServer(flags: StoreFlags): ServerTarget | undefined {
  if (flags.server !== undefined) {
    const url = serverUrl(flags.server);
    return { url, headers: authorization(tokenFor(url, undefined)) };
  }
  const config = configured(flags);
  if (config.store.databaseUrl) return undefined;
  const found = readDiscovery(config.store.dataDir);
  return found
    ? { url: found.url, headers: { authorization: `Bearer ${found.credential}` } }
    : undefined;
}

/**
 * The server an API command (events, metrics) talks to: `--server`, else CADENCE_SERVER, else
 * the one holding the data directory (`--data-dir`, CADENCE_DATA_DIR), else the local default.
 */
export function apiServer(flags: StoreFlags): ServerTarget {
  if (flags.server === undefined && process.env.CADENCE_SERVER === undefined) {
    const found = storeServer({ ...flags, databaseUrl: undefined });
    if (found) return found;
  }
  const url = serverUrl(flags.server);
  return { url, headers: {} };
}
