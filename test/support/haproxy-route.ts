/**
 * A test-side stand-in for a Gateway API implementation: no Gateway controller runs here, so
 * this translates the HTTPRoute Cadence writes (in the test Kubernetes API server) into an
 * HAProxy configuration — weighted round-robin between the stable and canary demo apps, and the
 * header rule to the canary — and reloads the real HAProxy (Debian's `haproxy`, master-worker,
 * SIGUSR2). Every configuration answers with its generation in `x-route-generation`, so a test
 * counts each response under the weights that served it (no sleeps for a reload to land).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './prometheus.js';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RouteBackends {
  /** Service name → host:port of the app behind it (`web`, `web-stable` → stable; `web-canary`). */
  [service: string]: string;
}

export interface Generation {
  generation: number;
  /** Percent of requests per backend Service in the weighted rule. */
  weights: Record<string, number>;
  header?: { name: string; value: string; backend: string };
}

/** The weighted rule and the header rule of an HTTPRoute, as HAProxy will route them. */
export function routeGeneration(route: Json, generation: number): Generation {
  const rules = (route.spec?.rules ?? []) as Json[];
  const headerRule = rules.find((rule) =>
    (rule.matches ?? []).some((match: Json) => (match.headers ?? []).length > 0),
  );
  const weighted = rules.find((rule) => rule !== headerRule)!;
  const weights: Record<string, number> = {};
  for (const ref of weighted.backendRefs as Json[]) weights[ref.name] = ref.weight ?? 1;
  const header = headerRule?.matches[0].headers[0] as Json | undefined;
  return {
    generation,
    weights,
    ...(header
      ? {
          header: {
            name: header.name,
            value: header.value,
            backend: (headerRule!.backendRefs as Json[])[0]!.name,
          },
        }
      : {}),
  };
}

export function haproxyConfig(port: number, current: Generation, backends: RouteBackends): string {
  const servers = Object.entries(current.weights)
    .filter(([, weight]) => weight > 0)
    .map(([name, weight]) => `  server ${name} ${backends[name]} weight ${weight}`);
  return [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    'frontend gateway',
    `  bind 127.0.0.1:${port}`,
    `  http-response set-header x-route-generation ${current.generation}`,
    ...(current.header
      ? [
          `  acl header_route req.hdr(${current.header.name}) -m str ${current.header.value}`,
          '  use_backend header_route if header_route',
        ]
      : []),
    '  default_backend weighted',
    'backend weighted',
    // Smooth weighted round-robin: the shares are the weights, request by request.
    '  balance roundrobin',
    ...servers,
    ...(current.header
      ? [
          'backend header_route',
          `  server ${current.header.backend} ${backends[current.header.backend]}`,
        ]
      : []),
    '',
  ].join('\n');
}

export interface HaproxyRoute {
  url: string;
  generations: Generation[];
  /** Writes the route's configuration and reloads HAProxy. */
  apply(route: Json): void;
  stop(): Promise<void>;
}

export async function startHaproxyRoute(backends: RouteBackends): Promise<HaproxyRoute> {
  const dir = mkdtempSync(join(tmpdir(), 'cadence-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const port = await freePort();
  const generations: Generation[] = [];
  let child: ChildProcess | undefined;
  const logs: string[] = [];
  return {
    url: `http://127.0.0.1:${port}`,
    generations,
    apply(route) {
      const next = routeGeneration(route, generations.length + 1);
      generations.push(next);
      writeFileSync(config, haproxyConfig(port, next, backends));
      if (!child) {
        child = spawn(HAPROXY_BIN, ['-W', '-db', '-f', config], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
        child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
      } else {
        child.kill('SIGUSR2'); // master-worker reload: new workers, old ones finish their requests
      }
    },
    async stop() {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
