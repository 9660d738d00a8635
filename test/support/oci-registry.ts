/**
 * The real OCI registry from Debian's `docker-registry` package, started on a loopback port with
 * a temp storage dir, and a helper that pushes small test images to it over its HTTP API (blob
 * upload POST + PUT, manifest PUT). Auth: none, htpasswd (basic), or the token flow against a
 * tiny token server in this file that signs ES256 JWTs with a certificate made by openssl.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pollUntil } from './poll-until.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; username: string; password: string }
  | { kind: 'token'; username: string; password: string };

export interface TestRegistry {
  url: string;
  /** The host:port images name it by. */
  host: string;
  /** Requests the token server answered (token flow only). */
  tokenRequests: { scope: string | null; service: string | null; authorized: boolean }[];
  /** Pushes a one-layer image under `repository:tag`; returns its manifest digest. */
  push(repository: string, tag: string): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** A token server of the distribution token spec: basic auth in, an ES256 JWT out. */
async function startTokenServer(
  dir: string,
  auth: { username: string; password: string },
  requests: TestRegistry['tokenRequests'],
): Promise<{ server: Server; realm: string; certPath: string }> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-subj',
      '/CN=cadence-test-token',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const scope = url.searchParams.get('scope');
    const authorized = request.headers.authorization === expected;
    requests.push({ scope, service: url.searchParams.get('service'), authorized });
    if (!authorized) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="token"' }).end();
      return;
    }
    const [type, name, actions] = (scope ?? '').split(':');
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(
      JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [certDer.toString('base64')] }),
    );
    const claims = base64url(
      JSON.stringify({
        iss: 'cadence-test-token',
        sub: auth.username,
        aud: 'cadence-test-registry',
        iat: now - 5,
        nbf: now - 5,
        exp: now + 600,
        jti: String(requests.length),
        access: type ? [{ type, name, actions: (actions ?? '').split(',') }] : [],
      }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), {
      key,
      dsaEncoding: 'ieee-p1363',
    });
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${header}.${claims}.${base64url(signature)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, realm: `http://127.0.0.1:${port}/token`, certPath };
}

async function waitForRegistry(url: string, child: ChildProcess, log: () => string) {
  await pollUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
      try {
        const response = await fetch(`${url}/v2/`);
        await response.body?.cancel();
        return true;
      } catch {
        return false; // not listening yet
      }
    },
    'docker-registry to answer',
    { detail: log },
  );
}

export async function startRegistry(auth: RegistryAuth = { kind: 'none' }): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-registry-'));
  const port = await freePort();
  const tokenRequests: TestRegistry['tokenRequests'] = [];
  let tokenServer: Server | undefined;
  let authConfig = '';
  if (auth.kind === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), `${auth.username}:${bcrypt.hashSync(auth.password, 4)}\n`);
    authConfig = `auth:\n  htpasswd:\n    realm: cadence-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth.kind === 'token') {
    const started = await startTokenServer(dir, auth, tokenRequests);
    tokenServer = started.server;
    authConfig = [
      'auth:',
      '  token:',
      `    realm: ${started.realm}`,
      '    service: cadence-test-registry',
      '    issuer: cadence-test-token',
      `    rootcertbundle: ${started.certPath}`,
      '',
    ].join('\n');
  }
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: error, accesslog: { disabled: true } }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      authConfig,
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitForRegistry(url, child, () => stderr);

  const basic =
    auth.kind === 'none'
      ? undefined
      : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  /** Push-side auth: basic straight to the registry, or a push token from the token server. */
  async function authorization(repository: string): Promise<string | undefined> {
    if (auth.kind !== 'token') return basic;
    const realm = `http://127.0.0.1:${(tokenServer!.address() as AddressInfo).port}/token`;
    const response = await fetch(
      `${realm}?service=cadence-test-registry&scope=repository:${repository}:pull,push`,
      { headers: { authorization: basic! } },
    );
    const { token } = (await response.json()) as { token: string };
    tokenRequests.pop(); // the helper's own requests are not the client's
    return `Bearer ${token}`;
  }

  async function pushBlob(repository: string, content: Buffer, authHeader: string | undefined) {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const headers: Record<string, string> = authHeader ? { authorization: authHeader } : {};
    const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, {
      method: 'POST',
      headers,
    });
    await start.body?.cancel();
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
    const location = new URL(start.headers.get('location')!, url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(content),
    });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
    return { digest, size: content.length };
  }

  return {
    url,
    host: `127.0.0.1:${port}`,
    tokenRequests,
    async push(repository, tag) {
      const authHeader = await authorization(repository);
      const config = await pushBlob(
        repository,
        Buffer.from(
          JSON.stringify({
            architecture: 'amd64',
            os: 'linux',
            config: {},
            rootfs: { type: 'layers', diff_ids: [] },
          }),
        ),
        authHeader,
      );
      const layer = await pushBlob(repository, Buffer.from(`${repository}:${tag}\n`), authHeader);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        }),
      );
      const response = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
        method: 'PUT',
        headers: {
          ...(authHeader ? { authorization: authHeader } : {}),
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
        },
        body: manifest,
      });
      await response.body?.cancel();
      if (response.status !== 201) throw new Error(`manifest put: ${response.status}`);
      return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    },
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      if (tokenServer) await new Promise((resolve) => tokenServer!.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
