/**
 * rollouts — Kubernetes Deployment rollouts: the rules that tell a rollout's phase and progress
 * (pure, table-tested), their record in SQL (one row per Deployment revision, upserted so
 * replicas never double-record), and the watcher that feeds both from the cluster and sends a
 * CDEvent into the intake when a rollout completes or fails, so cluster rollouts count as
 * deployments for DORA. The cluster client itself (kubeconfig, context) is `kube/`'s: the
 * deployer uses it too, and the rollout rules have nothing to do with reaching a cluster.
 */
export {
  observeRollout,
  rolloutPhase,
  rolloutProgress,
  REVISION_ANNOTATION,
  ROLLOUT_PHASES,
  type ReplicaCounts,
  type RolloutObservation,
  type DeploymentCondition,
  type RolloutPhase,
} from './rollout-phase.js';
export {
  recordObservation,
  recordDeletion,
  dueRolloutEvents,
  markRolloutEmitted,
  latestRollouts,
  liveChangesSince,
  rolloutHistory,
  type LiveRollout,
  type Rollout,
  type RolloutFilter,
  type RecordedObservation,
} from './rollout-rows.js';
export { rolloutFeed, type RolloutFeed } from './rollout-feed.js';
export { registerRolloutMetrics } from './rollout-metrics.js';
export { rolloutCdevent } from './rollout-cdevent.js';
export {
  createRolloutWatcher,
  type RolloutWatcher,
  type RolloutWatcherOptions,
} from './rollout-watcher.js';
