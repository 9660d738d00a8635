/**
 * kube — how Cadence reaches a Kubernetes cluster: the `kube` config section and the kubeconfig
 * it names, loaded through @kubernetes/client-node exactly as kubectl would read it (a file, else
 * $KUBECONFIG / ~/.kube/config, else the in-cluster service account). Modules that talk to the
 * cluster (the rollout watcher in `rollouts/`, the deployer) take the KubeConfig from here, and
 * every module that reads a Deployment reads it with the one schema here.
 */
export { kubeSettingsSchema } from './kube-settings.js';
export { loadKubeConfig, clusterServer } from './kube-config.js';
export { kubeClient, type KubeClient } from './kube-client.js';
export { deploymentSchema, type DeploymentObject } from './deployment-object.js';

/**
 * The field manager of everything Cadence's deployer applies (server-side apply). The rollout
 * watcher reads it back from managedFields: those Deployments' deployments are reported by the
 * deployer itself.
 */
export const CADENCE_FIELD_MANAGER = 'cadence';
