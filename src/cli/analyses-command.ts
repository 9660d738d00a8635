import { Command } from 'commander';
import type { Analysis, AnalysisInterval } from '../analysis/index.js';
import { CadenceError } from '../problem/index.js';
import { getJson, type ServerTarget } from './api-client.js';
import { addTargetOptions, commandTarget, type TargetFlags } from './command-target.js';
import { renderTable } from './table.js';

/** A document as JSON has it: dates are strings. */
type Json<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
type AnalysisDocument = Json<Analysis> & { intervals: Json<AnalysisInterval>[] };

// `holding` ends a wait too: CI is told the canary is held (exit 3), not kept for the hold.
const FINISHED = new Set(['promoted', 'rolled-back', 'inconclusive', 'holding', 'cancelled']);

/**
 * Exit codes of `cadence canary-wait` (and of `cadence canary --wait`): 0 promoted, 2 rolled
 * back after a failed canary, 3 inconclusive (held, or rolled back without a verdict) or not
 * finished before the timeout, 5 cancelled (its canary was promoted, removed or replaced by
 * someone else: the analysis decided nothing).
 */
export function exitCodeForAnalysis(analysis: Pick<Analysis, 'status' | 'verdict'>): number {
  if (analysis.status === 'promoted' && analysis.verdict === 'pass') return 0;
  if (analysis.status === 'cancelled') return 5;
  if (analysis.verdict === 'fail') return 2;
  return 3;
}

/**
 * Polls the server until the analysis has finished (promoted, rolled back or inconclusive) and
 * returns it; undefined when `timeoutMs` passed first. For CI: `cadence canary … --wait`.
 *
 * @example const done = await waitForAnalysis(await commandTarget(flags, 'api'), id, { timeoutMs: 600_000 })
 */
export async function waitForAnalysis(
  server: ServerTarget,
  id: string,
  options: {
    timeoutMs?: number;
    pollMs?: number;
    onInterval?: (interval: Json<AnalysisInterval>) => void;
  } = {},
): Promise<AnalysisDocument | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? 3_600_000);
  let seen = 0;
  for (;;) {
    const analysis = await getJson<AnalysisDocument>(
      server,
      `/api/v1/analyses/${encodeURIComponent(id)}`,
    );
    for (const interval of analysis.intervals.slice(seen)) options.onInterval?.(interval);
    seen = analysis.intervals.length;
    if (FINISHED.has(analysis.status)) return analysis;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}

const score = (value: number | null) => (value === null ? '-' : String(Math.round(value)));

/** A track's mean and sample count, `0.0123 (n=10)`; `-` without samples. */
export function trackValue(summary: { count: number; mean: number | null }): string {
  return summary.mean === null
    ? '-'
    : `${Number(summary.mean.toPrecision(3))} (n=${summary.count})`;
}

/** One judged interval, as `canary --wait` and `canary-wait` stream it. */
export function intervalLine(interval: Json<AnalysisInterval>): string {
  const metrics = interval.judgement.metrics
    .map((metric) => `${metric.metric} ${metric.classification}`)
    .join(', ');
  return `interval ${interval.index}: ${interval.verdict}${interval.score === null ? '' : ` (score ${score(interval.score)})`}${metrics ? ` [${metrics}]` : ''}${interval.missing.length ? `: ${interval.missing.join('; ')}` : ''}`;
}

function renderAnalysis(analysis: AnalysisDocument): string {
  const head = [
    `analysis ${analysis.id}: ${analysis.service}${analysis.revision ? ` ${analysis.revision}` : ''} in ${analysis.namespace}`,
    `status ${analysis.status}${analysis.verdict ? `, verdict ${analysis.verdict}` : ''}${analysis.reason ? ` (${analysis.reason})` : ''}`,
    `intervals: ${analysis.passed} passed, ${analysis.failed} failed, ${analysis.inconclusive} inconclusive of ${analysis.spec.intervals} needed; judge ${analysis.spec.judge}`,
  ];
  if (analysis.intervals.length === 0) return `${head.join('\n')}\n\nno interval judged yet`;
  const rows = analysis.intervals.flatMap((interval) => [
    [
      String(interval.index),
      String(interval.windowEnd).slice(11, 19),
      interval.verdict,
      score(interval.score),
      '',
      '',
      '',
      '',
      interval.missing.join('; '),
    ],
    // The values behind each judgement: each track's mean over its samples, and their ratio.
    ...interval.judgement.metrics.map((metric) => [
      '',
      '',
      '',
      '',
      metric.metric,
      trackValue(metric.canary),
      trackValue(metric.stable),
      metric.ratio === null ? '-' : metric.ratio.toFixed(2),
      `${metric.classification}: ${metric.reason}`,
    ]),
  ]);
  return `${head.join('\n')}\n\n${renderTable(['#', 'END', 'VERDICT', 'SCORE', 'METRIC', 'CANARY', 'STABLE', 'RATIO', 'WHY'], rows)}`;
}

