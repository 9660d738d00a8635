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
export { createTrafficSteps, type StepsReport } from './traffic-steps.js';
export {
  createDeployer,
  type Deployer,
  type DeployerOptions,
  type DeployOperation,
  type DeployResult,
} from './deployer.js';
export { deployerSettingsSchema } from './schema.js';
// Tokens live in the auth module; these names stay for the deployer's callers.
export { countTokens as countDeployTokens } from '../auth/index.js';
export { createKubeCluster, type Cluster } from './kube-cluster.js';
