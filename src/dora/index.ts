/**
 * dora — the DORA metrics. CDEvents stored by the router are projected into facts
 * (deployments, changes with their commits, incidents); the delivery rules link them (which
 * commits a deployment delivered, which deployments failed, when service was restored, which
 * deployments were rework); pure functions compute the five metrics, their buckets and their
 * DORA tiers. Every rule is written down in docs/metrics.md.
 */
export { type Distribution, type Rate } from './metrics.js';
export { refreshDeliveries } from './delivery-rows.js';
export { defaultDoraSettings, type DoraSettings } from './settings.js';
export { createBackgroundProjector, type BackgroundProjector } from './background-projector.js';
export {
  metricsReport,
  metricsPerStream,
  deployFrequency,
  listStreams,
  type MetricsQuery,
  type MetricsReport,
} from './report.js';
export { listDeployments, listIncidents } from './deployment-timeline.js';
