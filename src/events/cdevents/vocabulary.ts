import { z } from 'zod';
import { isAbsoluteUri, isRfc3339, isUriReference } from '../cloud-event.js';

/**
 * The CDEvents vocabulary of spec versions 0.3, 0.4 and 0.5, written out by hand from the
 * specification (https://github.com/cdevents/spec, tags v0.3.0, v0.4.1, v0.5.1). The official
 * JSON Schemas are not shipped with Cadence; tests check these tables against them.
 */
export type SpecLine = '0.3' | '0.4' | '0.5';
export const SPEC_LINES: readonly SpecLine[] = ['0.3', '0.4', '0.5'];

// Field kinds shared by every table below.
const text = z.string();
const nonEmpty = z.string().min(1, 'must not be empty');
const uriReference = nonEmpty.refine(isUriReference, 'must be a URI reference');
const uri = z.string().refine(isAbsoluteUri, 'must be an absolute URI');
const nonEmptyUri = nonEmpty.refine(isAbsoluteUri, 'must be an absolute URI');
const timestamp = z.string().refine(isRfc3339, 'must be an RFC 3339 timestamp');

/** A reference to another subject: `{ id, source? }`. */
const reference = z.strictObject({ id: nonEmpty, source: uriReference.optional() });
/** Test references allow any string as source. */
const testReference = z.strictObject({ id: nonEmpty, source: text.optional() });

const testOutcome = (spec: SpecLine) =>
  spec === '0.5'
    ? z.enum(['success', 'failure', 'cancel', 'error'])
    : z.enum(['pass', 'fail', 'cancel', 'error']);
const severity = z.enum(['low', 'medium', 'high', 'critical']);
// Triggers are open objects: producers may add fields.
const trigger = z.looseObject({
  type: z.enum(['manual', 'pipeline', 'event', 'schedule', 'other']).optional(),
  uri: uri.optional(),
});
const testCase = z.strictObject({
  id: nonEmpty,
  version: text.optional(),
  name: text.optional(),
  type: z
    .enum([
      'performance',
      'functional',
      'unit',
      'security',
      'compliance',
      'integration',
      'e2e',
      'other',
    ])
    .optional(),
  uri: uri.optional(),
});
const testSuite = (link: 'uri' | 'url') =>
  z.strictObject({
    id: nonEmpty,
    version: text.optional(),
    name: text.optional(),
    [link]: uri.optional(),
  });

/** `url` (any string) up to 0.4, `uri` (absolute URI) from 0.5. */
const link = (spec: SpecLine, required = false) => {
  const field = spec === '0.5' ? uri : text;
  return { [spec === '0.5' ? 'uri' : 'url']: required ? field : field.optional() };
};

const ticket = (predicate: 'created' | 'updated' | 'closed') => ({
  summary: predicate === 'created' ? text : text.optional(),
  // Known values are listed by the spec, any string is allowed.
  ticketType: text.optional(),
  group: text.optional(),
  creator: predicate === 'created' ? nonEmpty : nonEmpty.optional(),
  assignees: z.array(text).optional(),
  priority: text.optional(),
  labels: z.array(text).optional(),
  milestone: text.optional(),
  uri: uriReference,
  ...(predicate === 'closed' ? { resolution: nonEmpty } : {}),
  ...(predicate === 'created' ? {} : { updatedBy: text.optional() }),
});

export interface EventKind {
  /** The subject type as 0.3/0.4 write it in `subject.type` (`pipelineRun`). */
  subjectType: string;
  /** The event type version in each spec line; absent where the line lacks the event. */
  versions: Partial<Record<SpecLine, string>>;
  content: (spec: SpecLine) => z.ZodRawShape;
  /** Test subjects allow any string as `subject.source` and `context.source`. */
  looseSource?: boolean;
  /** 0.5 dropped `subject.type` everywhere but here, where it stayed optional. */
  keepsSubjectType?: boolean;
}

const v = (v03: string | undefined, v04: string, v05: string) => ({
  ...(v03 ? { '0.3': v03 } : {}),
  '0.4': v04,
  '0.5': v05,
});

