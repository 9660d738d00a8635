import type { FastifyInstance } from 'fastify';
import {
  createAnalysisRunner,
  createPrometheusClient,
  createVerdictNotifiers,
  noCanaryControl,
  type AnalysisRunner,
  type CanaryControl,
} from '../analysis/index.js';
import type { CadenceConfig } from '../config/index.js';
import {
  compileRoutingTable,
  createEventWriter,
  createIntake,
  createRouter,
  type Router,
} from '../events/index.js';
import { loadKubeConfig } from '../kube/index.js';
import type { Logger } from '../log/index.js';
import { createRolloutWatcher, type RolloutWatcher } from '../rollouts/index.js';
import { builtinTransformers, builtinWebhookReceivers } from '../sources/index.js';
import { openStore, type Store } from '../store/index.js';
import { buildApp } from './app.js';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  router: Router;
  /** The canary analysis runner, when a Prometheus is configured. */
  analysisRunner: AnalysisRunner | undefined;
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Graceful shutdown: stop accepting, finish in-flight requests, then stop background work. */
  close(): Promise<void>;
}

/** Wires the domain modules together and starts listening. */
export async function startServer(
  config: CadenceConfig,
  logger: Logger,
  // The deployer's promote/rollback; until it is wired in, verdicts change nothing in the cluster.
  canaryControl: CanaryControl = noCanaryControl,
): Promise<RunningServer> {
  // A kubeconfig that cannot be read is a config error before anything starts.
  const kubeConfig = config.kube.watch ? loadKubeConfig(config.kube) : undefined;
  const store = await openStore({
    databaseUrl: config.store.databaseUrl,
    dataDir: config.store.dataDir,
    poolSize: config.store.poolSize,
  });
  const transformers = builtinTransformers({ settings: config.sources });
  const router = createRouter({
    store,
    table: compileRoutingTable(config.routes, transformers.keys()),
    transformers,
    logger: logger.child({ module: 'router' }),
    batchSize: config.router.batchSize,
    pollIntervalMs: config.router.pollIntervalMs,
    settleMs: config.router.settleMs,
  });
  const writer = createEventWriter(store);
  const intake = createIntake({ writer, onStored: () => router.kick() });
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
          notifiers: createVerdictNotifiers(config.analysis.notifications, logger),
          leaseMs: config.analysis.leaseSeconds * 1000,
          pollIntervalMs: config.analysis.pollIntervalMs,
        })
      : undefined;
  const app = buildApp({
    store,
    intake,
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    webhookReceivers: builtinWebhookReceivers(config.sources),
    dora: config.dora,
    analysis: config.analysis,
    ...(analysisRunner ? { onAnalysisStarted: () => analysisRunner.wake() } : {}),
  });
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await store.close();
    throw error;
  }
  if (config.router.enabled) router.start();
  let watcher: RolloutWatcher | undefined;
  if (kubeConfig) {
    watcher = createRolloutWatcher({
      kubeConfig,
      namespaces: config.kube.namespaces,
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
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  logger.info({ url: `http://${host}:${port}`, engine: store.engine }, 'cadence listening');

  let closing: Promise<void> | undefined;
  return {
    app,
    store,
    router,
    analysisRunner,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        await app.close();
        await watcher?.stop();
        await analysisRunner?.stop();
        await router.stop();
        await writer.drain();
        await store.close();
      })();
      return closing;
    },
  };
}
