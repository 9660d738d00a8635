import picomatch from 'picomatch';
import { z } from 'zod';
import {
  isRfc3339,
  cdeventEnvelope,
  deployedArtifactId,
  deploymentFacts,
  gitRepositoryPath,
  imageToPurl,
  type StoredEvent,
  type Transformer,
  type TransformOutcome,
  type CdeventSubject,
  type EmittedKind,
} from '../events/index.js';
import { eventTime, nothing } from './delivery-cdevents.js';
import { describeIssue } from './webhook-receiver.js';

/**
 * Tekton Pipelines CloudEvents → CDEvents.
 *
 * Tekton posts `dev.tekton.event.pipelinerun.{started,running,unknown,successful,failed}.v1`
 * CloudEvents whose data is `{ "pipelineRun": <the PipelineRun object> }` (the controller converts
 * it to v1beta1 before sending; the fields read here are the same in v1).
 * https://tekton.dev/docs/pipelines/events/ and pkg/reconciler/events/cloudevent in tektoncd/pipeline.
 *
 * - started → `pipelinerun.started`; successful / failed → `pipelinerun.finished` with its outcome;
 *   running / unknown say nothing new.
 * - A finished run of a deploy pipeline (its name matches `deployPipelines`) is also a deployment:
 *   `service.deployed` at its completion time, with the outcome, revision and repository taken
 *   from the run's params. A cancelled run is not a deployment attempt.
 * - A successful run that pushed an image (the `IMAGE_URL` and `IMAGE_DIGEST` results Tekton
 *   Chains reads) is a build: `artifact.packaged` of the image by digest, built from the run's
 *   revision, so a Deployment running that digest gets the commit's lead time.
 */

export const tektonSettingsSchema = z.strictObject({
  /** Globs over pipeline names: a finished run of a matching pipeline is a deployment. */
  deployPipelines: z.array(z.string().min(1)).default(['*deploy*']),
  /** The param naming the deployed service (else the label `app.kubernetes.io/name`). */
  serviceParam: z.string().min(1).default('service'),
  /** The param naming the environment (else the PipelineRun's namespace). */
  environmentParam: z.string().min(1).default('environment'),
  /** Params holding the deployed git revision, first present wins. */
  revisionParams: z.array(z.string().min(1)).default(['revision', 'git-revision', 'commit']),
  /** Params holding the git repository's URL, first present wins. */
  repositoryParams: z.array(z.string().min(1)).default(['git-url', 'repo-url']),
  /** Params holding the deployed container image, first present wins. */
  imageParams: z.array(z.string().min(1)).default(['image']),
  /** Tekton Dashboard's address; when set, CDEvents link to the run there. */
  dashboardUrl: z.url().optional(),
});
export type TektonSettings = z.infer<typeof tektonSettingsSchema>;

const timestamp = z.string().refine(isRfc3339, 'must be an RFC 3339 timestamp');

// Read permissively: the PipelineRun is Tekton's, only the fields used are declared.
const pipelineRunSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1).default('default'),
    uid: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z
    .looseObject({
      pipelineRef: z.looseObject({ name: z.string().min(1).optional() }).optional(),
      // A param value is a string, an array or an object; only strings are read.
      params: z.array(z.looseObject({ name: z.string(), value: z.unknown() })).optional(),
    })
    .optional(),
  status: z
    .looseObject({
      conditions: z
        .array(
          z.looseObject({
            type: z.string(),
            status: z.string(),
            reason: z.string().optional(),
            message: z.string().optional(),
            lastTransitionTime: timestamp.optional(),
          }),
        )
        .optional(),
      startTime: timestamp.optional(),
      completionTime: timestamp.optional(),
      // v1beta1 (what the events carry) names them pipelineResults, v1 results.
      pipelineResults: z.array(z.looseObject({ name: z.string(), value: z.unknown() })).optional(),
      results: z.array(z.looseObject({ name: z.string(), value: z.unknown() })).optional(),
    })
    .optional(),
});
export type PipelineRunObject = z.infer<typeof pipelineRunSchema>;

const tektonDataSchema = z.looseObject({ pipelineRun: pipelineRunSchema });

const TYPE = /^dev\.tekton\.event\.pipelinerun\.(started|running|unknown|successful|failed)\.v1$/;
type RunEvent = 'started' | 'running' | 'unknown' | 'successful' | 'failed';

// Reasons of a `Succeeded=False` condition that mean someone stopped the run, not that it failed.
// https://tekton.dev/docs/pipelines/pipelineruns/#monitoring-execution-status
const CANCELLED_REASONS = new Set([
  'Cancelled',
  'CancelledRunningFinally',
  'StoppedRunningFinally',
]);