const incident = (reported: boolean) => () => ({
  description: text.optional(),
  environment: reference,
  ...(reported ? { ticketURI: nonEmptyUri } : {}),
  service: reference.optional(),
  artifactId: nonEmpty.optional(),
});
const deployment = () => ({ environment: reference, artifactId: nonEmpty });
const repositoryLink = () => ({ repository: reference.optional() });
const repository = (created: boolean) => (spec: SpecLine) => ({
  name: created ? nonEmpty : text.optional(),
  owner: text.optional(),
  ...(spec === '0.5'
    ? { uri: created ? uri : uri.optional(), viewUrl: uri.optional() }
    : { url: created ? nonEmpty : text.optional(), viewUrl: text.optional() }),
});
const environment = (withLink: boolean) => (spec: SpecLine) => ({
  name: text.optional(),
  ...(withLink ? link(spec) : {}),
});
const pipelineRun = (predicate: 'queued' | 'started' | 'finished') => (spec: SpecLine) => ({
  pipelineName: predicate === 'started' ? text : text.optional(),
  ...link(spec, predicate === 'started'),
  ...(predicate === 'finished'
    ? {
        outcome: (spec === '0.5'
          ? z.enum(['success', 'failure', 'cancel', 'error'])
          : text
        ).optional(),
        errors: text.optional(),
      }
    : {}),
});
const taskRun = (finished: boolean) => (spec: SpecLine) => ({
  taskName: text.optional(),
  ...link(spec),
  pipelineRun: reference.optional(),
  ...(finished ? { outcome: text.optional(), errors: text.optional() } : {}),
});
const testCaseRun =
  (predicate: 'queued' | 'started' | 'finished' | 'skipped') => (spec: SpecLine) => ({
    ...(predicate === 'queued' || predicate === 'started' ? { trigger: trigger.optional() } : {}),
    ...(predicate === 'finished'
      ? { outcome: testOutcome(spec), severity: severity.optional(), reason: text.optional() }
      : {}),
    ...(predicate === 'skipped' ? { reason: text.optional() } : {}),
    environment: predicate === 'skipped' ? reference.optional() : reference,
    testSuiteRun: testReference.optional(),
    testCase: testCase.optional(),
  });
const testSuiteRun = (predicate: 'queued' | 'started' | 'finished') => (spec: SpecLine) => ({
  ...(predicate === 'finished'
    ? { outcome: testOutcome(spec), severity: severity.optional(), reason: text.optional() }
    : { trigger: trigger.optional() }),
  environment: reference,
  // The queued event named the suite's link `url` before 0.5.
  testSuite: testSuite(predicate === 'queued' && spec !== '0.5' ? 'url' : 'uri').optional(),
});
const sbom = z.strictObject({ uri: uriReference });

/** Every CDEvent type Cadence validates, keyed `subject.predicate` as in the type string. */
export const EVENT_KINDS: Record<string, EventKind> = {
  'artifact.deleted': {
    subjectType: 'artifact',
    versions: v(undefined, '0.1.0', '0.2.0'),
    content: () => ({ user: nonEmpty.optional() }),
  },
  'artifact.downloaded': {
    subjectType: 'artifact',
    versions: v(undefined, '0.1.0', '0.2.0'),
    content: () => ({ user: nonEmpty.optional() }),
  },
  'artifact.packaged': {
    subjectType: 'artifact',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: (spec) => ({
      change: reference,
      ...(spec === '0.3' ? {} : { sbom: sbom.optional() }),
    }),
  },
  'artifact.published': {
    subjectType: 'artifact',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: (spec): z.ZodRawShape =>
      spec === '0.3' ? {} : { sbom: sbom.optional(), user: nonEmpty.optional() },
  },
  'artifact.signed': {
    subjectType: 'artifact',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: () => ({ signature: nonEmpty }),
  },
  'branch.created': {
    subjectType: 'branch',
    versions: v('0.1.2', '0.2.0', '0.3.0'),
    content: repositoryLink,
  },
  'branch.deleted': {
    subjectType: 'branch',
    versions: v('0.1.2', '0.2.0', '0.3.0'),
    content: repositoryLink,
  },
  'build.queued': {
    subjectType: 'build',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: () => ({}),
  },
  'build.started': {
    subjectType: 'build',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: () => ({}),
  },
  'build.finished': {
    subjectType: 'build',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: () => ({ artifactId: text.optional() }),
  },
  'change.abandoned': {
    subjectType: 'change',
    versions: v('0.1.2', '0.2.0', '0.3.0'),
    content: repositoryLink,
  },
  'change.created': {
    subjectType: 'change',
    versions: v('0.1.2', '0.3.0', '0.4.0'),
    content: (spec) => ({
      ...(spec === '0.3' ? {} : { description: nonEmpty.optional() }),
      ...repositoryLink(),
    }),
  },
  'change.merged': {
    subjectType: 'change',
    versions: v('0.1.2', '0.2.0', '0.3.0'),
    content: repositoryLink,
  },
  'change.reviewed': {
    subjectType: 'change',
    versions: v('0.1.2', '0.2.0', '0.3.0'),
    content: repositoryLink,
  },
  'change.updated': {
    subjectType: 'change',
    versions: v('0.1.2', '0.2.0', '0.3.0'),
    content: repositoryLink,
  },
  'environment.created': {
    subjectType: 'environment',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: environment(true),
  },
  'environment.modified': {
    subjectType: 'environment',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: environment(true),
  },
  'environment.deleted': {
    subjectType: 'environment',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: environment(false),
  },
  'incident.detected': {
    subjectType: 'incident',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: incident(false),
  },
  'incident.reported': {
    subjectType: 'incident',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: incident(true),
  },
  'incident.resolved': {
    subjectType: 'incident',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: incident(false),
  },
  'pipelinerun.queued': {
    subjectType: 'pipelineRun',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: pipelineRun('queued'),
  },
  'pipelinerun.started': {
    subjectType: 'pipelineRun',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: pipelineRun('started'),
  },
  'pipelinerun.finished': {
    subjectType: 'pipelineRun',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: pipelineRun('finished'),
  },
  'repository.created': {
    subjectType: 'repository',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: repository(true),
  },
  'repository.modified': {
    subjectType: 'repository',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: repository(false),
  },
  'repository.deleted': {
    subjectType: 'repository',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: repository(false),
  },
  'service.deployed': {
    subjectType: 'service',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: deployment,
  },
  'service.upgraded': {
    subjectType: 'service',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: deployment,
  },
  'service.rolledback': {
    subjectType: 'service',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: deployment,
  },
  'service.removed': {
    subjectType: 'service',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: () => ({ environment: reference.optional() }),
  },
  'service.published': {
    subjectType: 'service',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: () => ({ environment: reference.optional() }),
  },
  'taskrun.started': {
    subjectType: 'taskRun',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: taskRun(false),
  },
  'taskrun.finished': {
    subjectType: 'taskRun',
    versions: v('0.1.1', '0.2.0', '0.3.0'),
    content: taskRun(true),
  },
  'testcaserun.queued': {
    subjectType: 'testCaseRun',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: testCaseRun('queued'),
    looseSource: true,
  },
  'testcaserun.started': {
    subjectType: 'testCaseRun',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: testCaseRun('started'),
    looseSource: true,
  },
  'testcaserun.finished': {
    subjectType: 'testCaseRun',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: testCaseRun('finished'),
    looseSource: true,
  },
  'testcaserun.skipped': {
    subjectType: 'testCaseRun',
    versions: v(undefined, '0.1.0', '0.2.0'),
    content: testCaseRun('skipped'),
    looseSource: true,
  },
  'testsuiterun.queued': {
    subjectType: 'testSuiteRun',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: testSuiteRun('queued'),
    looseSource: true,
  },
  'testsuiterun.started': {
    subjectType: 'testSuiteRun',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: testSuiteRun('started'),
    looseSource: true,
  },
  'testsuiterun.finished': {
    subjectType: 'testSuiteRun',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: testSuiteRun('finished'),
    looseSource: true,
  },
  'testoutput.published': {
    subjectType: 'testOutput',
    versions: v('0.1.0', '0.2.0', '0.3.0'),
    content: () => ({
      outputType: z.enum(['report', 'video', 'image', 'log', 'other']),
      format: text,
      uri: uri.optional(),
      testCaseRun: testReference.optional(),
    }),
    looseSource: true,
  },
  'ticket.created': {
    subjectType: 'ticket',
    versions: v(undefined, '0.1.0', '0.2.0'),
    content: () => ticket('created'),
  },
  'ticket.updated': {
    subjectType: 'ticket',
    versions: v(undefined, '0.1.0', '0.2.0'),
    content: () => ticket('updated'),
  },
  'ticket.closed': {
    subjectType: 'ticket',
    versions: v(undefined, '0.1.0', '0.2.0'),
    content: () => ticket('closed'),
    keepsSubjectType: true,
  },
};

