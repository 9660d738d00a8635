import { CadenceError } from '../problem/index.js';
import type { Queryable, Store } from '../store/index.js';

/** A query's result: column names in order (repeats kept, as `select *` over a join gives). */
export interface SqlResult {
  columns: string[];
  rows: unknown[][];
}

const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);

/**
 * Functions a query could use to leave the reader role: `set_config` sets `role` or
 * `session_authorization` back to the connection's (a superuser may, whatever the current role),
 * and these run SQL text given as a string, which the lexer cannot see into. The role's grants
 * are the guarantee; this list keeps the reader from undoing them.
 */
const REFUSED_FUNCTIONS = new Set([
  'set_config',
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'ts_stat',
  'ts_rewrite',
  'dblink',
  'dblink_exec',
]);

function refuseFunction(name: string): never {
  throw new CadenceError('invalid-input', {
    field: 'query',
    detail: `${name} is not allowed here: it could run SQL outside the read-only git reader`,
  });
}

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
  const isWordChar = (c: string | undefined) => c !== undefined && /[\w$\u0080-\uffff]/.test(c);
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      // PostgreSQL ends a `--` comment at \r as well as \n (scan.l: non_newline [^\n\r]).
      const end = sql.slice(i).search(/[\r\n]/);
      i = end < 0 ? n : i + end + 1;
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
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c) && !isWordChar(sql[i - 1])) {
      code(i);
      const word = /^[\w$\u0080-\uffff]+/.exec(sql.slice(i))![0];
      if (REFUSED_FUNCTIONS.has(word.toLowerCase())) refuseFunction(word);
      // U&"…" spells an identifier with escapes (U&"set\005fconfig"): no name check could see it.
      if (/^u$/i.test(word) && sql.startsWith('&"', i + 1)) {
        throw new CadenceError('invalid-input', {
          field: 'query',
          detail:
            'Unicode-escaped identifiers (U&"…") are not allowed here; write the name plainly',
        });
      }
      i += word.length;
      code(i - 1);
    } else if (c === "'" || c === '"') {
      code(i);
      const start = i;
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !isWordChar(sql[i - 2]);
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      code(Math.min(i, n - 1));
      if (c === '"') {
        const name = sql.slice(start + 1, i).replace(/""/g, '"');
        if (REFUSED_FUNCTIONS.has(name)) refuseFunction(name);
      }
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

/** The role migration 012 creates: NOLOGIN, SELECT on the git tables alone. */
export const GIT_READER_ROLE = 'cadence_git_reader';

const ROLE_SETUP = `as a superuser: create role ${GIT_READER_ROLE} nologin; grant select on git_repositories, commits, stats, commit_bytes, cadence_events, cadence_pairs, cadence_intervals to ${GIT_READER_ROLE}; grant ${GIT_READER_ROLE} to <the user in the database URL>`;

async function becomeGitReader(tx: Queryable): Promise<void> {
  try {
    await tx.query(`set local role ${GIT_READER_ROLE}`);
  } catch (error) {
    throw new CadenceError('config-invalid', {
      field: 'store.databaseUrl',
      detail: `cadence sql runs as the read-only role ${GIT_READER_ROLE}, which this database user cannot use (${error instanceof Error ? error.message : String(error)}); ${ROLE_SETUP} (see docs/git-cadence.md)`,
      cause: error,
    });
  }
}

/**
 * Runs one user query over the imported git tables as the role {@link GIT_READER_ROLE} (SELECT on
 * git_repositories, commits, stats and the materialized cadence_* tables only), in a READ ONLY transaction (on PostgreSQL with a
 * statement timeout), through the extended protocol, which takes exactly one statement. Each row
 * comes back as `row_to_json` text, which gives one output format on both engines (times in UTC,
 * ISO 8601) and keeps repeated column names. {@link singleQuery} is the second line of defence.
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
    await becomeGitReader(tx);
    let result: SqlResult;
    try {
      const rows = (await rowsAsJson(tx, wrapped)).map(jsonObjectEntries);
      if (rows.length > 0) {
        result = {
          columns: rows[0]!.map(([name]) => name),
          rows: rows.map((r) => r.map(([, v]) => v)),
        };
      } else {
        // No rows, yet the columns have names: one null-extended row through an outer join shows them.
        const [names] = await rowsAsJson(
          tx,
          `select row_to_json(cadence_row)::text as row from (
             select cadence_query.* from (select 1) as cadence_one
             left join (\n${query}\n) as cadence_query on true) as cadence_row`,
        );
        result = { columns: jsonObjectEntries(names ?? '{}').map(([name]) => name), rows: [] };
      }
    } catch (error) {
      throw queryError(error);
    }
    // A third line: whatever the query did, it must still be the reader, or its rows are not shown.
    const { rows: who } = await tx.query<{ role: string }>('select current_user as role');
    if (who[0]?.role !== GIT_READER_ROLE) {
      throw new CadenceError('invalid-input', {
        field: 'query',
        detail: `the query left the read-only role ${GIT_READER_ROLE}: refused`,
      });
    }
    return result;
  });
}
