import type { FastifyInstance } from 'fastify';
import {
  createAnalysisRunner,
  createPrometheusClient,
  noCanaryControl,
  startAnalysis,
  type AnalysisRunner,
  type CanaryControl,
} from '../analysis/index.js';
import { routerWorkers, type CadenceConfig } from '../config/index.js';
import {
  analysisCanaryControl,
  createTrafficSteps,
  countDeployTokens,
  createDeployer,
  createKubeCluster,
  type Cluster,
  type Deployer,
  type DeployerOptions,
  type DeployResult,
} from '../deploy/index.js';
import {
  compileRoutingTable,
  createEventWriter,
  createBacklogGate,
  createIntake,
  createRouter,
  type Router,
} from '../events/index.js';
import { createBackgroundProjector, type BackgroundProjector } from '../dora/index.js';
import { loadKubeConfig } from '../kube/index.js';
import type { Logger } from '../log/index.js';
import { createNotifier, createNotifiers } from '../notify/index.js';
import { CadenceError } from '../problem/index.js';
import { createRolloutWatcher, type RolloutWatcher } from '../rollouts/index.js';
import {
  builtinTransformers,
  builtinWebhookReceivers,
  kubeDeploymentLookup,
  securedSources,
} from '../sources/index.js';
import { openStore, type Store } from '../store/index.js';
import { createUpdateWatcher, type UpdateWatcher } from '../updates/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  newLocalCredential,
  readDiscovery,
  removeDiscovery,
  writeDiscovery,
} from '../discovery/index.js';
import { buildApp } from './app.js';
import { capConnections, openFileLimit } from './connection-cap.js';

// File descriptors kept free for the store, files, the watch and the log, past the connections.
const RESERVED_FDS = 128;

/** The configured connection cap, lowered below the process's own open-file limit. */
function connectionCap(configured: number, logger: Logger): number {
  let limits: string | undefined;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return configured; // no /proc (macOS): the configured cap as given
  }
  const fds = openFileLimit(limits);
  if (fds === undefined || configured <= fds - RESERVED_FDS) return configured;
  const cap = Math.max(2, fds - RESERVED_FDS);
  logger.warn(
    { maxConnections: configured, openFileLimit: fds, cap },
    'connection cap lowered below the open-file limit',
  );
  return cap;
}

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  router: Router;
  /** Projects routed CDEvents into the metrics' rows in the background; `settle()` waits for it. */
  projector: BackgroundProjector;
  /** The canary analysis runner, when a Prometheus is configured. */
  analysisRunner: AnalysisRunner | undefined;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Graceful shutdown: stop accepting, finish in-flight requests, then stop background work. */
  close(): Promise<void>;
}

/** The deployer when enabled; refuses to start without tokens unless `insecureDev`. */
async function startDeployer(
  config: CadenceConfig,
  deps: {
    store: Store;
    intake: ReturnType<typeof createIntake>;
    logger: Logger;
    cluster?: Cluster;
    onCanaryApplied?: DeployerOptions['onCanaryApplied'];
  },
): Promise<Deployer | undefined> {
  const settings = config.deployer;
  if (!settings.enabled) return undefined;
  if (!settings.insecureDev && (await countDeployTokens(deps.store)) === 0) {
    throw new CadenceError('config-invalid', {
      field: 'deployer',
      detail:
        "the deployer is enabled but no tokens exist: create one with 'cadence token create', or start with --insecure-dev on a developer machine",
    });
  }
  const logger = deps.logger.child({ module: 'deployer' });
  return createDeployer({
    store: deps.store,
    intake: deps.intake,
    settings,
    logger,
    // The cluster is the `kube` section's kubeconfig, the same one the rollout watcher uses.
    cluster: deps.cluster ?? createKubeCluster(loadKubeConfig(config.kube)),
    ...(deps.onCanaryApplied ? { onCanaryApplied: deps.onCanaryApplied } : {}),
    ...(settings.notify.webhookUrl
      ? {
          // Deploy failures go as Slack-compatible `{ text, blocks }` (docs/deploy.md).
          notifier: createNotifier({ type: 'slack', url: settings.notify.webhookUrl }, logger),
        }
      : {}),
  });
}

/**
 * What `server.auth` leaves open, for the one start-up warning line; undefined when nothing is.
 *
 * @example openSurfaces(config)?.message // 'auth: intake (…) and reads (…) are open; …'
 */
