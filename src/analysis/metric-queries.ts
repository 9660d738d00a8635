import { CadenceError } from '../problem/index.js';
import type { MetricSpec, MetricSpecInput } from './schema.js';
import { metricSpecSchema } from './schema.js';

/**
 * PromQL templates per signal. `{{service}}`, `{{namespace}}` and `{{track}}` select one track of
 * one service (the labels the deployer puts on pod templates); `{{interval}}` is the range each
 * sample is computed over (the analysis's sample window, as a PromQL duration). The built-ins
 * read the golden signals a service exports itself: `http_requests_total{code}` and the
 * `http_request_duration_seconds` histogram; CPU and memory from the process collector (per
 * pod, averaged over the track's pods so one canary pod compares with many stable ones).
 * In a cluster where these come from cAdvisor, override them per service in the config.
 */
const selector = 'service="{{service}}",namespace="{{namespace}}",track="{{track}}"';

export const builtinQueries = {
  'request-rate': `sum(rate(http_requests_total{${selector}}[{{interval}}]))`,
  // No 5xx series at all means no errors (0), while no requests at all stays "no values".
  'error-rate': `(sum(rate(http_requests_total{${selector},code=~"5.."}[{{interval}}])) or on() vector(0)) / sum(rate(http_requests_total{${selector}}[{{interval}}]))`,
  'latency-p95': `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${selector}}[{{interval}}])))`,
  'latency-p99': `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${selector}}[{{interval}}])))`,
  cpu: `avg(rate(process_cpu_seconds_total{${selector}}[{{interval}}]))`,
  memory: `avg(process_resident_memory_bytes{${selector}})`,
} as const;

export type BuiltinSignal = keyof typeof builtinQueries;

/**
 * The metrics judged when an analysis names none: errors and p95 latency are critical (either
 * alone fails an interval), p99 counts towards the score. The tolerances are set against the
 * noise bench/canary simulates (a canary pod with a third of stable's traffic, so its error rate
 * per 30 s window is noisy): they keep false rollbacks of healthy canaries under 1 % while
 * catching +20 % latency and +1 point of errors. Tune them per service in the config.
 */
export const defaultMetrics: readonly MetricSpecInput[] = [
  {
    name: 'error-rate',
    group: 'errors',
    critical: true,
    allowedIncrease: 1.5,
    threshold: { limit: 0.005, mode: 'absolute' },
  },
  {
    name: 'latency-p95',
    group: 'latency',
    critical: true,
    allowedIncrease: 1.12,
    removeOutliers: true,
    threshold: { limit: 0.1, mode: 'relative' },
  },
  {
    name: 'latency-p99',
    group: 'latency',
    allowedIncrease: 1.2,
    removeOutliers: true,
    threshold: { limit: 0.15, mode: 'relative' },
  },
];

/** Seconds as a PromQL duration (`90s`, `1500ms`). */
export function promDuration(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

/**
 * Fills a template's placeholders. Label values are escaped for a PromQL double-quoted string;
 * an unknown placeholder is a config error, not a query Prometheus would refuse later.
 *
 * @example renderQuery('up{service="{{service}}"}', { service: 'web', namespace: 'shop', track: 'canary', interval: '30s' })
 */
export function renderQuery(
  template: string,
  values: { service: string; namespace: string; track: string; interval: string },
): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!(name in values)) {
      throw new CadenceError('invalid-input', {
        field: 'metrics.query',
        detail: `unknown placeholder {{${name}}} in a metric query; use service, namespace, track or interval`,
      });
    }
    const value = values[name as keyof typeof values];
    return name === 'interval' ? value : value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  });
}

/**
 * The metric list with every query resolved: the metric's own, else the service's override for
 * that signal, else the built-in. A metric with none of them is refused, naming it.
 */
export function resolveMetrics(
  metrics: readonly MetricSpecInput[] | undefined,
  overrides: Readonly<Record<string, string>> = {},
): (MetricSpec & { query: string })[] {
  return (metrics ?? defaultMetrics).map((input, index) => {
    const spec = metricSpecSchema.parse(input);
    // Own keys only: a metric named `toString` is not a built-in.
    const own = (table: Readonly<Record<string, string>>) =>
      Object.hasOwn(table, spec.name) ? table[spec.name] : undefined;
    const query = spec.query ?? own(overrides) ?? own(builtinQueries);
    if (!query) {
      throw new CadenceError('invalid-input', {
        field: `metrics.${index}.query`,
        detail: `metric ${JSON.stringify(spec.name)} is not a built-in (${Object.keys(builtinQueries).join(', ')}) and has no query`,
      });
    }
    return { ...spec, query };
  });
}