type Outcome = 'success' | 'failure' | 'cancel';

/** The pipeline a run runs: its pipelineRef, else Tekton's label (embedded pipelineSpec), else the run. */
export function pipelineName(run: PipelineRunObject): string {
  return (
    run.spec?.pipelineRef?.name ?? run.metadata.labels?.['tekton.dev/pipeline'] ?? run.metadata.name
  );
}

/** The first of the named params that has a non-empty string value. */
export function stringParam(run: PipelineRunObject, names: readonly string[]): string | undefined {
  const params = run.spec?.params ?? [];
  for (const name of names) {
    const value = params.find((param) => param.name === name)?.value;
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

function finishedOutcome(run: PipelineRunObject, event: 'successful' | 'failed'): Outcome {
  if (event === 'successful') return 'success';
  const reason = run.status?.conditions?.find((c) => c.type === 'Succeeded')?.reason;
  return reason && CANCELLED_REASONS.has(reason) ? 'cancel' : 'failure';
}

function runUri(run: PipelineRunObject, settings: TektonSettings): string | undefined {
  if (!settings.dashboardUrl) return undefined;
  const { namespace, name } = run.metadata;
  // Tekton Dashboard's route for one PipelineRun.
  return `${settings.dashboardUrl.replace(/\/+$/, '')}/#/namespaces/${encodeURIComponent(namespace)}/pipelineruns/${encodeURIComponent(name)}`;
}

interface RunContext {
  event: StoredEvent;
  run: PipelineRunObject;
  settings: TektonSettings;
  key: string;
}

function cdevent(
  context: RunContext,
  kind: EmittedKind,
  predicate: string,
  at: string,
  subject: CdeventSubject,
  customData?: Record<string, unknown>,
): Record<string, unknown> {
  return cdeventEnvelope({
    producer: 'tekton',
    key: [context.key, predicate],
    kind,
    source: context.event.source,
    timestamp: at,
    subject,
    customData,
  });
}

function started(context: RunContext): Record<string, unknown> {
  const { run, settings, event } = context;
  const { namespace, name } = run.metadata;
  return cdevent(
    context,
    'pipelinerun.started',
    'started',
    run.status?.startTime ?? eventTime(event),
    {
      id: `${namespace}/${name}`,
      content: {
        pipelineName: pipelineName(run),
        // The 0.5 spec requires a URI for a started run; without a dashboard, a URN names it.
        uri:
          runUri(run, settings) ??
          `urn:tekton:pipelinerun:${encodeURIComponent(namespace)}:${encodeURIComponent(name)}`,
      },
    },
  );
}

function completionTime(context: RunContext): string {
  const { run, event } = context;
  const condition = run.status?.conditions?.find((c) => c.type === 'Succeeded');
  return run.status?.completionTime ?? condition?.lastTransitionTime ?? eventTime(event);
}

function finished(context: RunContext, outcome: Outcome): Record<string, unknown> {
  const { run, settings } = context;
  const { namespace, name } = run.metadata;
  const uri = runUri(run, settings);
  const message = run.status?.conditions?.find((c) => c.type === 'Succeeded')?.message;
  return cdevent(context, 'pipelinerun.finished', 'finished', completionTime(context), {
    id: `${namespace}/${name}`,
    content: {
      pipelineName: pipelineName(run),
      ...(uri ? { uri } : {}),
      outcome,
      ...(outcome !== 'success' && message ? { errors: message } : {}),
    },
  });
}

/** A string result of the run (v1beta1 `pipelineResults` or v1 `results`). */
function stringResult(run: PipelineRunObject, name: string): string | undefined {
  const results = [...(run.status?.pipelineResults ?? []), ...(run.status?.results ?? [])];
  const value = results.find((result) => result.name === name)?.value;
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

/**
 * The `artifact.packaged` of a run that pushed an image (results `IMAGE_URL`, `IMAGE_DIGEST`,
 * as Tekton Chains reads them), built from the run's revision; or why there is none.
 */
function packaged(context: RunContext): { cdevent?: Record<string, unknown>; note?: string } {
  const { run, settings } = context;
  const url = stringResult(run, 'IMAGE_URL');
  const digest = stringResult(run, 'IMAGE_DIGEST');
  if (!url || !digest) return {};
  const image = `${url.split('@')[0]}@${digest}`;
  const revision = stringParam(run, settings.revisionParams);
  if (!revision) {
    return {
      note: `built ${image} but names no revision param (${settings.revisionParams.join(', ')}): no build recorded`,
    };
  }
  const repositoryUrl = stringParam(run, settings.repositoryParams);
  return {
    cdevent: cdevent(
      context,
      'artifact.packaged',
      'packaged',
      completionTime(context),
      {
        id: imageToPurl(image),
        content: {
          change: { id: revision, ...(repositoryUrl ? { source: repositoryUrl } : {}) },
        },
      },
      {
        cadence: {
          revision,
          ...(repositoryUrl ? { repository: gitRepositoryPath(repositoryUrl) } : {}),
        },
      },
    ),
  };
}

/** Whether runs of this pipeline deploy, by the configured globs. */
export function isDeployPipeline(name: string, settings: Pick<TektonSettings, 'deployPipelines'>) {
  return settings.deployPipelines.some((glob) => picomatch.isMatch(name, glob, { dot: true }));
}

/** The `service.deployed` of a finished deploy run, or why there is none. */
function deployed(
  context: RunContext,
  outcome: 'success' | 'failure',
): { cdevent?: Record<string, unknown>; notes: string[] } {
  const { run, settings } = context;
  const { namespace, labels } = run.metadata;
  const notes: string[] = [];

  let service = stringParam(run, [settings.serviceParam]);
  if (!service) {
    service = labels?.['app.kubernetes.io/name'];
    if (!service) {
      return {
        notes: [
          `deploy run names no service (no param "${settings.serviceParam}", no label app.kubernetes.io/name): no deployment recorded`,
        ],
      };
    }
    notes.push(`service from label app.kubernetes.io/name (no param "${settings.serviceParam}")`);
  }
  let environment = stringParam(run, [settings.environmentParam]);
  if (!environment) {
    environment = namespace;
    notes.push(`environment from namespace ${namespace} (no param "${settings.environmentParam}")`);
  }
  const revision = stringParam(run, settings.revisionParams);
  if (!revision) notes.push(`no revision param (${settings.revisionParams.join(', ')})`);
  const repositoryUrl = stringParam(run, settings.repositoryParams);
  const image = stringParam(run, settings.imageParams);
  // Without an image param, the service at its revision.
  const artifactId = deployedArtifactId(image, service, revision);

  return {
    notes,
    cdevent: cdevent(
      context,
      'service.deployed',
      'deployed',
      completionTime(context),
      {
        id: service,
        content: { environment: { id: environment, source: context.event.source }, artifactId },
      },
      {
        cadence: deploymentFacts(revision, repositoryUrl, outcome),
        tekton: {
          namespace,
          pipelineRun: run.metadata.name,
          pipeline: pipelineName(run),
          ...(repositoryUrl ? { repositoryUrl } : {}),
        },
      },
    ),
  };
}

/** The CDEvents of one Tekton PipelineRun CloudEvent. */
export function pipelineRunToCdevents(
  event: StoredEvent,
  kind: RunEvent,
  run: PipelineRunObject,
  settings: TektonSettings,
): TransformOutcome {
  const { namespace, name, uid } = run.metadata;
  const context: RunContext = { event, run, settings, key: uid ?? `${namespace}/${name}` };
  if (kind === 'started') return { cdevents: [started(context)] };
  if (kind === 'running' || kind === 'unknown') {
    return nothing(`pipelinerun ${kind}: nothing new until it finishes`);
  }
  const outcome = finishedOutcome(run, kind);
  const cdevents = [finished(context, outcome)];
  const build = outcome === 'success' ? packaged(context) : {};
  if (build.cdevent) cdevents.push(build.cdevent);
  const pipeline = pipelineName(run);
  if (!isDeployPipeline(pipeline, settings)) {
    return build.note ? { cdevents, note: build.note } : { cdevents };
  }
  if (outcome === 'cancel') {
    return {
      cdevents,
      note: `deploy run of ${pipeline} was cancelled: not a deployment attempt`,
    };
  }
  const deployment = deployed(context, outcome);
  if (deployment.cdevent) cdevents.push(deployment.cdevent);
  const notes = [...(build.note ? [build.note] : []), ...deployment.notes];
  return notes.length > 0 ? { cdevents, note: notes.join('; ') } : { cdevents };
}

export function createTektonSource(settings: TektonSettings): Transformer {
  return {
    name: 'tekton',
    transform(event: StoredEvent): TransformOutcome {
      const match = TYPE.exec(event.type);
      if (!match) return nothing(`type ${event.type} is not a Tekton PipelineRun event`);
      const parsed = tektonDataSchema.safeParse(event.data);
      if (!parsed.success) {
        return nothing(
          describeIssue(parsed.error, 'not a Tekton PipelineRun event', { whole: 'data' }),
        );
      }
      return pipelineRunToCdevents(event, match[1] as RunEvent, parsed.data.pipelineRun, settings);
    },
  };
}
