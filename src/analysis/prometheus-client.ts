import { z } from 'zod';

/**
 * A Prometheus HTTP API client for the two endpoints analysis uses, `/api/v1/query` and
 * `/api/v1/query_range`. Every answer is one of four values, never a throw: values, no values
 * (the query matched nothing, or only NaN: a track without traffic), unreachable (connection
 * refused, timeout, 5xx) and refused (Prometheus says the query is bad: a config error).
 */

// Only the fields used; Prometheus sends more (warnings, stats).
const prometheusResponseSchema = z.object({
  status: z.enum(['success', 'error']),
  errorType: z.string().optional(),
  error: z.string().optional(),
  data: z
    .object({
      resultType: z.enum(['matrix', 'vector', 'scalar', 'string']),
      result: z.unknown(),
    })
    .optional(),
});
const sampleSchema = z.tuple([z.number(), z.string()]);
const matrixSchema = z.array(
  z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleSchema) }),
);
const vectorSchema = z.array(
  z.object({ metric: z.record(z.string(), z.string()), value: sampleSchema }),
);

/** One sample: Unix seconds and the value (NaN kept: it means "no data at that step"). */
export type PromPoint = [timestamp: number, value: number];

export type PrometheusOutcome =
  | { outcome: 'values'; points: PromPoint[] }
  | { outcome: 'no-values'; query: string }
  | { outcome: 'unreachable'; detail: string }
  | { outcome: 'refused'; detail: string };

export interface PrometheusClient {
  readonly url: string;
  /** Instant query at `time`. */
  query(promql: string, time: Date): Promise<PrometheusOutcome>;
  /** Range query from `start` to `end` every `stepSeconds`; all series' points, in time order. */
  queryRange(
    promql: string,
    start: Date,
    end: Date,
    stepSeconds: number,
  ): Promise<PrometheusOutcome>;
}

const toNumber = (text: string) => Number(text); // "NaN", "+Inf" parse as JS does

/** @example createPrometheusClient({ url: 'http://127.0.0.1:9090', timeoutMs: 5000 }) */
export function createPrometheusClient(options: {
  url: string;
  timeoutMs?: number;
}): PrometheusClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;

  async function call(
    path: string,
    params: URLSearchParams,
    promql: string,
  ): Promise<PrometheusOutcome> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: params,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as Error).cause as { code?: string } | undefined;
      return {
        outcome: 'unreachable',
        detail: `Prometheus at ${base} unreachable (${cause?.code ?? (error as Error).name})`,
      };
    }
    // 4xx carry Prometheus's error body (a bad query); 5xx mean it cannot answer now.
    if (response.status >= 500) {
      return {
        outcome: 'unreachable',
        detail: `Prometheus at ${base} answered ${response.status}`,
      };
    }
    const parsed = prometheusResponseSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) {
      return {
        outcome: 'unreachable',
        detail: `Prometheus at ${base} sent an answer that is not its API's (${response.status})`,
      };
    }
    const body = parsed.data;
    if (body.status === 'error' || !body.data) {
      return {
        outcome: 'refused',
        detail: `Prometheus refused the query: ${body.errorType ?? 'error'}: ${body.error ?? ''}`,
      };
    }
    const points: PromPoint[] = [];
    if (body.data.resultType === 'matrix') {
      const matrix = matrixSchema.safeParse(body.data.result);
      if (!matrix.success)
        return { outcome: 'refused', detail: 'Prometheus sent a malformed matrix' };
      for (const series of matrix.data)
        for (const [t, v] of series.values) points.push([t, toNumber(v)]);
    } else if (body.data.resultType === 'vector') {
      const vector = vectorSchema.safeParse(body.data.result);
      if (!vector.success)
        return { outcome: 'refused', detail: 'Prometheus sent a malformed vector' };
      for (const series of vector.data) points.push([series.value[0], toNumber(series.value[1])]);
    } else if (body.data.resultType === 'scalar') {
      const scalar = sampleSchema.safeParse(body.data.result);
      if (scalar.success) points.push([scalar.data[0], toNumber(scalar.data[1])]);
    }
    points.sort((a, b) => a[0] - b[0]);
    if (!points.some(([, value]) => Number.isFinite(value)))
      return { outcome: 'no-values', query: promql };
    return { outcome: 'values', points };
  }

  return {
    url: base,
    query(promql, time) {
      return call(
        '/api/v1/query',
        new URLSearchParams({ query: promql, time: String(time.getTime() / 1000) }),
        promql,
      );
    },
    queryRange(promql, start, end, stepSeconds) {
      return call(
        '/api/v1/query_range',
        new URLSearchParams({
          query: promql,
          start: String(start.getTime() / 1000),
          end: String(end.getTime() / 1000),
          step: String(stepSeconds),
        }),
        promql,
      );
    },
  };
}
