import type { FastifyInstance } from 'fastify';
import {
  createAnalysisRunner,
  createPrometheusClient,
  createVerdictNotifiers,
  noCanaryControl,
  startAnalysis,
  type AnalysisRunner,
  type CanaryControl,
} from '../analysis/index.js';
import type { CadenceConfig } from '../config/index.js';
import {
  analysisCanaryControl,
  countDeployTokens,
  createDeployer,
  createKubeCluster,
  createWebhookNotifier,
  type Cluster,
  type Deployer,
  type DeployerOptions,
  type DeployResult,
} from '../deploy/index.js';
import {
  compileRoutingTable,
  createEventWriter,
  createIntake,
  createRouter,
  type Router,
} from '../events/index.js';
import { loadKubeConfig } from '../kube/index.js';
import type { Logger } from '../log/index.js';
import { CadenceError } from '../problem/index.js';
import { createRolloutWatcher, type RolloutWatcher } from '../rollouts/index.js';
import { builtinTransformers, builtinWebhookReceivers } from '../sources/index.js';
import { openStore, type Store } from '../store/index.js';
import { createUpdateWatcher, type UpdateWatcher } from '../updates/index.js';
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
      ? { notifier: createWebhookNotifier({ url: settings.notify.webhookUrl, logger }) }
      : {}),
  });
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
    options.canaryControl ?? (deployer ? analysisCanaryControl(deployer) : noCanaryControl);
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
  const app = buildApp({
    store,
    intake,
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    webhookReceivers: builtinWebhookReceivers(config.sources),
    dora: config.dora,
    rolloutStreams: config.kube.rolloutStreams,
    analysis: config.analysis,
    ...(analysisRunner ? { onAnalysisStarted: () => analysisRunner.wake() } : {}),
    ...(deployer ? { deployer: { deployer, insecureDev: config.deployer.insecureDev } } : {}),
    ...(updateWatcher
      ? { updates: { watcher: updateWatcher, insecureDev: config.deployer.insecureDev } }
      : {}),
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
        await updateWatcher?.stop();
        await router.stop();
        await writer.drain();
        await store.close();
      })();
      return closing;
    },
  };
}
