/**
 * A small HTTP service exporting golden signals with prom-client, as a service under canary
 * analysis would: `http_requests_total{code}` and the `http_request_duration_seconds`
 * histogram, labelled service / track / namespace, plus the process collector (CPU, memory).
 * It can be told to regress: a share of 500s, added latency. The histogram records the time the
 * app spends on a request (its latency setting plus jitter), not the wall time until the
 * timer fired: on a CI machine shared by many test runs the event loop can lag by hundreds of
 * milliseconds, which would slow both tracks alike and hide or fake a regression.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface DemoBehaviour {
  /** Share of requests answered 500 (0–1). */
  errorRatio: number;
  /** Time each request takes before it is answered. */
  latencyMs: number;
  /** Up to this much more, uniformly. */
  jitterMs: number;
}

export interface DemoApp {
  url: string;
  /** host:port, for a scrape config. */
  target: string;
  service: string;
  track: 'stable' | 'canary' | 'baseline';
  set(behaviour: Partial<DemoBehaviour>): void;
  close(): Promise<void>;
}

// Coarse around the healthy latency so healthy p95/p99 are stable under a busy machine's
// scheduling noise, fine enough above it that +20 % or +100 ms moves them.
const BUCKETS = [0.005, 0.05, 0.06, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2];

export async function startDemoApp(options: {
  service: string;
  track: 'stable' | 'canary' | 'baseline';
  namespace?: string;
  behaviour?: Partial<DemoBehaviour>;
}): Promise<DemoApp> {
  const behaviour: DemoBehaviour = {
    errorRatio: 0,
    latencyMs: 10,
    jitterMs: 5,
    ...options.behaviour,
  };
  const registry = new Registry();
  registry.setDefaultLabels({
    service: options.service,
    track: options.track,
    namespace: options.namespace ?? 'default',
  });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests answered, by status code',
    labelNames: ['code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request',
    buckets: BUCKETS,
    registers: [registry],
  });
  let errorDebt = 0;
  const server: Server = createServer((request, response) => {
    if (request.url === '/metrics') {
      void registry.metrics().then((text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(text);
      });
      return;
    }
    const wait = behaviour.latencyMs + Math.random() * behaviour.jitterMs;
    setTimeout(() => {
      // Errors spread evenly (not at random), so a 1 % regression is 1 in every 100.
      errorDebt += behaviour.errorRatio;
      const failing = errorDebt >= 1;
      if (failing) errorDebt -= 1;
      const code = failing ? 500 : 200;
      // The track answering, for a test counting where a proxy sent each request.
      response.writeHead(code, { 'content-type': 'text/plain', 'x-track': options.track });
      response.end(failing ? 'failed\n' : 'ok\n');
      requests.inc({ code: String(code) });
      duration.observe(wait / 1000);
    }, wait);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    service: options.service,
    track: options.track,
    set(change) {
      Object.assign(behaviour, change);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends requests to the targets at a fixed rate each, loopback only, with a cap on requests in
 * flight so a slow target cannot pile up work. Stop it before closing the apps.
 */
export function startLoad(
  targets: readonly { url: string }[],
  options: { ratePerSecond: number; maxInFlight?: number },
): { stop: () => Promise<void>; set: (targets: readonly { url: string }[]) => void } {
  let current = [...targets];
  const maxInFlight = options.maxInFlight ?? 50;
  const inFlight = new Set<Promise<unknown>>();
  for (const target of current) {
    if (new URL(target.url).hostname !== '127.0.0.1') throw new Error('load goes to loopback only');
  }
  const timer = setInterval(() => {
    for (const target of current) {
      if (inFlight.size >= maxInFlight) return;
      const request = fetch(target.url)
        .then((response) => response.arrayBuffer())
        .catch(() => undefined)
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  }, 1000 / options.ratePerSecond);
  return {
    set(next) {
      current = [...next];
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
