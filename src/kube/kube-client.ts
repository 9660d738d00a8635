import { createRequire } from 'node:module';
import type * as KubeClientModule from '@kubernetes/client-node';

/** `@kubernetes/client-node`'s exports, as `import * as k8s` would give them. */
export type KubeClient = typeof KubeClientModule;

let loaded: KubeClient | undefined;

/**
 * `@kubernetes/client-node`, loaded on first use rather than when a module importing it is:
 * it costs ~0.3 s and ~70 MB, and every CLI command loads the modules that use it (config's
 * schema imports the deployer's and the sources' settings) while only the server talks to a
 * cluster. Synchronous, so callers stay as they are: `require` of an ES module is on by default
 * from Node 20.19 (the floor), and it returns the same module instance an `import` does, so
 * `instanceof ApiException` holds across both.
 *
 * @example const { AppsV1Api } = kubeClient(); const apps = kubeConfig.makeApiClient(AppsV1Api);
 */
export function kubeClient(): KubeClient {
  loaded ??= createRequire(import.meta.url)('@kubernetes/client-node') as KubeClient;
  return loaded;
}
