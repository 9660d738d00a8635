/**
 * deploy — the deployer: services configured in YAML, deployed at a commit or tag from manifests
 * in their git repository (a cached bare clone), rewritten for a track (stable or a `-canary`
 * copy), checked against the registry, dry-run and then server-side applied to Kubernetes.
 * Operations on one service are serialized (in process and across replicas), audited in SQL,
 * emitted as CDEvents into the intake (so they count in DORA), and failures go to a webhook.
 * Tokens scoped to services and actions guard it. `promote` and `rollback` are the interface
 * canary analysis calls.
 */
export { analysisCanaryControl } from './analysis-canary-control.js';
export { createTrafficSteps, type StepsReport, type TrafficSteps } from './traffic-steps.js';
export {
  createDeployer,
  type CanaryExpectation,
  type Deployer,
  type DeployerOptions,
  type DeployOperation,
  type DeployRef,
  type DeployResult,
  type RevisionSummary,
  type ServiceSummary,
} from './deployer.js';
export {
  deployerSettingsSchema,
  deployServiceSchema,
  type DeployerSettings,
  type DeployServiceSettings,
} from './schema.js';
// Tokens live in the auth module; these names stay for the deployer's callers.
export {
  authenticate,
  authorize,
  countTokens as countDeployTokens,
  createToken as createDeployToken,
  mayAct,
  INSECURE_DEV_PRINCIPAL,
  type Principal as DeployPrincipal,
} from '../auth/index.js';
export { createKubeCluster, FIELD_MANAGER, type Cluster } from './kube-cluster.js';
export {
  createWebhookNotifier,
  noopNotifier,
  type FailureNotifier,
  type Notification,
} from './failure-notifier.js';
export {
  parseManifests,
  rewriteManifests,
  untaggedImages,
  type Manifest,
  type ObjectRef,
  type Track,
} from './manifest-rewrite.js';
export { createManifestCache, type ManifestCache } from './manifest-cache.js';