export function openSurfaces(
  config: Pick<CadenceConfig, 'server' | 'deployer'>,
): { list: string[]; message: string } | undefined {
  if (config.deployer.enabled && config.deployer.insecureDev) {
    return {
      list: ['everything'],
      message:
        'auth: --insecure-dev: every route is open, deploys and canary verdicts included; never expose this server',
    };
  }
  const list: string[] = [];
  if (!config.server.auth.ingest)
    list.push('intake (/events, /cdevents, /webhooks without secrets)');
  if (!config.server.auth.read) list.push('reads (/api/v1/*, /metrics)');
  if (list.length === 0) return undefined;
  return {
    list,
    message: `auth: ${list.join(' and ')} ${list.length > 1 ? 'are' : 'is'} open; set server.auth.ingest and server.auth.read to require tokens`,
  };
}

/** Wires the domain modules together and starts listening. */
export async function startServer(
  config: CadenceConfig,
  logger: Logger,
  options: {
    /** The cluster the deployer applies to; the `kube` section's kubeconfig when absent. */
    cluster?: Cluster;
    /**
     * What a canary verdict does: the deployer's promote / canary removal when the deployer is
     * enabled, else nothing (the verdict is still recorded and reported).
     */
    canaryControl?: CanaryControl;
  } = {},
): Promise<RunningServer> {
  // A kubeconfig that cannot be read is a config error before anything starts.
  const kubeConfig = config.kube.watch ? loadKubeConfig(config.kube) : undefined;
  const store = await openStore({
    databaseUrl: config.store.databaseUrl,
    dataDir: config.store.dataDir,
    poolSize: config.store.poolSize,
    onBootstrap: (made) => logger.info(made, 'embedded store created'),
    // A CLI command holding the directory lets go within seconds; another server does not.
    waitForHolder: () => readDiscovery(config.store.dataDir) === undefined,
  });
  // This server holds the directory now: a discovery file left by a killed one must not send
  // CLIs to it (with its old credential) while this one starts.
  if (!config.store.databaseUrl) removeDiscovery(config.store.dataDir);
  // Reference-mode ApiServerSource events carry only a name: resolving them reads the
  // Deployment from the `kube` section's cluster, when one is configured.
  const lookupConfig =
    config.kube.watch || config.kube.kubeconfig
      ? (kubeConfig ?? loadKubeConfig(config.kube))
      : undefined;
  if (!lookupConfig) {
    logger.warn(
      'no kube section configured: reference-mode ApiServerSource events (dev.knative.apiserver.ref.*) cannot be resolved; set kube.kubeconfig (or kube.watch) to read Deployments from the cluster',
    );
  }
  const transformers = builtinTransformers({
    settings: config.sources,
    ...(lookupConfig ? { deploymentLookup: kubeDeploymentLookup(lookupConfig) } : {}),
  });
  const table = compileRoutingTable(config.routes, transformers.keys());
  const secured = securedSources(config.sources);
  // Metrics reads only read: the rules' results are projected here, in the background, after
  // each routed batch (and on a timer, for what other replicas routed).
  const projector = createBackgroundProjector({
    store,
    settings: config.dora,
    logger: logger.child({ module: 'projector' }),
    pollIntervalMs: Math.max(config.router.pollIntervalMs, 1000),
  });
  const router = createRouter({
    store,
    table,
    transformers,
    onRouted: (count) => {
      projector.kick();
      backlog.routed(count);
    },
    logger: logger.child({ module: 'router' }),
    batchSize: config.router.batchSize,
    pollIntervalMs: config.router.pollIntervalMs,
    settleMs: config.router.settleMs,
    workers: routerWorkers(config),
  });
  const writer = createEventWriter(store);
  const backlog = createBacklogGate({ db: store, maxBacklog: config.router.maxBacklog });
  // The intake checks each event's producer against the same routing table the router uses.
  const intake = createIntake({
    writer,
    onStored: () => router.kick(),
    admission: { table, secured },
    backlog,
  });
  // A canary the deployer applies starts its analysis (when one can run); the analysis's
  // verdict comes back through the deployer. Each needs the other, so the hook reads this later.
  let startCanaryAnalysis:
    ((canary: Extract<DeployResult, { ok: true }>) => Promise<void>) | undefined;
  let deployer: Deployer | undefined;
  try {
    deployer = await startDeployer(config, {
      store,
      intake,
      logger,
      ...(options.cluster ? { cluster: options.cluster } : {}),
      onCanaryApplied: (canary) => startCanaryAnalysis?.(canary) ?? Promise.resolve(),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const canaryControl =
    options.canaryControl ??
    (deployer
      ? analysisCanaryControl(deployer, createTrafficSteps({ store, deployer }))
      : noCanaryControl);
  const analysisRunner =
    config.analysis.enabled && config.analysis.prometheusUrl
      ? createAnalysisRunner({
          store,
          prometheus: createPrometheusClient({
            url: config.analysis.prometheusUrl,
            timeoutMs: config.analysis.queryTimeoutMs,
          }),
          control: canaryControl,
          logger: logger.child({ module: 'analysis' }),
          emit: config.analysis.emitCdevents
            ? (events) => intake.acceptDecoded(events, 'cdevent')
            : undefined,
          notifiers: createNotifiers(config.analysis.notifications, logger),
          leaseMs: config.analysis.leaseSeconds * 1000,
          pollIntervalMs: config.analysis.pollIntervalMs,
        })
      : undefined;
  if (analysisRunner && deployer) {
    const services = config.deployer.services;
    startCanaryAnalysis = async (canary) => {
      const service = services[canary.service];
      await startAnalysis(
        store,
        {
          service: canary.service,
          namespace: service?.namespace,
          // The verdict counts where the deployer counts the service's deploys (its DORA
          // environment, default the namespace), not in the analysis's default environment.
          environment: service ? (service.environment ?? service.namespace) : undefined,
          revision: canary.version,
          // One analysis per canary operation: a retried start finds the same one.
          id: `canary-${canary.operationId}`,
          // A service started with a baseline is judged against it.
          ...(service?.baseline ? { analysis: { compareWith: 'baseline' as const } } : {}),
        },
        config.analysis,
      );
      analysisRunner.wake();
    };
  }
  // Continuous updates watch the deployer's services only: a policy for another is a config error.
  let updateWatcher: UpdateWatcher | undefined;
  if (config.updates.enabled) {
    const unknown = Object.keys(config.updates.services).find(
      (service) => !deployer?.services().includes(service),
    );
    if (unknown !== undefined || !deployer) {
      await store.close();
      throw new CadenceError('config-invalid', {
        field: unknown === undefined ? 'updates' : `updates.services.${unknown}`,
        detail:
          unknown === undefined
            ? 'continuous updates need the deployer enabled'
            : `updates name service ${unknown}, which the deployer does not have`,
      });
    }
    updateWatcher = createUpdateWatcher({
      store,
      deployer,
      settings: config.updates,
      logger: logger.child({ module: 'updates' }),
    });
  }
  // The embedded store is this process's alone: CLI commands on the same directory come through
  // the API, finding it (and a credential good from loopback only) in the discovery file.
  const embeddedDir = config.store.databaseUrl ? undefined : config.store.dataDir;
  const localCredential = embeddedDir ? newLocalCredential() : undefined;
  const app = buildApp({
    store,
    ...(localCredential ? { localCredential } : {}),
    gitMirrorDir: join(config.store.dataDir, 'git-mirrors'),
    intake,
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    timeouts: config.server,
    webhookReceivers: builtinWebhookReceivers(config.sources),
    securedSources: secured,
    auth: config.server.auth,
    dora: config.dora,
    rolloutStreams: config.kube.rolloutStreams,
    analysis: config.analysis,
    ...(analysisRunner ? { onAnalysisStarted: () => analysisRunner.wake() } : {}),
    ...(deployer ? { deployer: { deployer, insecureDev: config.deployer.insecureDev } } : {}),
    ...(updateWatcher
      ? { updates: { watcher: updateWatcher, insecureDev: config.deployer.insecureDev } }
      : {}),
  });
  capConnections(app.server, connectionCap(config.server.maxConnections, logger));
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await store.close();
    throw error;
  }
  if (config.router.enabled) {
    router.start();
    projector.start();
  }
  let watcher: RolloutWatcher | undefined;
  if (kubeConfig) {
    watcher = createRolloutWatcher({
      kubeConfig,
      namespaces: config.kube.namespaces,
      lateCompletionGraceMs: config.kube.lateCompletionGraceSeconds * 1000,
      store,
      intake,
      logger: logger.child({ module: 'rollouts' }),
    });
    // Not awaited: a cluster that is slow to answer must not hold the server's start-up.
    const starting = watcher;
    starting.start().catch((error: unknown) => {
      logger.error({ error }, 'rollout watcher did not start');
    });
  }
  analysisRunner?.start();
  updateWatcher?.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  // A wildcard address is reached on loopback by a CLI on this machine.
  const localHost = { '0.0.0.0': '127.0.0.1', '::': '[::1]', '[::]': '[::1]' }[host] ?? host;
  const discoveryWritten =
    embeddedDir && localCredential
      ? writeDiscovery(embeddedDir, {
          url: `http://${localHost}:${port}`,
          credential: localCredential,
        })
      : undefined;
  logger.info({ url: `http://${host}:${port}`, engine: store.engine }, 'cadence listening');
  const open = openSurfaces(config);
  if (open) logger.warn({ open: open.list }, open.message);

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    router,
    projector,
    analysisRunner,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        discoveryWritten?.();
        await app.close();
        await watcher?.stop();
        await analysisRunner?.stop();
        await updateWatcher?.stop();
        await router.stop();
        await projector.stop();
        await writer.drain();
        await store.close();
      })();
      return closing;
    },
  };
}
