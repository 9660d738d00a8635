/**
 * events — everything between a producer's HTTP request and a stored CDEvent: the CloudEvents
 * HTTP binding (binary, structured, batch), CDEvents validation, the durable raw store with its
 * group-commit writer, and the router that feeds raw events through transformers.
 * Transformers themselves live in `sources/`; this module only defines their interface. It also
 * owns making CDEvents (envelope, deterministic ids, deployment facts), for every emitter.
 */
export type { CloudEvent } from './cloud-event.js';
export { isRfc3339 } from './cloud-event.js';
export {
  decodeHttpMessage,
  parseMediaType,
  type HttpMessage,
  type HttpMode,
  type DecodedMessage,
} from './http-binding.js';
export {
  validateCdevent,
  isCdeventType,
  parseCdeventType,
  type ValidCdevent,
  type CdeventValidation,
} from './cdevents/index.js';
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
  REPOSITORY_ANNOTATION,
  REVISION_ANNOTATION,
  type CdeventSubject,
  type ClusterRevision,
  type EmittedKind,
} from './cdevents/index.js';
export {
  admitEvent,
  createIntake,
  checkCdeventPayload,
  wrapCdevent,
  type Intake,
  type IntakeAdmission,
  type IntakeCaller,
  type IntakeResult,
} from './intake.js';
export { createEventWriter, type EventWriter } from './event-writer.js';
export {
  INTERNAL_DOOR,
  insertEvents,
  listEvents,
  findEvent,
  countEvents,
  routerBacklog,
  type Door,
  type StoredEvent,
  type EventFilter,
} from './event-rows.js';
export { insertCdevents, listCdevents, type StoredCdevent } from './cdevent-rows.js';
export { compileRoutingTable, type Route, type RoutingTable } from './routing-table.js';
export { createRouter, type Router, type RouterOptions } from './router.js';
export type { Transformer, TransformOutcome } from './transformer.js';
