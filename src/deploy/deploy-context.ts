import { join } from 'node:path';
import type { Logger } from '../log/index.js';
import { CadenceError } from '../problem/index.js';
import { createRegistryClient, type RegistryClient } from '../registry/index.js';
import type { Store } from '../store/index.js';
import type { Cluster } from './kube-cluster.js';
import { createManifestCache, type ManifestCache } from './manifest-cache.js';
import { parseManifests } from './manifest-rewrite.js';
import type { DeployContext } from './operation-plan.js';
import type { DeployerSettings, DeployServiceSettings } from './schema.js';

/** The services' settings, with one cached clone and one registry client per service. */
export function createDeployContext(options: {
  store: Store;
  cluster: Cluster;
  logger: Logger;
  settings: DeployerSettings;
}): DeployContext {
  const { settings } = options;
  const caches = new Map<string, ManifestCache>();
  const registries = new Map<string, RegistryClient>();

  function config(service: string): DeployServiceSettings {
    const found = Object.hasOwn(settings.services, service)
      ? settings.services[service]
      : undefined;
    if (!found) {
      throw new CadenceError('not-found', {
        field: 'service',
        detail: `service ${service} is not configured`,
      });
    }
    return found;
  }

  function cache(service: string): ManifestCache {
    let found = caches.get(service);
    if (!found) {
      found = createManifestCache({
        repository: config(service).repository,
        dir: join(settings.cacheDir, `${service}.git`),
      });
      caches.set(service, found);
    }
    return found;
  }

  function registry(service: string): RegistryClient | undefined {
    const configured = config(service).registry;
    if (!configured) return undefined;
    let client = registries.get(service);
    if (!client) {
      client = createRegistryClient(configured);
      registries.set(service, client);
    }
    return client;
  }

  return {
    store: options.store,
    cluster: options.cluster,
    logger: options.logger,
    config,
    cache,
    registry,
    async manifestsAt(service, commit) {
      const files = await cache(service).readManifests(commit, config(service).manifests);
      return files.flatMap((file) => parseManifests(file.text, file.path));
    },
  };
}
