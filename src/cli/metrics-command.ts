import { Command, Option } from 'commander';
import type { Distribution, MetricsReport, Rate } from '../dora/index.js';
import { getJson } from './api-client.js';
import { addTargetOptions, commandTarget, type TargetFlags } from './command-target.js';
import { renderTable } from './table.js';

/**
 * A line saying how far behind the numbers are, when anything is still on its way (nothing
 * when everything received is counted). An older server's report has no freshness.
 */
export function freshnessNote(report: Pick<MetricsReport, 'freshness'>): string | undefined {
  const freshness = report.freshness as MetricsReport['freshness'] | undefined;
  if (!freshness) return undefined;
  const { pending } = freshness;
  const parts = [
    pending.events > 0 ? `${pending.events} events not yet routed` : '',
    pending.cdevents > 0 ? `${pending.cdevents} CDEvents not yet projected` : '',
    pending.streams > 0 ? `${pending.streams} streams` : '',
    pending.days > 0 ? `${pending.days} days` : '',
  ].filter(Boolean);
  if (parts.length === 0) return undefined;
  const lag = Math.round(freshness.lagSeconds * 10) / 10;
  return `as of ${freshness.asOf} (${lag}s behind): ${parts.join(', ')} still being counted`;
}

/** Seconds as the largest sensible unit: 45m, 19.5h, 3.2d. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const round = (value: number) => String(Math.round(value * 10) / 10);
  if (seconds < 3600) return `${round(seconds / 60)}m`;
  if (seconds < 86_400 * 2) return `${round(seconds / 3600)}h`;
  return `${round(seconds / 86_400)}d`;
}

const percent = (rate: Rate) =>
  rate.rate === null
    ? '-'
    : `${Math.round(rate.rate * 1000) / 10}% (${rate.numerator}/${rate.denominator})`;
const times = (d: Distribution) =>
  `${formatDuration(d.median)} median, ${formatDuration(d.p90)} p90 (${d.count})`;

function renderReport(report: MetricsReport, year: 2023 | 2024): string {
  const { overall } = report;
  const tiers = report.tiers[year];
  const scope = [
    report.scope.service ?? 'all services',
    report.scope.environment,
    ...(report.scope.team ? [`team ${report.scope.team}`] : []),
    `${report.scope.from.slice(0, 10)} to ${report.scope.to.slice(0, 10)}`,
  ].join(', ');
  const rows = [
    [
      'deployment frequency',
      `${Math.round(overall.deploymentsPerDay * 100) / 100}/day (${overall.deployments}), ${Math.round(overall.deployDaysPerWeek * 10) / 10} deploy days/week`,
      tiers.deploymentFrequency ?? '-',
    ],
    ['lead time for changes', times(overall.leadTime), tiers.leadTime ?? '-'],
    ['change failure rate', percent(overall.changeFailureRate), tiers.changeFailureRate ?? '-'],
    [
      'failed deployment recovery time',
      times(overall.failedDeploymentRecoveryTime),
      tiers.failedDeploymentRecoveryTime ?? '-',
    ],
    ['time to restore service', times(overall.timeToRestore), '-'],
    ['deployment rework rate', percent(overall.reworkRate), '-'],
  ];
  return `${scope}\n\n${renderTable(['METRIC', 'VALUE', `DORA ${year}`], rows)}`;
}

/**
 * What an empty answer says: where the deployments are when another environment has some
 * ("0 in production; 2 in default: --environment default"), else how to send some.
 */
export function emptyScopeHint(report: MetricsReport): string | undefined {
  if (report.overall.changeFailureRate.denominator !== 0) return undefined;
  const elsewhere = (report.elsewhere ?? []).filter((e) => e.deployments > 0);
  if (elsewhere.length === 0) {
    return 'no deployments in this window: send service.deployed CDEvents to /cdevents, or a webhook (see README)';
  }
  const counts = elsewhere.map((e) => `${e.deployments} in ${e.environment}`).join('; ');
  return `0 in ${report.scope.environment}; ${counts}: --environment ${elsewhere[0]!.environment}`;
}

export function metricsCommand(): Command {
  return addTargetOptions(
    new Command('metrics').description(
      'the DORA metrics over a window (default: the last 90 days, production)',
    ),
    'api',
  )
    .option('--service <name>', 'one service')
    .option('--environment <name>', 'environment (default: the configured one, production)')
    .option('--team <name>', 'the services of one team')
    .option('--from <time>', 'start of the window (RFC 3339 or a date)')
    .option('--to <time>', 'end of the window, exclusive (default: now)')
    .addOption(
      new Option('--bucket <bucket>', 'also a series per bucket').choices([
        'day',
        'week',
        'month',
        'year',
      ]),
    )
    .addOption(
      new Option('--tiers <year>', 'DORA report year for tiers')
        .choices(['2023', '2024'])
        .default('2024'),
    )
    .option('--json', 'print JSON instead of a table')
    .action(
      async (
        options: TargetFlags & {
          service?: string;
          environment?: string;
          team?: string;
          from?: string;
          to?: string;
          bucket?: string;
          tiers: string;
          json?: boolean;
        },
      ) => {
        const query = new URLSearchParams();
        for (const key of ['service', 'environment', 'team', 'from', 'to', 'bucket'] as const) {
          const value = options[key];
          if (value) query.set(key, value);
        }
        const report = await getJson<MetricsReport>(
          await commandTarget(options, 'api'),
          `/api/v1/metrics?${query}`,
        );
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        let text = renderReport(report, Number(options.tiers) as 2023 | 2024);
        if (report.series) {
          text += `\n\n${renderTable(
            ['BUCKET', 'DEPLOYS', 'LEAD TIME (MEDIAN)', 'CHANGE FAILURE', 'RECOVERY (MEDIAN)'],
            report.series.points.map((point) => [
              point.bucket.slice(0, 10),
              String(point.deployments),
              formatDuration(point.leadTime.median),
              percent(point.changeFailureRate),
              formatDuration(point.failedDeploymentRecoveryTime.median),
            ]),
          )}`;
        }
        const empty = emptyScopeHint(report);
        if (empty) text += `\n\n${empty}`;
        const behind = freshnessNote(report);
        if (behind) text += `\n\n${behind}`;
        process.stdout.write(`${text}\n`);
      },
    );
}
