/** A CDEvent type string split into its parts: `dev.cdevents.<subject>.<predicate>.<version>`. */
export interface CdeventType {
  /** Lower-case subject, as in the type string (`pipelinerun`, `service`). */
  subject: string;
  predicate: string;
  /** The event type's own semantic version (`0.3.0`), not the spec version. */
  version: string;
}

// https://github.com/cdevents/spec/blob/v0.5.1/spec.md#type: the version may carry a pre-release.
const CDEVENT_TYPE = /^dev\.cdevents\.([a-z]+)\.([a-z]+)\.(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;

export function parseCdeventType(type: string): CdeventType | undefined {
  const match = CDEVENT_TYPE.exec(type);
  if (!match) return undefined;
  return { subject: match[1]!, predicate: match[2]!, version: match[3]! };
}

/** True for any type in the CDEvents namespace, valid or not: such events must carry a CDEvent. */
export function isCdeventType(type: string): boolean {
  return type.startsWith('dev.cdevents.');
}
