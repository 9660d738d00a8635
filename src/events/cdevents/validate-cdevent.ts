import { z } from 'zod';
import { parseCdeventType } from './cdevent-type.js';
import {
  contextShape,
  customDataShape,
  EVENT_KINDS,
  SPEC_LINES,
  subjectShape,
  type EventKind,
  type SpecLine,
} from './vocabulary.js';

/** A CDEvent that passed validation, with the parts Cadence indexes it by. */
export interface ValidCdevent {
  /** The spec version the event declares (`0.5.1`). */
  specVersion: string;
  spec: SpecLine;
  type: string;
  /** Lower-case subject from the type string (`service`, `pipelinerun`). */
  subjectType: string;
  predicate: string;
  id: string;
  source: string;
  timestamp: string;
  /** The whole event as received. */
  event: Record<string, unknown>;
}

export interface CdeventIssue {
  /** Dotted path inside the CDEvent (`context.timestamp`, `subject.content.environment.id`). */
  path: string;
  message: string;
}

export type CdeventValidation =
  { ok: true; value: ValidCdevent } | { ok: false; issues: CdeventIssue[] };

const invalid = (path: string, message: string): CdeventValidation => ({
  ok: false,
  issues: [{ path, message }],
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// One compiled schema per (spec line, event kind), built on first use.
const schemas = new Map<string, z.ZodType>();

function schemaFor(spec: SpecLine, key: string): z.ZodType {
  const cacheKey = `${spec}/${key}`;
  let schema = schemas.get(cacheKey);
  if (!schema) {
    const kind = EVENT_KINDS[key]!;
    schema = z.strictObject({
      context: z.strictObject(contextShape(spec, kind.looseSource ?? false)),
      subject: z.strictObject(subjectShape(spec, kind)),
      ...customDataShape,
    });
    schemas.set(cacheKey, schema);
  }
  return schema;
}

const versionField = (spec: SpecLine) => (spec === '0.5' ? 'specversion' : 'version');

/**
 * The spec line an event declares: `context.specversion` (0.5) or `context.version` (0.3, 0.4).
 * When neither is there, the type's own version tells which field was missing.
 */
function specLineOf(
  context: Record<string, unknown>,
  kind: EventKind,
  typeVersion: string,
): { spec: SpecLine; version: string } | CdeventIssue {
  const field = 'specversion' in context ? 'specversion' : 'version';
  const version = context[field];
  if (version === undefined) {
    const implied = SPEC_LINES.find((line) => kind.versions[line] === typeVersion) ?? '0.5';
    return { path: `context.${versionField(implied)}`, message: 'is required' };
  }
  const path = `context.${field}`;
  if (typeof version !== 'string') return { path, message: 'must be a string' };
  const spec = SPEC_LINES.find((line) => version === line || version.startsWith(`${line}.`));
  if (!spec) {
    const supported = SPEC_LINES.join(', ');
    return {
      path,
      message: `spec version ${JSON.stringify(version)} is not supported (${supported})`,
    };
  }
  if (field !== versionField(spec)) {
    return { path, message: `spec ${spec} names this field context.${versionField(spec)}` };
  }
  return { spec, version };
}

function describeIssue(issue: z.core.$ZodIssue): CdeventIssue[] {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: at ? `${at}.${key}` : key,
      message: 'is not a property of this event type',
    }));
  }
  return [{ path: at || '(event)', message: issue.message }];
}

/**
 * Validates a CDEvent against the schema of its declared spec version and event type.
 * Every problem is reported with the path of the offending field.
 * `schemaChecked`: the body already passed this check (the intake's, before it was stored), so
 * only its type and context are read again: the schema is the expensive part, and the router
 * would otherwise pay it a second time for every CDEvent.
 */
export function validateCdevent(
  body: unknown,
  options: { schemaChecked?: boolean } = {},
): CdeventValidation {
  if (!isObject(body)) return invalid('(event)', 'a CDEvent must be a JSON object');
  const context = body.context;
  if (!isObject(context)) return invalid('context', 'is required and must be an object');
  if (context.type === undefined) return invalid('context.type', 'is required');
  if (typeof context.type !== 'string') return invalid('context.type', 'must be a string');
  const type = parseCdeventType(context.type);
  const key = type && `${type.subject}.${type.predicate}`;
  const kind = key ? EVENT_KINDS[key] : undefined;
  if (!type || !key || !kind) {
    return invalid('context.type', `${JSON.stringify(context.type)} is not a CDEvent type`);
  }
  const line = specLineOf(context, kind, type.version);
  if ('path' in line) return { ok: false, issues: [line] };
  const { spec, version } = line;
  const expected = kind.versions[spec];
  if (!expected) {
    return invalid('context.type', `${key} does not exist in CDEvents spec ${spec}`);
  }
  if (type.version !== expected) {
    return invalid(
      'context.type',
      `spec ${spec} defines dev.cdevents.${key}.${expected}, not version ${type.version}`,
    );
  }

  const parsed = options.schemaChecked
    ? ({ success: true } as const)
    : schemaFor(spec, key).safeParse(body, {
        error: (issue) => (issue.input === undefined ? 'is required' : undefined),
      });
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.flatMap(describeIssue) };
  return {
    ok: true,
    value: {
      specVersion: version,
      spec,
      type: context.type,
      subjectType: type.subject,
      predicate: type.predicate,
      id: context.id as string,
      source: context.source as string,
      timestamp: context.timestamp as string,
      event: body,
    },
  };
}

/** Every event type string Cadence accepts, per spec line. */
export function supportedCdeventTypes(spec: SpecLine): string[] {
  return Object.entries(EVENT_KINDS)
    .filter(([, kind]) => kind.versions[spec])
    .map(([key, kind]) => `dev.cdevents.${key}.${kind.versions[spec]}`)
    .sort();
}
