import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CadenceError } from '../problem/index.js';
import type { Queryable } from '../store/index.js';
import { insertAnalysis, type Analysis, type ResolvedAnalysisSpec } from './analysis-rows.js';
import { smallestPValue } from './mann-whitney.js';
import { judges } from './judge-interval.js';
import { resolveMetrics } from './metric-queries.js';
import {
  analysisOverridesSchema,
  analysisSettingsSchema,
  analysisSpecSchema,
  type AnalysisSettings,
} from './schema.js';

/** What starts an analysis: `POST /api/v1/analyses`, or the deployer when it starts a canary. */
export const startAnalysisRequestSchema = z.strictObject({
  service: z.string().min(1),
  namespace: z.string().min(1).optional(),
  environment: z.string().min(1).optional(),
  /** The canary's version (commit or tag). */
  revision: z.string().min(1).optional(),
  baselineRevision: z.string().min(1).optional(),
  /** A caller's own id makes the start idempotent (the deployer retrying). */
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, dot, dash, underscore; at most 100')
    .optional(),
  /** Overrides of the configured analysis settings for this run. */
  analysis: analysisOverridesSchema.optional(),
});
export type StartAnalysisRequest = z.input<typeof startAnalysisRequestSchema>;

export const defaultAnalysisSettings: AnalysisSettings = analysisSettingsSchema.parse({});

/**
 * The spec a request runs with: the configured defaults, then the service's settings, then the
 * request's own, with every metric's query resolved. Refuses an interval too short for the
 * samples its metrics need, naming the field.
 */
export function planAnalysis(
  request: z.infer<typeof startAnalysisRequestSchema>,
  settings: AnalysisSettings = defaultAnalysisSettings,
): ResolvedAnalysisSpec {
  const service = settings.services[request.service];
  const merged = { ...settings.defaults, ...service?.analysis, ...request.analysis };
  const parsed = analysisSpecSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CadenceError('invalid-input', {
      field: `analysis.${issue.path.join('.')}`,
      detail: `analysis.${issue.path.join('.')}: ${issue.message}`,
    });
  }
  const { metrics: metricInputs, ...spec } = parsed.data;
  const metrics = resolveMetrics(metricInputs, service?.queries);
  const steps = Math.floor(spec.intervalSeconds / spec.stepSeconds) + 1;
  // A judge that accumulates samples over the analysis reaches minSamples across intervals.
  const accumulates = judges[spec.judge].window === 'analysis';
  metrics.forEach((metric, index) => {
    if (!accumulates && metric.minSamples > steps) {
      throw new CadenceError('invalid-input', {
        field: `analysis.metrics.${index}.minSamples`,
        detail: `metric ${metric.name} needs ${metric.minSamples} samples, but an interval of ${spec.intervalSeconds} s at a ${spec.stepSeconds} s step has only ${steps}`,
      });
    }
  });
  if (spec.judge === 'mann-whitney') {
    metrics.forEach((metric, index) => {
      if (smallestPValue(metric.minSamples, metric.minSamples) >= 1 - spec.confidence) {
        throw new CadenceError('invalid-input', {
          field: `analysis.metrics.${index}.minSamples`,
          detail: `metric ${metric.name}: with ${metric.minSamples} samples per track the Mann-Whitney test can never be significant at confidence ${spec.confidence}; raise minSamples`,
        });
      }
    });
  }
  if (spec.marginalScore > spec.passScore) {
    throw new CadenceError('invalid-input', {
      field: 'analysis.marginalScore',
      detail: 'analysis.marginalScore must not be above passScore',
    });
  }
  return { ...spec, metrics };
}

/**
 * Starts an analysis: validates the request, plans its spec and stores it as running; a
 * runner (on any replica) picks it up. The deployer calls this when it starts a canary.
 *
 * @example await startAnalysis(store, { service: 'web', revision: '025838f' }, settings)
 */
export async function startAnalysis(
  db: Queryable,
  input: unknown,
  settings: AnalysisSettings = defaultAnalysisSettings,
  now: Date = new Date(),
): Promise<Analysis> {
  const parsed = startAnalysisRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    const field = path.join('.') || 'body';
    throw new CadenceError('invalid-input', { field, detail: `${field}: ${issue.message}` });
  }
  const request = parsed.data;
  const spec = planAnalysis(request, settings);
  return insertAnalysis(db, {
    id: request.id ?? randomUUID(),
    service: request.service,
    namespace: request.namespace ?? settings.services[request.service]?.namespace ?? 'default',
    environment: request.environment ?? settings.environment,
    revision: request.revision,
    baselineRevision: request.baselineRevision,
    spec,
    startedAt: now,
  });
}
