import { CadenceError } from '../problem/index.js';
import type { Queryable, Store } from '../store/index.js';

/** A query's result: column names in order (repeats kept, as `select *` over a join gives). */
export interface SqlResult {
  columns: string[];
  rows: unknown[][];
}

const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);

/**
 * Checks that `sql` is exactly one query and returns it without its trailing semicolon.
 * A small lexer finds the top-level semicolons, skipping strings ('…', E'…', $tag$…$tag$),
 * quoted identifiers and comments (block comments nest in PostgreSQL).
 */
export function singleQuery(sql: string): string {
  const semicolons: number[] = [];
  let lastCode = -1;
  let firstCode = -1;
  const code = (at: number) => {
    if (firstCode < 0) firstCode = at;
    lastCode = at;
  };
  const n = sql.length;
  const isWordChar = (c: string | undefined) => c !== undefined && /[\w$]/.test(c);
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const pair = sql.slice(i, i + 2);
        if (pair === '/*' || pair === '*/') {
          depth += pair === '/*' ? 1 : -1;
          i += 2;
        } else {
          i++;
        }
      }
    } else if (c === "'" || c === '"') {
      code(i);
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !isWordChar(sql[i - 2]);
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      code(Math.min(i, n - 1));
      i++;
    } else if (c === '$' && !isWordChar(sql[i - 1])) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      code(i);
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
        code(i - 1);
      } else {
        i++;
      }
    } else if (c === ';') {
      semicolons.push(i);
      i++;
    } else {
      if (!/\s/.test(c)) code(i);
      i++;
    }
  }
  if (firstCode < 0) {
    throw new CadenceError('invalid-input', { field: 'query', detail: 'the query is empty' });
  }
  if (semicolons.some((at) => at < lastCode)) {
    throw new CadenceError('invalid-input', {
      field: 'query',
      detail: 'one statement at a time: the query holds several (separated by ;)',
    });
  }
  const end = semicolons.find((at) => at > lastCode) ?? n;
  const query = sql.slice(0, end);
  const word = /^[(\s]*([A-Za-z]+)/.exec(sql.slice(firstCode))?.[1]?.toLowerCase();
  if (!word || !QUERY_WORDS.has(word)) {
    throw new CadenceError('invalid-input', {
      field: 'query',
      detail: `only queries run here (SELECT, WITH, VALUES, TABLE), not ${word ? word.toUpperCase() : 'this'}: the tables are read-only`,
    });
  }
  return query;
}

/** Index just past the JSON string starting at `start` (a `"`). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Index of the `,` or `}` that ends the JSON value starting at `start`. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i);
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (c === ',' && depth === 0) return i;
    i++;
  }
  return i;
}

/**
 * The members of a JSON object in order, repeated keys kept: `row_to_json` of `select *` over a
 * join writes both `repository` columns, and JSON.parse would keep only the last.
 */
export function jsonObjectEntries(text: string): [string, unknown][] {
  const entries: [string, unknown][] = [];
  let i = text.indexOf('{') + 1;
  for (;;) {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
    if (i >= text.length || text[i] === '}') return entries;
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = text.indexOf(':', keyEnd) + 1;
    const valueEnd = endOfValue(text, i);
    entries.push([key, JSON.parse(text.slice(i, valueEnd))]);
    i = valueEnd;
  }
}

function queryError(error: unknown): CadenceError {
  const message = error instanceof Error ? error.message : String(error);
  const timedOut = /statement timeout/i.test(message);
  return new CadenceError('invalid-input', {
    field: 'query',
    detail: timedOut
      ? `query cancelled: it ran longer than the statement timeout (${message})`
      : `query failed: ${message}`,
    cause: error,
  });
}

async function rowsAsJson(tx: Queryable, sql: string): Promise<string[]> {
  const { rows } = await tx.query<{ row: string | null }>(sql);
  return rows.map((row) => row.row ?? '{}');
}

/**
 * Runs one user query over the imported tables in a READ ONLY transaction (on PostgreSQL with a
 * statement timeout). Each row comes back as `row_to_json` text, which gives one output format on
 * both engines (times in UTC, ISO 8601) and keeps repeated column names. The query is checked to
 * be one SELECT/WITH/VALUES/TABLE statement; the read-only transaction is the guarantee.
 *
 * @example
 * await runReadOnlySql(store, "select * from commits left join stats on stats.commit_id = commits.id where file like 'sync/prod%'")
 */
export async function runReadOnlySql(
  store: Store,
  sql: string,
  options: { timeoutMs?: number } = {},
): Promise<SqlResult> {
  const query = singleQuery(sql);
  // The newlines keep a trailing `-- comment` in the user's query from swallowing the wrapper.
  const wrapped = `select row_to_json(cadence_row)::text as row from (\n${query}\n) as cadence_row`;
  return store.transaction(async (tx) => {
    await tx.query('set transaction read only');
    await tx.query("select set_config('TimeZone', 'UTC', true)");
    if (store.engine === 'postgres') {
      await tx.query("select set_config('statement_timeout', $1, true)", [
        String(Math.max(1, Math.floor(options.timeoutMs ?? 30_000))),
      ]);
    }
    try {
      const rows = (await rowsAsJson(tx, wrapped)).map(jsonObjectEntries);
      if (rows.length > 0) {
        return {
          columns: rows[0]!.map(([name]) => name),
          rows: rows.map((r) => r.map(([, v]) => v)),
        };
      }
      // No rows, yet the columns have names: one null-extended row through an outer join shows them.
      const [names] = await rowsAsJson(
        tx,
        `select row_to_json(cadence_row)::text as row from (
           select cadence_query.* from (select 1) as cadence_one
           left join (\n${query}\n) as cadence_query on true) as cadence_row`,
      );
      return { columns: jsonObjectEntries(names ?? '{}').map(([name]) => name), rows: [] };
    } catch (error) {
      throw queryError(error);
    }
  });
}
