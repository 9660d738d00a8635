import {
  AppsV1Api,
  makeInformer,
  type KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import { validateCdevent, wrapCdevent, type Intake } from '../events/index.js';
import { clusterServer } from '../kube/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { rolloutCdevent } from './rollout-cdevent.js';
import { observeRollout } from './rollout-phase.js';
import { markRolloutEmitted, recordRollout, unsentRollouts, type Rollout } from './rollout-rows.js';

export interface RolloutWatcherOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  store: Store;
  intake: Intake;
  logger: Logger;
  /** First delay before restarting a failed watch; doubled up to 30 s. */
  retryMs?: number;
  /** How often CDEvents whose send failed are sent again. */
  sweepIntervalMs?: number;
  now?: () => Date;
}

export interface RolloutWatcher {
  /** Lists and starts watching; resolves once the first lists are in. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once every change seen so far is recorded (and its CDEvent sent). */
  settled(): Promise<void>;
}

/**
 * Watches Deployments through @kubernetes/client-node's informer (list, then watch from the
 * list's resourceVersion). When a watch ends the informer watches again from the last
 * resourceVersion it saw; when that is too old (410 Gone) it lists again and diffs; when the
 * watch fails (connection refused, 5xx) this watcher starts it again after a backoff. A re-list
 * only re-records what changed: rows are upserted and a finished rollout is final.
 *
 * Changes are recorded one at a time, in the order seen, so a rollout's rows never go back.
 */
export function createRolloutWatcher(options: RolloutWatcherOptions): RolloutWatcher {
  const { kubeConfig, store, intake, logger } = options;
  const now = options.now ?? (() => new Date());
  const cluster = clusterServer(kubeConfig);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const timers = new Set<NodeJS.Timeout>();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  async function emit(rollout: Rollout): Promise<void> {
    const validation = validateCdevent(rolloutCdevent(rollout, cluster));
    if (!validation.ok) {
      logger.error({ rolloutId: rollout.id, issues: validation.issues }, 'rollout CDEvent invalid');
      return;
    }
    await intake.acceptDecoded([wrapCdevent(validation.value)], 'cdevent');
    await markRolloutEmitted(store, rollout.id);
    logger.info(
      {
        namespace: rollout.namespace,
        deployment: rollout.deployment,
        revision: rollout.revision,
        phase: rollout.phase,
      },
      'rollout finished',
    );
  }

  async function observe(deployment: V1Deployment): Promise<void> {
    const observation = observeRollout(deployment);
    // Until the controller has seen the new generation its status (and revision) is the old one's.
    if (!observation || !observation.observed) return;
    const recorded = await recordRollout(store, observation, now());
    if (!recorded?.needsEvent) return;
    // The deployer's own CDEvent already counts this deployment: marked as sent, not sent.
    if (observation.reportedByDeployer) await markRolloutEmitted(store, recorded.rollout.id);
    else await emit(recorded.rollout);
  }

  function enqueue(work: () => Promise<void>): void {
    chain = chain.then(work).catch((error: unknown) => {
      logger.warn({ error }, 'rollout not recorded');
    });
  }

  async function sweep(): Promise<void> {
    for (const rollout of await unsentRollouts(store)) await emit(rollout);
  }

  function later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) work();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  const scopes = options.namespaces.length > 0 ? [...options.namespaces] : [undefined];
  const informers = scopes.map((namespace) => {
    const path = namespace
      ? `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`
      : '/apis/apps/v1/deployments';
    const informer = makeInformer<V1Deployment>(kubeConfig, path, () =>
      namespace
        ? apps.listNamespacedDeployment({ namespace })
        : apps.listDeploymentForAllNamespaces(),
    );
    const onChange = (deployment: V1Deployment) => enqueue(() => observe(deployment));
    informer.on('add', onChange);
    informer.on('update', onChange);
    let retryMs = options.retryMs ?? 1000;
    informer.on('connect', () => {
      retryMs = options.retryMs ?? 1000;
    });
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      logger.warn(
        { namespace: namespace ?? '*', error: String(error), retryMs },
        'deployment watch failed',
      );
      const delay = retryMs;
      retryMs = Math.min(retryMs * 2, 30_000);
      later(delay, () => {
        informer.start().catch(() => {
          // the informer reports list failures through its 'error' handlers
        });
      });
    });
    return { namespace, informer };
  });

  function scheduleSweep(): void {
    later(options.sweepIntervalMs ?? 60_000, () => {
      enqueue(sweep);
      scheduleSweep();
    });
  }

  return {
    async start() {
      stopped = false;
      enqueue(sweep);
      await Promise.all(
        informers.map(({ informer }) =>
          informer.start().catch(() => {
            // reported through 'error', which retries
          }),
        ),
      );
      scheduleSweep();
      logger.info({ namespaces: options.namespaces, cluster }, 'rollout watcher started');
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.all(informers.map(({ informer }) => informer.stop()));
      await chain;
    },
    async settled() {
      let current: Promise<void>;
      do {
        current = chain;
        await current;
      } while (current !== chain);
    },
  };
}
