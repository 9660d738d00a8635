import { Command, InvalidArgumentError, Option } from 'commander';
import { runReadOnlySql, type SqlResult } from '../git/index.js';
import { exitQuietlyOnClosedStdout } from './git-command.js';
import { request } from './api-client.js';
import {
  addTargetOptions,
  commandTarget,
  isLocalStore,
  withLocalStore,
  type TargetFlags,
} from './command-target.js';
import { renderTable } from './table.js';

const CELL_WIDTH = 60;

/** A value as text: JSON for arrays and objects, empty for NULL. */
function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A table cell: one line (newlines and tabs shown escaped), cut at CELL_WIDTH. */
function cell(value: unknown): string {
  const line = text(value).replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
  return line.length > CELL_WIDTH ? `${line.slice(0, CELL_WIDTH - 1)}…` : line;
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break. */
function csvField(value: unknown): string {
  const field = text(value);
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** Rows as objects; a repeated column name (`select *` over a join) gets `_2`, `_3`, … */
export function rowsAsObjects(result: SqlResult): Record<string, unknown>[] {
  const seen = new Map<string, number>();
  const keys = result.columns.map((column) => {
    const count = (seen.get(column) ?? 0) + 1;
    seen.set(column, count);
    return count === 1 ? column : `${column}_${count}`;
  });
  return result.rows.map((row) => Object.fromEntries(keys.map((key, i) => [key, row[i]])));
}

export function renderSqlResult(result: SqlResult, format: 'table' | 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(rowsAsObjects(result), null, 2)}\n`;
  if (format === 'csv') {
    return [result.columns, ...result.rows]
      .map((row) => `${row.map(csvField).join(',')}\r\n`)
      .join('');
  }
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
  return `${renderTable(
    result.columns,
    result.rows.map((row) => row.map(cell)),
  )}\n${count}\n`;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new InvalidArgumentError('must be a positive whole number');
  }
  return number;
}

export function sqlCommand(): Command {
  return addTargetOptions(
    new Command('sql')
      .description(
        'run one read-only SQL query over the imported git tables (commits, stats, git_repositories, cadence_pairs, cadence_intervals…)',
      )
      .argument(
        '<query>',
        'e.g. "select * from commits left join stats on stats.commit_id = commits.id where file like \'sync/prod%\'"',
      )
      .addOption(
        new Option('--format <format>', 'output format')
          .choices(['table', 'csv', 'json'])
          .default('table'),
      )
      .option('--json', 'the same as --format json')
      .option(
        '--timeout-ms <ms>',
        'cancel the query after this long (PostgreSQL) (default: 30000)',
        positiveInteger,
      ),
    'store',
  ).action(
    async (
      query: string,
      options: TargetFlags & {
        format: 'table' | 'csv' | 'json';
        json?: boolean;
        timeoutMs?: number;
      },
    ) => {
      exitQuietlyOnClosedStdout();
      const timeoutMs = options.timeoutMs ?? 30_000;
      const target = await commandTarget(options, 'store');
      // A server runs it the same way: the reader role, a read-only transaction.
      const result = isLocalStore(target)
        ? await withLocalStore(target, (store) => runReadOnlySql(store, query, { timeoutMs }))
        : await request<SqlResult>(target, 'POST', '/api/v1/sql', { body: { query, timeoutMs } });
      process.stdout.write(renderSqlResult(result, options.json ? 'json' : options.format));
    },
  );
}
