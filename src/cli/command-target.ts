/**
 * Where every CLI command runs, decided here and nowhere else:
 *
 * 1. `--server URL` (or CADENCE_SERVER): that server, with --token, CADENCE_TOKEN or the
 *    credentials file's token for it;
 * 2. else the server holding the embedded data directory (`--data-dir`, CADENCE_DATA_DIR, the
 *    config file's `store.dataDir`, `./.cadence`), found through its discovery file, with the
 *    local credential written there (or --token). While another live process holds the
 *    directory without a discovery file (a server still starting, or another command), the
 *    command waits for the file or for the directory to be free, up to a minute;
 * 3. else, for a command that needs the store (`git`, `sql`, `token`), the store itself, opened
 *    in this process; for any other command, the default server http://127.0.0.1:8080.
 *
 * On PostgreSQL (`--database-url`, DATABASE_URL, `store.databaseUrl`) step 2 finds nothing, and a
 * store command opens the database itself even while servers use it: PostgreSQL takes many
 * writers (the servers' replicas already share it), each command's work is its own transactions,
 * and which of several replicas would run it is nobody's business (README, "One data directory").
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { defaults, loadConfig } from '../config/index.js';
import { readDiscovery, type Discovery } from '../discovery/index.js';
import { CadenceError } from '../problem/index.js';
import { liveHolder, openStore, type Store } from '../store/index.js';
import { authorization, tokenFor, type ServerTarget } from './api-client.js';

export type { ServerTarget } from './api-client.js';

/** The flags {@link addTargetOptions} gives a command. */
export interface TargetFlags {
  server?: string;
  token?: string;
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** How long to wait for a directory's holder to announce a server or let go (no CLI flag). */
  holderWaitMs?: number;
}

/** The store opened in this process, for a store command no server runs. */
export interface LocalStore {
  open(): Promise<{ store: Store; dataDir: string }>;
}

export type CommandKind = 'store' | 'api';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** `--data-dir`, `--config` and `--database-url`: one definition, for `serve` and every command. */
export const dataDirOption = () =>
  new Option(
    '--data-dir <dir>',
    `embedded store directory (env CADENCE_DATA_DIR) (default: "${defaults.store.dataDir}")`,
  );
export const configOption = () =>
  new Option('--config <file>', 'YAML config file (env CADENCE_CONFIG)');
export const databaseUrlOption = () =>
  new Option(
    '--database-url <url>',
    'PostgreSQL connection URL instead of the embedded store (env DATABASE_URL)',
  );

/**
 * The options that say where a command runs, the same on every command: a server, or the data
 * directory (whose server is found there) and, for store commands, the database.
 */
export function addTargetOptions(command: Command, kind: CommandKind): Command {
  command
    .addOption(
      new Option(
        '--server <url>',
        `run on this Cadence server (env CADENCE_SERVER) (default: the server holding --data-dir, else ${kind === 'store' ? 'the store itself' : DEFAULT_SERVER})`,
      ),
    )
    .option('--token <token>', 'NAME:SECRET or SECRET (env CADENCE_TOKEN, or the credentials file)')
    .addOption(dataDirOption())
    .addOption(configOption());
  if (kind === 'store') command.addOption(databaseUrlOption());
  return command;
}

function configured(flags: TargetFlags) {
  return loadConfig({
    file: flags.config,
    env: process.env,
    flags: { dataDir: flags.dataDir, databaseUrl: flags.databaseUrl },
  });
}

/** --server, else CADENCE_SERVER (an empty value is none). */
function namedServer(flags: TargetFlags): string | undefined {
  const named = flags.server || process.env.CADENCE_SERVER || undefined;
  return named?.replace(/\/+$/, '');
}

function withToken(url: string, flags: TargetFlags): ServerTarget {
  return { url, headers: authorization(tokenFor(url, flags.token)) };
}

/** Opens the configured store as `cadence serve` would, saying what to do when it is held. */
function localStore(flags: TargetFlags): LocalStore {
  return {
    async open() {
      const config = configured(flags);
      try {
        const store = await openStore({
          databaseUrl: config.store.databaseUrl,
          dataDir: config.store.dataDir,
          poolSize: 4,
        });
        return { store, dataDir: config.store.dataDir };
      } catch (error) {
        if (
          error instanceof CadenceError &&
          error.code === 'conflict' &&
          error.field === 'dataDir'
        ) {
          throw new CadenceError('conflict', {
            field: 'dataDir',
            detail: `${error.message} (the embedded store allows one process at a time: stop the server using it, or share a PostgreSQL with --database-url)`,
          });
        }
        throw error;
      }
    },
  };
}

/** How long a command waits for a directory's other holder to start serving or to let go. */
const HOLDER_WAIT_MS = 60_000;
const HOLDER_POLL_MS = 100;

/**
 * The server holding `dataDir`, waiting while a live process holds it without a discovery file:
 * a server writes the file once it listens (after unpacking or migrating the store), another
 * CLI command lets go when it ends. Undefined when the directory is (or becomes) free.
 */
async function discover(dataDir: string, waitMs = HOLDER_WAIT_MS): Promise<Discovery | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = readDiscovery(dataDir);
    if (found) return found;
    const holder = liveHolder(resolve(dataDir));
    if (!holder) return undefined;
    if (Date.now() > deadline) {
      // Not the default URL: that may be another Cadence than the one holding this directory.
      throw new CadenceError('conflict', {
        field: 'dataDir',
        detail: `data directory ${dataDir} is held by process ${holder.pid}, which has not announced a server in ${waitMs / 1000} s; wait for it, or name a server with --server`,
      });
    }
    await sleep(HOLDER_POLL_MS);
  }
}

/**
 * Where a command runs (this module's header): a server, or for a store command with no server
 * to go to, the store itself.
 *
 * @example const target = await commandTarget(flags, 'api'); await getJson(target, '/api/v1/events')
 */
export async function commandTarget(flags: TargetFlags, kind: 'api'): Promise<ServerTarget>;
export async function commandTarget(
  flags: TargetFlags,
  kind: 'store',
): Promise<ServerTarget | LocalStore>;
export async function commandTarget(
  flags: TargetFlags,
  kind: CommandKind,
): Promise<ServerTarget | LocalStore> {
  const named = namedServer(flags);
  if (named) return withToken(named, flags);
  const config = configured(flags);
  const found = config.store.databaseUrl
    ? undefined
    : await discover(config.store.dataDir, flags.holderWaitMs);
  if (found) {
    return {
      url: found.url,
      headers: flags.token
        ? authorization(flags.token)
        : { authorization: `Bearer ${found.credential}` },
    };
  }
  return kind === 'store' ? localStore(flags) : withToken(DEFAULT_SERVER, flags);
}

/** Whether a target is the store opened here. */
export function isLocalStore(target: ServerTarget | LocalStore): target is LocalStore {
  return 'open' in target;
}

/** Runs `work` on the store opened here, closing it after. */
export async function withLocalStore<T>(
  target: LocalStore,
  work: (store: Store, dataDir: string) => Promise<T>,
): Promise<T> {
  const { store, dataDir } = await target.open();
  try {
    return await work(store, dataDir);
  } finally {
    await store.close();
  }
}
