import type { KubeConfig } from '@kubernetes/client-node';
import { CadenceError } from '../problem/index.js';
import { kubeClient } from './kube-client.js';
import type { KubeSettings } from './kube-settings.js';

/**
 * The KubeConfig the settings name. A missing file or context is a config error at start-up,
 * not a watcher that silently never connects.
 */
export function loadKubeConfig(settings: Pick<KubeSettings, 'kubeconfig' | 'context'>): KubeConfig {
  const config = new (kubeClient().KubeConfig)();
  try {
    if (settings.kubeconfig) config.loadFromFile(settings.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new CadenceError('config-invalid', {
      field: 'kube.kubeconfig',
      detail: `cannot read kubeconfig ${settings.kubeconfig ?? '(default)'}: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (settings.context) {
    if (!config.getContextObject(settings.context)) {
      throw new CadenceError('config-invalid', {
        field: 'kube.context',
        detail: `kubeconfig has no context ${JSON.stringify(settings.context)}`,
      });
    }
    config.setCurrentContext(settings.context);
  }
  if (!config.getCurrentCluster()) {
    throw new CadenceError('config-invalid', {
      field: 'kube.kubeconfig',
      detail: 'kubeconfig has no current cluster',
    });
  }
  return config;
}

/** The API server address of the current context: what the cluster is called in CDEvents. */
export function clusterServer(config: KubeConfig): string {
  return config.getCurrentCluster()?.server ?? 'kubernetes';
}
