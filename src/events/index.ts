/**
 * events — everything between a producer's HTTP request and a stored CDEvent: the CloudEvents
 * HTTP binding (binary, structured, batch), CDEvents validation, the durable raw store with its
 * group-commit writer, and the router that feeds raw events through transformers.
 * Transformers themselves live in `sources/`; this module only defines their interface. It also
 * owns making CDEvents (envelope, deterministic ids, deployment facts), for every emitter.
 */
export type { CloudEvent } from './cloud-event.js';
export { isRfc3339 } from './cloud-event.js';
export { parseJson, parseJsonObject, parseMediaType, type HttpMessage } from './http-binding.js';
export { validateCdevent } from './cdevents/index.js';
// Making CDEvents: every emitter (transformers, rollout watcher, deployer, analysis) uses these.
export {
  cdeventEnvelope,
  clusterRevision,
  deployedArtifactId,
  deploymentFacts,
  deterministicId,
  EMITTED_SPEC_VERSION,
  gitRepositoryPath,
  imageToPurl,
  revisionFromTag,
  type CdeventSubject,
  type EmittedKind,
} from './cdevents/index.js';
export { createIntake, wrapCdevent, type Intake, type IntakeCaller } from './intake.js';
export { createEventWriter } from './event-writer.js';
export { createBacklogGate, type BacklogGate } from './backlog-gate.js';
export { listEvents, findEvent, routerBacklog, type StoredEvent } from './event-rows.js';
export { listCdevents, type StoredCdevent } from './cdevent-rows.js';
export { compileRoutingTable } from './routing-table.js';
export { createRouter, type Router } from './router.js';
export type { Transformer, TransformOutcome } from './transformer.js';
