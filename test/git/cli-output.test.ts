/** The CLI's renderings for git and sql: the progress bar, CSV quoting, repeated columns. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDays, progressBar } from '../../src/cli/git-command.js';
import { renderSqlResult, rowsAsObjects } from '../../src/cli/sql-command.js';

describe('progressBar', () => {
  it('redraws one line with \\r, at most ten times a second, and clears it when done', (t) => {
    // The clock is mocked: the 100 ms rule is checked at 99 ms and at 100 ms exactly.
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const writes: string[] = [];
    const stream = { columns: 100, write: (text: string) => writes.push(text) };
    const bar = progressBar(stream as unknown as NodeJS.WriteStream, 'importing');
    bar.update({ commits: 250, total: 1000 });
    t.mock.timers.tick(99);
    bar.update({ commits: 260, total: 1000 }); // within 100 ms: not drawn
    t.mock.timers.tick(1);
    bar.update({ commits: 1000, total: 1000 });
    bar.done();
    assert.deepEqual(writes, [
      `\rimporting [${'#'.repeat(8)}${'.'.repeat(22)}] 25% 250/1000 commits\x1b[K`,
      `\rimporting [${'#'.repeat(30)}] 100% 1000/1000 commits\x1b[K`,
      '\r\x1b[K',
    ]);
  });

  it('counts without a total, and draws nothing when nothing happened', () => {
    const writes: string[] = [];
    const stream = { columns: 80, write: (text: string) => writes.push(text) };
    const idle = progressBar(stream as unknown as NodeJS.WriteStream, 'importing');
    idle.done();
    assert.deepEqual(writes, []);
    const counting = progressBar(stream as unknown as NodeJS.WriteStream, 'importing');
    counting.update({ commits: 42, total: null });
    assert.deepEqual(writes, ['\rimporting 42 commits\x1b[K']);
  });
});

describe('sql output', () => {
  const result = {
    columns: ['repository', 'message', 'parent_ids', 'repository', 'additions'],
    rows: [
      ['shop', 'line one\nline "two", with a comma', ['a', 'b'], 'shop', null],
      ['shop', 'x'.repeat(70), [], null, 3],
    ],
  };

  it('writes RFC 4180 CSV: quoted fields, doubled quotes, CRLF rows, empty NULLs', () => {
    assert.equal(
      renderSqlResult(result, 'csv'),
      'repository,message,parent_ids,repository,additions\r\n' +
        'shop,"line one\nline ""two"", with a comma","[""a"",""b""]",shop,\r\n' +
        `shop,${'x'.repeat(70)},[],,3\r\n`,
    );
  });

  it('keeps a table on one line per row, cutting long cells', () => {
    const lines = renderSqlResult(result, 'table').split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[1]!, /^shop\s+line one\\nline "two", with a comma\s+\["a","b"\]\s+shop$/);
    assert.match(lines[2]!, new RegExp(`^shop\\s+${'x'.repeat(59)}…\\s+\\[\\]\\s+3$`));
    assert.equal(lines[3], '(2 rows)');
  });

  it('names a repeated column _2 in JSON', () => {
    assert.deepEqual(rowsAsObjects(result)[0], {
      repository: 'shop',
      message: 'line one\nline "two", with a comma',
      parent_ids: ['a', 'b'],
      repository_2: 'shop',
      additions: null,
    });
  });

  it('prints days with two decimals', () => {
    assert.deepEqual(
      [formatDays(1.955), formatDays(14.25), formatDays(null), formatDays(0)],
      ['1.96', '14.25', '-', '0'],
    );
  });
});
