/**
 * dora — the DORA metrics. CDEvents stored by the router are projected into facts
 * (deployments, changes with their commits, incidents); the delivery rules link them (which
 * commits a deployment delivered, which deployments failed, when service was restored, which
 * deployments were rework); pure functions compute the five metrics, their buckets and their
 * DORA tiers. Every rule is written down in docs/metrics.md.
 */
export {
  factFromCdevent,
  type Fact,
  type DeploymentFact,
  type ChangeFact,
  type IncidentFact,
  type CdeventRecord,
} from './facts.js';
export {
  linkDeliveries,
  defaultDeliveryRules,
  type Delivery,
  type DeliveryRules,
} from './delivery.js';
export {
  metricsFromInputs,
  type DoraMetrics,
  type BucketedMetrics,
  type Distribution,
  type Rate,
  type MetricInputs,
} from './metrics.js';
export {
  identifyDeployments,
  sameDeployment,
  sameRevision,
  SAME_DEPLOYMENT_WINDOW_MS,
  type IdentifiedDeployment,
} from './deployment-identity.js';
export { calendarDaysBetween } from './metrics.js';
export { queryMetricInputs, type MetricScope, type Grouping } from './metric-queries.js';
export { refreshDeliveries } from './delivery-rows.js';
export { defaultDoraSettings, type DoraSettings } from './settings.js';
export { classify, tierOf, TIER_BANDS, REPORT_YEARS, type Tier, type ReportYear } from './tiers.js';
export { projectFacts } from './projector.js';
export {
  metricsReport,
  metricsPerStream,
  type StreamMetrics,
  deployFrequency,
  listStreams,
  type MetricsQuery,
  type MetricsReport,
} from './report.js';
export {
  listDeployments,
  listIncidents,
  type TimelineQuery,
  type TimelineDeployment,
  type TimelineIncident,
  type TimelineIncidentRow,
} from './deployment-timeline.js';
