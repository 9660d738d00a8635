/**
 * rollouts — Kubernetes Deployment rollouts: the rules that tell a rollout's phase and progress
 * (pure, table-tested), their record in SQL (one row per Deployment revision, upserted so
 * replicas never double-record), and the watcher that feeds both from the cluster and sends a
 * CDEvent into the intake when a rollout completes or fails, so cluster rollouts count as
 * deployments for DORA. The cluster client itself (kubeconfig, context) is `kube/`'s: the
 * deployer uses it too, and the rollout rules have nothing to do with reaching a cluster.
 */
export { ROLLOUT_PHASES } from './rollout-phase.js';
export {
  latestRollouts,
  liveChangesSince,
  rolloutHistory,
  type LiveRollout,
  type Rollout,
} from './rollout-rows.js';
export { rolloutFeed } from './rollout-feed.js';
export { registerRolloutMetrics } from './rollout-metrics.js';
export { createRolloutWatcher, type RolloutWatcher } from './rollout-watcher.js';
