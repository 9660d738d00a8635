/**
 * The CLI's one status → problem → exit-code mapping (table-driven), and the real `cadence`
 * entry point: usage errors exit 2, an unauthorized answer from a real server exits 5. A
 * streamed (NDJSON) answer is read line by line, the last line too when no newline ends it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  EXIT_CODES,
  exitCodeForProblem,
  postForLines,
  problemCodeForStatus,
  request,
} from '../../src/cli/api-client.js';
import { CadenceError, problemStatus, type ProblemCode } from '../../src/problem/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const cadence = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

describe('the CLI HTTP client', () => {
  it('maps every status the server sends back to its problem code', () => {
    for (const [code, status] of Object.entries(problemStatus) as [ProblemCode, number][]) {
      if (code === 'config-invalid') continue; // a server-side 500, never sent as such
      assert.equal(problemCodeForStatus(status), code, String(status));
    }
    const table: [number, ProblemCode][] = [
      [422, 'invalid-input'],
      [418, 'invalid-input'],
      [500, 'unavailable'],
      [502, 'unavailable'],
    ];
    for (const [status, code] of table) assert.equal(problemCodeForStatus(status), code);
  });

  it('maps each problem code to one documented exit code', () => {
    const table: [ProblemCode, number][] = [
      ['invalid-input', 1],
      ['conflict', 1],
      ['unavailable', 1],
      ['config-invalid', 1],
      ['not-found', 4],
      ['unauthorized', 5],
      ['forbidden', 5],
      ['payload-too-large', 1],
      ['unsupported-media-type', 1],
      ['backlogged', 1],
    ];
    assert.deepEqual(
      table.map(([code]) => code).sort(),
      Object.keys(problemStatus).sort(),
      'every code has a row',
    );
    for (const [code, exit] of table) assert.equal(exitCodeForProblem(code), exit, code);
    assert.deepEqual(EXIT_CODES, {
      ok: 0,
      failure: 1,
      usage: 2,
      inconclusive: 3,
      notFound: 4,
      unauthorized: 5,
    });
  });

  it('turns a problem+json answer into a CadenceError with its field, and says who it is', async () => {
    let userAgent: string | undefined;
    const server = createServer((req, res) => {
      userAgent = req.headers['user-agent'];
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({
          title: 'Unauthorized',
          detail: 'a token is required',
          field: 'authorization',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const target = { url, headers: {} };
      await assert.rejects(request(target, 'GET', '/api/v1/services'), (error: unknown) => {
        assert.ok(error instanceof CadenceError);
        assert.equal(error.code, 'unauthorized');
        assert.equal(error.field, 'authorization');
        return true;
      });
      assert.match(userAgent ?? '', /^cadence-cli\/\d+\.\d+\.\d+/);

      // Through the real entry point: the same answer exits 5.
      // Asynchronously: this process serves the answer meanwhile.
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [
          '--import',
          'tsx',
          main,
          'rollouts',
          '--server',
          url,
        ]);
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('close', (status) => resolve({ status, stderr }));
      });
      assert.equal(result.status, 5, result.stderr);
      assert.match(result.stderr, /a token is required \(authorization\)/);
    } finally {
      server.close();
    }
  });

  it('exits 2 on usage errors, 0 on --help and --version', () => {
    const unknown = cadence(['rollouts', '--no-such-flag']);
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/);
    assert.equal(cadence(['no-such-command']).status, 2);
    assert.equal(cadence(['--help']).status, 0);
    const version = cadence(['--version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it('reads every line of a streamed answer: split across writes, CRLF, and a last line without a newline', async () => {
    const server = createServer((_request, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      // Each write is sent as it is made: a line cut in two, then one ending the body bare.
      res.write('{"progress":{"commits":1}}\r\n{"progr', () =>
        res.end('ess":{"commits":2}}\n\n{"summary":{"commits":2}}'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const lines: unknown[] = [];
      await postForLines({ url, headers: {} }, '/api/v1/cadence/imports', {}, (line) =>
        lines.push(line),
      );
      assert.deepEqual(lines, [
        { progress: { commits: 1 } },
        { progress: { commits: 2 } },
        { summary: { commits: 2 } },
      ]);
    } finally {
      server.close();
    }
  });
});
