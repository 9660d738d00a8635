/**
 * discovery — how a CLI finds the server that holds an embedded data directory: the server
 * writes its URL and a local-only credential into `cadence-server.json` there (mode 0600),
 * removes it on a clean exit, and a file left by a killed server is recognized by the data
 * directory's lock (its holder is gone) and ignored.
 */
export {
  DISCOVERY_FILE,
  LOCAL_PRINCIPAL_NAME,
  newLocalCredential,
  readDiscovery,
  removeDiscovery,
  writeDiscovery,
  type Discovery,
} from './discovery-file.js';
