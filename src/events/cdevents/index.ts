/**
 * CDEvents validation for spec versions 0.3, 0.4 and 0.5: the vocabulary written out as zod
 * schemas (vocabulary.ts) and one entry point that picks the schema from the event's declared
 * spec version and type, and reports every problem with the path of the field.
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
