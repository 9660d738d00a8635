import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Queryable } from '../store/index.js';
import { ROLLOUT_PHASES } from './rollout-phase.js';
import { completedDurations, latestRollouts } from './rollout-rows.js';

/** Buckets of `cadence_rollout_duration_seconds`: 5 s to an hour, rollouts' usual spread. */
export const ROLLOUT_DURATION_BUCKETS = [5, 10, 30, 60, 120, 300, 600, 1800, 3600];

const REPLICA_KINDS = ['desired', 'updated', 'ready', 'available'] as const;

/**
 * The rollout series of `GET /metrics`, in kube-state-metrics' style (its
 * `kube_deployment_spec_replicas`, `…_status_replicas_updated`, `…_available`), from the live
 * view at scrape time, so a deleted Deployment's series are gone at the next scrape:
 *
 * - `cadence_deployment_replicas{namespace,deployment,kind}`: desired|updated|ready|available
 * - `cadence_rollout_phase{namespace,deployment,phase}`: 1 for the current phase, 0 for the others
 * - `cadence_rollout_progress_ratio{namespace,deployment}`: updated / desired (1 when complete)
 * - `cadence_rollout_progress`: the same, its old name, kept for one release (deprecated)
 * - `cadence_rollout_duration_seconds{namespace,deployment}`: histogram of completed rollouts'
 *   durations (start to end), every recorded one, so its counts only grow while it lives
 *
 * Returns the refresh to run before each scrape.
 */
export function registerRolloutMetrics(registry: Registry, store: Queryable): () => Promise<void> {
  const labelNames = ['namespace', 'deployment'] as const;
  const replicas = new Gauge({
    name: 'cadence_deployment_replicas',
    help: 'Replicas of each watched Deployment, by kind: desired (spec), updated, ready, available',
    labelNames: [...labelNames, 'kind'] as const,
    registers: [registry],
  });
  const phase = new Gauge({
    name: 'cadence_rollout_phase',
    help: "Each watched Deployment's rollout phase: 1 for the current one (progressing, complete, failed)",
    labelNames: [...labelNames, 'phase'] as const,
    registers: [registry],
  });
  const ratio = new Gauge({
    name: 'cadence_rollout_progress_ratio',
    help: 'Rollout progress of each watched Deployment: updated / desired replicas (1 when complete)',
    labelNames,
    registers: [registry],
  });
  const legacy = new Gauge({
    name: 'cadence_rollout_progress',
    help: 'Deprecated: cadence_rollout_progress_ratio under its old name, removed in the next release',
    labelNames,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'cadence_rollout_duration_seconds',
    help: 'Duration of completed rollouts, first seen progressing to complete',
    labelNames,
    buckets: ROLLOUT_DURATION_BUCKETS,
    registers: [registry],
  });

  return async function refresh() {
    const live = await latestRollouts(store, { limit: 10_000 });
    const finished = await completedDurations(store);
    for (const metric of [replicas, phase, ratio, legacy]) metric.reset();
    durations.reset();
    for (const rollout of live) {
      const labels = { namespace: rollout.namespace, deployment: rollout.deployment };
      for (const kind of REPLICA_KINDS) replicas.set({ ...labels, kind }, rollout[kind]);
      for (const name of ROLLOUT_PHASES) {
        phase.set({ ...labels, phase: name }, rollout.phase === name ? 1 : 0);
      }
      ratio.set(labels, rollout.progress);
      legacy.set(labels, rollout.progress);
    }
    for (const { namespace, deployment, seconds } of finished) {
      durations.observe({ namespace, deployment }, seconds);
    }
  };
}
