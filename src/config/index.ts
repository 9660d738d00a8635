/**
 * config — Cadence's configuration: defaults in one file, a YAML file, environment variables and
 * flags merged once at start-up and validated by one schema, then passed down explicitly.
 */
export { defaults } from './defaults.js';
export { configSchema, type CadenceConfig, type ConfigInput } from './schema.js';
export { loadConfig, type ConfigSources } from './load-config.js';