// Links between events (0.4 and later): https://github.com/cdevents/spec/blob/v0.4.1/links.md
const contextReference = z.strictObject({ contextId: nonEmpty });
const tags = z.record(z.string(), z.unknown());
const embeddedLink = z.discriminatedUnion('linkType', [
  z.strictObject({
    linkType: z.literal('END'),
    from: z.looseObject({ contextId: nonEmpty }).optional(),
    tags: tags.optional(),
  }),
  z.strictObject({
    linkType: z.literal('PATH'),
    from: z.looseObject({ contextId: nonEmpty }),
    tags: tags.optional(),
  }),
  z.strictObject({
    linkType: z.literal('RELATION'),
    linkKind: nonEmpty,
    target: contextReference.partial().loose(),
    tags: tags.optional(),
  }),
]);

/** The `context` object of a spec line; `type` is checked separately against the table. */
export function contextShape(spec: SpecLine, looseSource: boolean): z.ZodRawShape {
  return {
    [spec === '0.5' ? 'specversion' : 'version']: nonEmpty,
    id: nonEmpty,
    source: looseSource ? nonEmpty : uriReference,
    type: nonEmpty,
    timestamp,
    ...(spec === '0.3'
      ? {}
      : {
          schemaUri: nonEmptyUri.optional(),
          chainId: nonEmpty.optional(),
          links: z.array(embeddedLink).optional(),
        }),
  };
}

/** The `subject` object of a spec line for one event kind. */
export function subjectShape(spec: SpecLine, kind: EventKind): z.ZodRawShape {
  const typeField = z.literal(kind.subjectType, {
    error: `must be "${kind.subjectType}"`,
  });
  return {
    id: nonEmpty,
    source: (kind.looseSource ? text : uriReference).optional(),
    ...(spec !== '0.5'
      ? { type: typeField }
      : kind.keepsSubjectType
        ? { type: typeField.optional() }
        : {}),
    content: z.strictObject(kind.content(spec)),
  };
}

export const customDataShape: z.ZodRawShape = {
  customData: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  customDataContentType: text.optional(),
};
