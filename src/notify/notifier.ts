/**
 * What a notifier is told: one line and Slack blocks for people, the facts for machines. The
 * module that noticed something (a deploy that failed, a canary's verdict) writes all three; each
 * target takes what its format carries.
 */
export interface Notice {
  /** What happened (`canary.verdict`, `deploy.failed`): the `kind` of a webhook's JSON. */
  kind: string;
  /** One line for people: Slack's notification text. */
  text: string;
  /** Slack blocks, for clients that render them. */
  blocks?: unknown[] | undefined;
  /** The facts, sent to a webhook as `{ kind, ...facts }`. */
  facts?: Record<string, unknown> | undefined;
}

/**
 * Where notices go. `notify` never throws: a target that is down is logged, and never holds up
 * or fails the operation it reports (a deploy, a rollback).
 */
export interface Notifier {
  readonly type: string;
  notify(notice: Notice): Promise<void>;
}
