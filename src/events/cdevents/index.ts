/**
 * CDEvents, both ways. Validation for spec versions 0.3, 0.4 and 0.5: the vocabulary written out
 * as zod schemas (vocabulary.ts) and one entry point that picks the schema from the event's
 * declared spec version and type, and reports every problem with the path of the field. Making:
 * the envelope, deterministic ids and spec version of every CDEvent Cadence emits, and the
 * deployment facts (purls, revisions, `customData.cadence`) its emitters share.
 */
export { isCdeventType, parseCdeventType, type CdeventType } from './cdevent-type.js';
export {
  validateCdevent,
  supportedCdeventTypes,
  type ValidCdevent,
  type CdeventValidation,
  type CdeventIssue,
} from './validate-cdevent.js';
export { SPEC_LINES, type SpecLine } from './vocabulary.js';
export {
  cdeventEnvelope,
  deterministicId,
  EMITTED_SPEC_VERSION,
  type CdeventSubject,
  type EmittedKind,
} from './emitted-cdevent.js';
export {
  clusterRevision,
  deployedArtifactId,
  deploymentFacts,
  gitRepositoryPath,
  imageToPurl,
  revisionFromTag,
  REPOSITORY_ANNOTATION,
  REVISION_ANNOTATION,
  type ClusterRevision,
} from './deployment-facts.js';
