/**
 * The shapes of the HTTP API's responses, as zod schemas: each route names its responses' schemas
 * in its `config.api`, the OpenAPI document is generated from those (openapi.ts), and the tests check real responses against that document, so the two
 * cannot drift apart. Objects the API owns are strict (an unexpected field fails the tests);
 * payloads producers sent (events, CDEvents) are open.
 */
import { z } from 'zod';
import { ROLLOUT_PHASES } from '../rollouts/index.js';
import { BUCKETS } from '../statistics/index.js';

const time = z.string().describe('RFC 3339 time (UTC)');

export const problemSchema = z
  .object({
    type: z.string().describe('urn:cadence:problem:CODE'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional().describe('the field, header or parameter at fault'),
    issues: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const intakeResultSchema = z
  .strictObject({
    mode: z.enum(['binary', 'structured', 'batch', 'cdevent', 'webhook']),
    accepted: z.number().int().describe('events stored by this request'),
    duplicates: z.number().int().describe('events already stored (same source and id)'),
  })
  .meta({ id: 'IntakeResult' });

const distribution = z
  .strictObject({
    count: z.number().int(),
    median: z.number().nullable().describe('seconds'),
    p90: z.number().nullable().describe('seconds'),
    approximate: z
      .boolean()
      .optional()
      .describe('present (true) when read from the daily rollups: within 1 %'),
  })
  .meta({ id: 'Distribution' });

const rate = z
  .strictObject({
    numerator: z.number().int(),
    denominator: z.number().int(),
    rate: z.number().nullable(),
  })
  .meta({ id: 'Rate' });

const metricFields = {
  deployments: z.number().int(),
  days: z.number(),
  deploymentsPerDay: z.number(),
  deployDaysPerWeek: z.number(),
  leadTime: distribution,
  changeFailureRate: rate,
  failedDeploymentRecoveryTime: distribution,
  timeToRestore: distribution,
  reworkRate: rate,
};

const doraMetrics = z.strictObject(metricFields).meta({ id: 'DoraMetrics' });
const tier = z.enum(['elite', 'high', 'medium', 'low']).nullable();
const tiers = z.strictObject({
  deploymentFrequency: tier,
  leadTime: tier,
  changeFailureRate: tier,
  failedDeploymentRecoveryTime: tier,
});

const metricsScope = z.strictObject({
  service: z.string().optional(),
  environment: z.string(),
  team: z.string().optional(),
  from: time,
  to: time,
});

const freshness = z
  .strictObject({
    asOf: time.describe('every event received before this instant is counted'),
    lagSeconds: z.number().describe('how far behind the read the numbers are (0: nothing pending)'),
    pending: z
      .strictObject({
        events: z.number().int().describe('received, not yet routed'),
        cdevents: z.number().int().describe('routed CDEvents not yet projected into facts'),
        streams: z.number().int().describe('deployment streams waiting to be recomputed'),
        days: z.number().int().describe('daily rollups waiting to be recomputed'),
      })
      .describe('work the background router and projector have not finished yet'),
  })
  .meta({
    id: 'Freshness',
    description:
      'metrics reads never project: routing and projection run in the background, and the read says how far behind they are',
  });

export const metricsReportSchema = z
  .strictObject({
    scope: metricsScope,
    overall: doraMetrics,
    tiers: z.strictObject({ 2023: tiers, 2024: tiers }),
    series: z
      .strictObject({
        bucket: z.enum(BUCKETS),
        points: z.array(z.strictObject({ bucket: time, ...metricFields })),
      })
      .optional(),
    elsewhere: z
      .array(z.strictObject({ environment: z.string(), deployments: z.number().int() }))
      .optional()
      .describe('when the scope has no deployment: the environments that have some'),
    freshness,
  })
  .meta({ id: 'MetricsReport' });

/** The metrics `GET /api/v1/metrics/{metric}` gives a series of. */
export const METRIC_NAMES = [
  'deployment-frequency',
  'lead-time',
  'change-failure-rate',
  'recovery-time',
  'rework-rate',
] as const;

export const metricSeriesSchema = z
  .strictObject({
    metric: z.enum(METRIC_NAMES),
    scope: metricsScope,
    bucket: z.enum(BUCKETS),
    points: z.array(z.looseObject({ bucket: time })),
  })
  .meta({ id: 'MetricSeries' });

export const deployFrequencySchema = z
  .array(z.strictObject({ DeployName: z.string(), Deployments: z.number().int(), Time: time }))
  .meta({ id: 'DeployFrequency', description: 'the seed-compatible shape' });

const storedEvent = z
  .looseObject({
    seq: z.number().int(),
    specversion: z.string(),
    id: z.string(),
    source: z.string(),
    type: z.string(),
    receivedAt: time,
    routedAt: time.nullable(),
    routeOutputs: z.number().int().nullable(),
    routeNote: z.string().nullable(),
  })
  .meta({ id: 'StoredEvent', description: 'a CloudEvent as received, with its routing state' });

const storedCdevent = z
  .strictObject({
    seq: z.number().int(),
    type: z.string(),
    subjectType: z.string(),
    predicate: z.string(),
    subjectId: z.string(),
    timestamp: time,
    transformer: z.string(),
    eventSeq: z.number().int().nullable(),
    body: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'StoredCdevent' });

export const eventListSchema = z.strictObject({ events: z.array(storedEvent) });
export const eventDetailSchema = z.strictObject({
  event: storedEvent,
  cdevents: z.array(storedCdevent),
});
export const cdeventListSchema = z.strictObject({ cdevents: z.array(storedCdevent) });

export const tokenListSchema = z
  .strictObject({
    tokens: z.array(
      z.strictObject({
        name: z.string(),
        services: z.array(z.string()),
        actions: z.array(z.string()),
        sources: z.array(z.string()),
        createdAt: time,
        expiresAt: time.nullable(),
        lastUsedAt: time.nullable(),
      }),
    ),
  })
  .meta({ id: 'TokenList', description: 'tokens, never their secrets' });

export const healthSchema = z.strictObject({ status: z.literal('ok') });
export const cadenceVersionSchema = z
  .strictObject({ version: z.string().describe("Cadence's own version (package.json)") })
  .meta({ id: 'CadenceVersion' });
export const readinessSchema = z.strictObject({
  status: z.literal('ready'),
  engine: z.enum(['pglite', 'postgres']),
});

export const repositoryListSchema = z.strictObject({
  repositories: z.array(
    z.strictObject({
      name: z.string(),
      source: z.string(),
      ref: z.string().nullable(),
      head: z.string().nullable(),
      importedAt: time.nullable(),
      commitCount: z.number().int(),
      hasRules: z.boolean(),
      rulesYaml: z.string().nullable(),
      shallowBoundaries: z.array(z.string()),
      repositoryPath: z.string().nullable(),
    }),
  ),
});

const daySummary = {
  count: z.number().int(),
  min: z.number().nullable(),
  median: z.number().nullable(),
  max: z.number().nullable(),
};
const commitAt = z.strictObject({ commit: z.string(), at: time });

export const cadenceReportSchema = z
  .strictObject({
    repository: z.string(),
    head: z.string().nullable(),
    importedAt: time.nullable(),
    rules: z.enum(['stored', 'given']),
    shallowBoundaries: z
      .array(z.string())
      .describe(
        'boundary commits of a shallow import (--allow-shallow); empty for a whole history',
      ),
    asOf: time,
    environments: z.array(z.string()),
    production: z.string(),
    updates: z.array(
      z.strictObject({
        package: z.string(),
        cause: commitAt,
        deploy: commitAt,
        leadTimeDays: z.number(),
      }),
    ),
    pending: z.array(z.strictObject({ package: z.string(), cause: commitAt, ageDays: z.number() })),
    leadTimeByMonth: z.array(
      z.strictObject({
        month: z.string(),
        ...daySummary,
        percentileDeciles: z.array(z.number()).describe("Cadence's p10…p90 (percentile_cont)"),
        ntileVariability: z.array(z.number()).describe("the blog's ntile(10) group averages"),
      }),
    ),
    currentMonth: z.strictObject({ month: z.string(), ...daySummary }),
    lastThreeMonths: z.strictObject({ from: z.string(), to: z.string(), ...daySummary }),
    deploysByMonth: z.array(
      z.strictObject({
        month: z.string(),
        deploys: z.number().int(),
        pairedDeploys: z.number().int().describe('deploys that shipped a cause (the blog)'),
        packages: z.record(z.string(), z.number().int()),
      }),
    ),
    causesByMonth: z.array(z.strictObject({ month: z.string(), causes: z.number().int() })),
    deployIntervals: z.array(
      z.strictObject({
        environment: z.string(),
        deploys: z.number().int(),
        weekly: z.array(z.strictObject({ bucket: z.string(), ...daySummary })),
        monthly: z.array(z.strictObject({ bucket: z.string(), ...daySummary })),
      }),
    ),
    intervals: z.array(
      z.strictObject({
        environment: z.string(),
        commit: z.string(),
        at: time,
        previousCommit: z.string(),
        previousAt: time,
        minutes: z.number(),
      }),
    ),
    promotion: z.array(
      z.strictObject({
        from: z.string(),
        to: z.string(),
        intervalRatio: z.number().nullable().describe("the author's prod / non-prod intervals"),
        fromIntervals: z.number().int(),
        toIntervals: z.number().int(),
        deploys: z.number().int(),
        promoted: z.number().int(),
        superseded: z.number().int(),
        waiting: z.number().int(),
        share: z.number().nullable().describe("Cadence's promoted / (promoted + superseded)"),
      }),
    ),
    unattributedFiles: z.number().int(),
  })
  .meta({ id: 'CadenceReport' });

const timelineIncident = {
  key: z.string(),
  service: z.string().nullable(),
  environment: z.string(),
  detectedAt: time.nullable(),
  resolvedAt: time.nullable(),
};

export const deploymentListSchema = z.strictObject({
  deployments: z.array(
    z
      .strictObject({
        seq: z.number().int().describe('the CDEvent it came from'),
        cdeventId: z.string(),
        service: z.string(),
        environment: z.string(),
        kind: z.enum(['deploy', 'rollback']),
        outcome: z.enum(['success', 'failure']),
        deployedAt: time,
        revision: z.string().nullable(),
        repository: z.string().nullable(),
        artifact: z.string().nullable(),
        failed: z.boolean(),
        failureReasons: z.array(z.string()),
        restoredAt: time.nullable(),
        rework: z.boolean(),
        remedies: z.string().nullable().describe('the incident it says it remedies'),
        changes: z.array(z.string()),
        commits: z.array(
          z.strictObject({ sha: z.string(), committedAt: time, leadTimeSeconds: z.number() }),
        ),
        incidents: z.array(z.strictObject(timelineIncident)),
        evidence: z
          .array(z.strictObject({ seq: z.number().int(), cdeventId: z.string() }))
          .describe('other reports of the same rollout'),
        notes: z.array(z.string()).describe('what the rules inferred'),
      })
      .meta({ id: 'TimelineDeployment' }),
  ),
});

export const incidentListSchema = z.strictObject({
  incidents: z.array(
    z
      .strictObject({
        ...timelineIncident,
        durationSeconds: z.number().nullable(),
        environmentFrom: z.enum(['label', 'service', 'default']),
        causeRevision: z.string().nullable(),
        causeDeployment: z.string().nullable(),
        attributedTo: z.array(
          z.strictObject({
            seq: z.number().int(),
            service: z.string(),
            deployedAt: time,
            revision: z.string().nullable(),
          }),
        ),
      })
      .meta({ id: 'TimelineIncident' }),
  ),
});

export const serviceCatalogueSchema = z.strictObject({
  services: z.array(
    z.strictObject({
      service: z.string(),
      environment: z.string(),
      deployments: z.number().int(),
      team: z.string().nullable(),
    }),
  ),
  teams: z.array(z.string()),
});

export const rolloutSchema = z
  .strictObject({
    id: z.number().int(),
    namespace: z.string(),
    deployment: z.string(),
    uid: z.string(),
    revision: z.string(),
    generation: z.number().int(),
    images: z.array(z.string()),
    phase: z.enum(ROLLOUT_PHASES),
    progress: z.number().describe('updatedReplicas / spec.replicas, 0..1'),
    desired: z.number().int(),
    updated: z.number().int(),
    ready: z.number().int(),
    available: z.number().int(),
    reason: z.string().nullable(),
    message: z.string().nullable(),
    startedAt: time,
    endedAt: time.nullable(),
    durationMs: z.number().nullable(),
    updatedAt: time,
    deadlineExceededAt: time
      .nullable()
      .describe('when it passed its progress deadline; kept when it completed late'),
    deletedAt: time.nullable().describe('when its Deployment was deleted (the history stays)'),
  })
  .meta({ id: 'Rollout', description: 'one revision of one Deployment' });

export const liveRolloutSchema = rolloutSchema
  .extend({
    conditions: z.array(
      z.strictObject({
        type: z.string(),
        status: z.string(),
        reason: z.string().nullable(),
        message: z.string().nullable(),
        lastTransitionTime: z.string().nullable(),
      }),
    ),
    eventId: z.number().int().describe("the rollouts stream's id for this state"),
  })
  .meta({
    id: 'LiveRollout',
    description:
      'a watched Deployment as the cluster has it now: phase, progress and replicas from its current status; start, end and duration of its current revision',
  });

export const rolloutListSchema = z.strictObject({ rollouts: z.array(liveRolloutSchema) });
export const rolloutHistorySchema = z.strictObject({
  namespace: z.string(),
  deployment: z.string(),
  rollouts: z.array(rolloutSchema),
});

/** An analysis's statuses, which `GET /api/v1/analyses?status=` filters by too. */
export const ANALYSIS_STATUSES = [
  'running',
  'promoting',
  'rolling-back',
  'promoted',
  'rolled-back',
  'inconclusive',
  'cancelled',
  'holding',
] as const;

const analysisFields = {
  id: z.string(),
  service: z.string(),
  namespace: z.string(),
  environment: z.string(),
  revision: z.string().nullable(),
  baselineRevision: z.string().nullable(),
  status: z.enum(ANALYSIS_STATUSES),
  verdict: z.string().nullable(),
  reason: z.string().nullable(),
  spec: z.record(z.string(), z.unknown()).describe('the analysis as resolved from the settings'),
  startedAt: time,
  nextInterval: z.number().int(),
  passed: z.number().int(),
  failed: z.number().int(),
  inconclusive: z.number().int(),
  actionResult: z.unknown(),
  actionError: z.string().nullable(),
  decidedAt: time.nullable(),
  finishedAt: time.nullable(),
  leaseOwner: z.string().nullable(),
  leaseExpiresAt: time.nullable(),
};

export const updateSchema = z
  .strictObject({
    id: z.number().int(),
    service: z.string(),
    tag: z.string(),
    fromVersion: z.string().nullable(),
    firstSeenAt: time,
    state: z.enum([
      'pending',
      'approved',
      'started',
      'promoted',
      'rolled-back',
      'superseded',
      'failed',
    ]),
    approvalRequired: z.boolean(),
    approvedBy: z.string().nullable(),
    approvedAt: time.nullable(),
    startedAt: time.nullable(),
    operationId: z.number().int().nullable(),
    analysisId: z.string().nullable().describe('the analysis judging its canary'),
    error: z.string().nullable().describe('why its canary could not be started (retried)'),
    attempts: z.number().int().describe('canary starts tried'),
    retryAt: time.nullable().describe('after a failed start: when the next may be tried'),
    finishedAt: time.nullable(),
    leadTimeSeconds: z.number().nullable().describe('first sighting of the tag → promoted'),
    leadTimeFrom: z.literal('first-seen'),
  })
  .meta({ id: 'Update', description: 'a new image tag a service takes under its update policy' });

export const updateListSchema = z.strictObject({
  updates: z.array(updateSchema),
  services: z.array(
    z.strictObject({
      service: z.string(),
      current: z.string().describe("stable's version"),
      newest: z.string().describe('the newest newer tag of any level'),
      versionsBehind: z.number().int(),
      update: z.string().nullable().describe('what the policy would take now'),
      checkedAt: time,
    }),
  ),
});

export const analysisSchema = z
  .strictObject(analysisFields)
  .meta({ id: 'Analysis', description: 'a canary analysis and its state' });

export const analysisListSchema = z.strictObject({ analyses: z.array(analysisSchema) });

export const analysisDetailSchema = z
  .strictObject({
    ...analysisFields,
    intervals: z.array(
      z.strictObject({
        index: z.number().int(),
        windowStart: time,
        windowEnd: time,
        verdict: z.string(),
        score: z.number().nullable(),
        judgement: z
          .record(z.string(), z.unknown())
          .describe('per metric: the judge and its numbers'),
        samples: z
          .record(z.string(), z.unknown())
          .describe('per metric: the canary and stable samples from Prometheus'),
        missing: z.array(z.string()),
        traffic: z.strictObject({ canary: z.number().nullable(), stable: z.number().nullable() }),
        evaluatedAt: time,
        evaluatedBy: z.string(),
      }),
    ),
  })
  .meta({ id: 'AnalysisDetail' });

const revisionSummary = z
  .strictObject({ version: z.string(), commit: z.string(), tag: z.string().nullable(), at: time })
  .nullable();

const deployerServiceFields = {
  name: z.string(),
  namespace: z.string(),
  repository: z.string(),
  manifests: z.string(),
  registry: z.string().nullable(),
  canaryReplicas: z.number().int(),
  stable: revisionSummary,
  canary: revisionSummary,
};

export const deployerServiceListSchema = z.strictObject({
  services: z.array(z.strictObject(deployerServiceFields).meta({ id: 'DeployerService' })),
});

/** The kept previous stable versions, newest first: what `rollback` may return `to`. */
const previousVersions = z
  .array(revisionSummary.unwrap())
  .describe('the kept previous stable versions, newest first (rollback `to` takes any)');

export const deployerServiceSchema = z.strictObject({
  ...deployerServiceFields,
  previous: revisionSummary,
  previousVersions,
  operations: z.array(z.unknown()).describe('the last operations, newest first'),
});

export const deployerTagsSchema = z.strictObject({
  service: z.string(),
  images: z.array(z.strictObject({ image: z.string(), tags: z.array(z.string()) })),
});

export const deployerVersionSchema = z.strictObject({
  service: z.string(),
  stable: revisionSummary,
  canary: revisionSummary,
  previous: revisionSummary,
  previousVersions,
});

/** A service's canary traffic steps (`GET /api/v1/services/{name}/steps`). */
export const trafficStepsSchema = z
  .strictObject({
    service: z.string(),
    canary: z.string().nullable(),
    steps: z.array(z.strictObject({ weight: z.number(), pauseSeconds: z.number() })),
    step: z.number().nullable(),
    weight: z.number(),
    done: z.boolean(),
    pausedBy: z.string().nullable(),
    confirmPromotion: z.boolean(),
    confirmedBy: z.string().nullable(),
    stepStartedAt: z.string().nullable(),
  })
  .meta({ id: 'TrafficSteps' });

const objectRef = z.strictObject({
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
});

export const deployResultSchema = z
  .strictObject({
    ok: z.literal(true),
    operation: z.enum(['deploy', 'canary', 'promote', 'rollback']),
    service: z.string(),
    operationId: z.number().int(),
    version: z.string(),
    commit: z.string(),
    tag: z.string().optional(),
    images: z.array(z.string()),
    applied: z.array(objectRef),
    removed: z.array(objectRef),
    durationMs: z.number(),
  })
  .meta({ id: 'DeployResult', description: 'what was applied and removed' });

/** `POST /api/v1/tokens`: the secret, shown this once. */
export const tokenCreatedSchema = z.strictObject({ name: z.string(), secret: z.string() });

/** `POST /api/v1/sql`: column names in order (repeats kept) and each row's values. */
export const sqlResultSchema = z.strictObject({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())),
});
