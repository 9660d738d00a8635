import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { CadenceError } from '../problem/index.js';
import { configSchema, type CadenceConfig } from './schema.js';

export interface ConfigSources {
  /** Path of a YAML config file. */
  file?: string | undefined;
  /** Environment variables (CADENCE_*, DATABASE_URL). */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags, highest precedence. */
  flags?: {
    host?: string | undefined;
    port?: number | undefined;
    dataDir?: string | undefined;
    databaseUrl?: string | undefined;
    bodyLimitBytes?: number | undefined;
  };
}

type Json = Record<string, unknown>;

function section(target: Json, name: string): Json {
  if (typeof target[name] !== 'object' || target[name] === null) target[name] = {};
  return target[name] as Json;
}

function setIf(target: Json, key: string, value: unknown): void {
  if (value !== undefined && value !== '') target[key] = value;
}

function envNumber(env: NodeJS.ProcessEnv, name: string): number | string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  // A non-number stays a string so the schema reports it against the right key.
  return Number.isFinite(number) ? number : value;
}

/**
 * Loads the configuration once: defaults ← YAML file ← environment ← flags, then validates it.
 * A bad value is a `config-invalid` error naming the key.
 */
export function loadConfig(sources: ConfigSources = {}): CadenceConfig {
  const env = sources.env ?? {};
  const file = sources.file ?? env.CADENCE_CONFIG;
  let raw: Json = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CadenceError('config-invalid', {
        field: 'config',
        detail: `cannot read config file ${file}: ${(error as Error).message}`,
      });
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new CadenceError('config-invalid', {
        field: 'config',
        detail: `config file ${file} is not valid YAML: ${(error as Error).message}`,
      });
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new CadenceError('config-invalid', {
          field: 'config',
          detail: `config file ${file} must be a YAML mapping`,
        });
      }
      raw = parsed as Json;
    }
  }
  const server = section(raw, 'server');
  const store = section(raw, 'store');
  setIf(server, 'host', env.CADENCE_HOST);
  setIf(server, 'port', envNumber(env, 'CADENCE_PORT'));
  setIf(server, 'bodyLimitBytes', envNumber(env, 'CADENCE_BODY_LIMIT_BYTES'));
  setIf(store, 'dataDir', env.CADENCE_DATA_DIR);
  setIf(store, 'databaseUrl', env.DATABASE_URL);
  // Webhook secrets usually come from a Kubernetes Secret as environment variables.
  const producers = section(raw, 'sources');
  setIf(section(producers, 'github'), 'secret', env.CADENCE_GITHUB_SECRET);
  setIf(section(producers, 'gitlab'), 'token', env.CADENCE_GITLAB_TOKEN);
  setIf(section(producers, 'alertmanager'), 'token', env.CADENCE_ALERTMANAGER_TOKEN);
  setIf(section(producers, 'argocd'), 'token', env.CADENCE_ARGOCD_TOKEN);
  const flags = sources.flags ?? {};
  setIf(server, 'host', flags.host);
  setIf(server, 'port', flags.port);
  setIf(server, 'bodyLimitBytes', flags.bodyLimitBytes);
  setIf(store, 'dataDir', flags.dataDir);
  setIf(store, 'databaseUrl', flags.databaseUrl);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      // An unknown key is named in full (`server.prot`), not by its parent.
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
      // A refused record key (a service named `version`) says why, not just "Invalid key".
      const message =
        issue.code === 'invalid_key'
          ? issue.issues.map((inner) => inner.message).join('; ')
          : issue.message;
      return { field: path.join('.') || 'config', message };
    });
    throw new CadenceError('config-invalid', {
      detail: `invalid configuration: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
      issues,
    });
  }
  return result.data;
}
