/** Every default Cadence runs with, in one place. */
export const defaults = {
  server: {
    host: '127.0.0.1',
    port: 8080,
    /** Largest request body accepted (1 MiB); larger → 413. */
    bodyLimitBytes: 1024 * 1024,
    /** How long a graceful shutdown waits for in-flight requests. */
    shutdownTimeoutMs: 10_000,
    /** A request (headers and body) must have arrived within this; a slow body is cut off (408). */
    requestTimeoutMs: 30_000,
    /** The request headers must have arrived within this. */
    headersTimeoutMs: 10_000,
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: 5_000,
    /**
     * Open connections at most; past it the oldest idle one is closed to let a new one in. Below
     * the common 1,024 file-descriptor limit (and lowered at start-up below the process's own),
     * leaving room for the store's pool, files and the Kubernetes watch.
     */
    maxConnections: 800,
    /**
     * Reads (`/api/v1/*` GETs, `/metrics`) and intake (`/events`, `/cdevents`, webhooks without a
     * secret) open, for a developer machine; the start-up log names what is open. The Kubernetes
     * manifests turn both on.
     */
    auth: { read: false, ingest: false },
  },
  store: {
    dataDir: './.cadence',
    poolSize: 10,
  },
  router: {
    enabled: true,
    batchSize: 200,
    pollIntervalMs: 500,
    /** Wait after an intake write before routing, so events are routed in batches. */
    settleMs: 50,
    /**
     * Events waiting to be routed above which POST /events and /cdevents answer 429 with
     * Retry-After (back-pressure instead of unbounded lag). Cadence's own events and webhooks
     * are never refused.
     */
    maxBacklog: 100_000,
    /**
     * `router.workers` (batches routed at once, each in its own transaction) when the config
     * does not set it, per engine: 2 on PostgreSQL (1.5× one worker's rate; 4 added little on 2
     * cores: bench/RESULTS.md), 1 on PGlite, whose one connection runs one transaction at a time
     * (more is refused there).
     */
    defaultWorkers: { postgres: 2, pglite: 1 },
  },
  dora: {
    /** The environment metrics are computed for unless a query names another. */
    environment: 'production',
    /** An incident is attributed to the last deployment before it within this many hours. */
    attributionWindowHours: 24,
    /**
     * Reports of one rollout by different reporters (watcher, ApiServerSource, deployer, Argo CD,
     * GitHub) at most this many seconds apart are one deployment.
     */
    identityWindowSeconds: 3600,
    /**
     * Above this many deploy attempts in a window over every service, metrics are read from the
     * daily rollups: exact counts, medians and p90 within 1 %.
     */
    exactLimit: 50_000,
  },
  /** The routing table used when the config file has none. */
  routes: [
    { type: 'dev.cdevents.*', transformers: ['cdevents'] },
    { type: 'dev.knative.apiserver.resource.*', transformers: ['kubernetes-apiserver'] },
    { type: 'dev.knative.apiserver.ref.*', transformers: ['kubernetes-apiserver'] },
    { type: 'com.github.*', transformers: ['github'] },
    { type: 'dev.knative.source.github.*', transformers: ['github'] },
    { type: 'com.gitlab.*', transformers: ['gitlab'] },
    { type: 'dev.tekton.event.pipelinerun.*', transformers: ['tekton'] },
    { type: 'io.prometheus.alertmanager.*', transformers: ['alertmanager'] },
    { type: 'io.argoproj.argocd.*', transformers: ['argocd'] },
  ],
} as const;
