/**
 * config — Cadence's configuration: defaults in one file, a YAML file, environment variables and
 * flags merged once at start-up and validated by one schema, then passed down explicitly.
 */
export { defaults } from './defaults.js';
export { routerWorkers, type CadenceConfig } from './schema.js';
export { loadConfig } from './load-config.js';