export function analysesCommand(): Command {
  return addTargetOptions(
    new Command('analyses')
      .description('canary analyses: the list, or one with every interval’s judgements')
      .argument('[id]', 'one analysis'),
    'api',
  )
    .option('--service <name>', 'only this service’s analyses')
    .option('--json', 'print JSON instead of a table')
    .action(
      async (
        id: string | undefined,
        options: TargetFlags & { service?: string; json?: boolean },
      ) => {
        const server = await commandTarget(options, 'api');
        if (id) {
          const analysis = await getJson<AnalysisDocument>(
            server,
            `/api/v1/analyses/${encodeURIComponent(id)}`,
          );
          process.stdout.write(
            options.json
              ? `${JSON.stringify(analysis, null, 2)}\n`
              : `${renderAnalysis(analysis)}\n`,
          );
          return;
        }
        const query = new URLSearchParams();
        if (options.service) query.set('service', options.service);
        const { analyses } = await getJson<{ analyses: Json<Analysis>[] }>(
          server,
          `/api/v1/analyses?${query}`,
        );
        if (options.json) {
          process.stdout.write(`${JSON.stringify(analyses, null, 2)}\n`);
          return;
        }
        if (analyses.length === 0) {
          process.stdout.write('no analyses yet: POST /api/v1/analyses, or start a canary\n');
          return;
        }
        process.stdout.write(
          `${renderTable(
            [
              'ID',
              'SERVICE',
              'REVISION',
              'STATUS',
              'VERDICT',
              'PASSED',
              'FAILED',
              'INCONCLUSIVE',
              'STARTED',
            ],
            analyses.map((analysis) => [
              analysis.id,
              analysis.service,
              analysis.revision ?? '-',
              analysis.status,
              analysis.verdict ?? '-',
              String(analysis.passed),
              String(analysis.failed),
              String(analysis.inconclusive),
              String(analysis.startedAt).replace(/\.\d+Z$/, 'Z'),
            ]),
          )}\n`,
        );
      },
    );
}

export function canaryWaitCommand(): Command {
  return addTargetOptions(
    new Command('canary-wait')
      .description(
        'wait for an analysis’s verdict; exit 0 promoted, 2 rolled back, 3 inconclusive or timed out',
      )
      .argument('<id>', 'the analysis'),
    'api',
  )
    .option('--timeout <seconds>', 'give up after this long', '3600')
    .option('--json', 'print the finished analysis as JSON')
    .action(async (id: string, options: TargetFlags & { timeout: string; json?: boolean }) => {
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
        throw new CadenceError('invalid-input', {
          field: '--timeout',
          detail: '--timeout must be a positive number of seconds',
        });
      }
      const analysis = await waitForAnalysis(await commandTarget(options, 'api'), id, {
        timeoutMs: timeoutSeconds * 1000,
        onInterval: options.json
          ? undefined
          : (interval) => process.stderr.write(`${intervalLine(interval)}\n`),
      });
      if (!analysis) {
        process.stderr.write(`cadence: analysis ${id} had no verdict after ${timeoutSeconds} s\n`);
        process.exitCode = 3;
        return;
      }
      process.stdout.write(
        options.json
          ? `${JSON.stringify(analysis, null, 2)}\n`
          : `${analysis.service}: ${analysis.status}${analysis.reason ? ` (${analysis.reason})` : ''}\n`,
      );
      process.exitCode = exitCodeForAnalysis(analysis);
    });
}
