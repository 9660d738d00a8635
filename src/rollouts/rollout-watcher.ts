import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { validateCdevent, wrapCdevent, type Intake } from '../events/index.js';
import { clusterServer, kubeClient } from '../kube/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';
import { rolloutCdevent } from './rollout-cdevent.js';
import { observeRollout } from './rollout-phase.js';
import { rolloutFeed } from './rollout-feed.js';
import {
  dueRolloutEvents,
  liveUids,
  markFailureEmitted,
  markRolloutEmitted,
  recordDeletion,
  recordObservation,
  type DueRolloutEvent,
} from './rollout-rows.js';

export interface RolloutWatcherOptions {
  kubeConfig: KubeConfig;
  /** Namespaces to watch; empty: all. */
  namespaces: readonly string[];
  store: Store;
  intake: Intake;
  logger: Logger;
  /** First delay before restarting a failed watch; doubled up to 30 s. */
  retryMs?: number;
  /** How often due CDEvents are looked for (failed sends, settled deadline misses). */
  sweepIntervalMs?: number;
  /**
   * How long a rollout past its progress deadline may still complete before its failure counts
   * for DORA (`kube.lateCompletionGraceSeconds`); 0: the deadline miss counts at once.
   */
  lateCompletionGraceMs?: number;
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
  // The client is loaded here, not where this module is imported: a server without a cluster
  // never loads it (~70 MB of its idle RSS; src/kube/kube-client.ts).
  const { AppsV1Api, makeInformer } = kubeClient();
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const timers = new Set<NodeJS.Timeout>();
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  const graceMs = options.lateCompletionGraceMs ?? 3_600_000;
  const feed = rolloutFeed(store);

  async function emit({ rollout, outcome, reportedByDeployer }: DueRolloutEvent): Promise<void> {
    const mark =
      outcome === 'failure' && rollout.phase === 'failed' ? markFailureEmitted : markRolloutEmitted;
    // The deployer's own CDEvent already counts this deployment: marked as sent, not sent.
    if (!reportedByDeployer) {
      const validation = validateCdevent(rolloutCdevent(rollout, cluster, outcome));
      if (!validation.ok) {
        logger.error(
          { rolloutId: rollout.id, issues: validation.issues },
          'rollout CDEvent invalid',
        );
        return;
      }
      await intake.acceptDecoded([wrapCdevent(validation.value)], 'cdevent');
    }
    await mark(store, rollout.id);
    logger.info(
      {
        namespace: rollout.namespace,
        deployment: rollout.deployment,
        revision: rollout.revision,
        phase: rollout.phase,
        outcome,
      },
      'rollout finished',
    );
  }

  /** Sends every CDEvent due (docs/rollouts.md, "Late completion"). */
  async function sendDue(): Promise<void> {
    for (const due of await dueRolloutEvents(store, now(), graceMs)) await emit(due);
  }

  async function observe(deployment: V1Deployment): Promise<void> {
    const observation = observeRollout(deployment);
    // Until the controller has seen the new generation its status (and revision) is the old one's.
    if (!observation || !observation.observed) return;
    const recorded = await recordObservation(store, observation, now());
    if (recorded.liveChanged) feed.poke();
    if (recorded.rollout && recorded.rollout.phase !== 'progressing') await sendDue();
  }

  async function forget(deployment: V1Deployment): Promise<void> {
    const uid = deployment.metadata?.uid;
    if (!uid) return;
    if (await recordDeletion(store, uid, now())) feed.poke();
    // A failed rollout deleted before completing is settled: its failure is due now.
    await sendDue();
  }

  /**
   * After a (re-)list: Deployments recorded as live but no longer in the cluster were deleted
   * while nobody watched (Cadence stopped, or the watch was down past its history).
   */
  async function forgetVanished(
    namespace: string | undefined,
    present: readonly V1Deployment[],
  ): Promise<void> {
    const seen = new Set(present.map((deployment) => deployment.metadata?.uid));
    const at = now();
    let changed = false;
    for (const uid of await liveUids(store, namespace ? [namespace] : options.namespaces)) {
      if (!seen.has(uid) && (await recordDeletion(store, uid, at))) changed = true;
    }
    if (changed) feed.poke();
  }

  function enqueue(work: () => Promise<void>): void {
    chain = chain.then(work).catch((error: unknown) => {
      logger.warn({ error }, 'rollout not recorded');
    });
  }

  const sweep = sendDue;

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
    informer.on('delete', (deployment: V1Deployment) => enqueue(() => forget(deployment)));
    let retryMs = options.retryMs ?? 1000;
    informer.on('connect', () => {
      retryMs = options.retryMs ?? 1000;
    });
    let errors = 0;
    // A (re)start lists, then watches. When the list went through, the informer's cache is the
    // cluster now; later re-lists (410 Gone) report deletions themselves.
    const begin = async () => {
      const before = errors;
      await informer.start().catch(() => {
        // reported through 'error', which retries
      });
      if (errors === before && !stopped) {
        enqueue(() => forgetVanished(namespace, informer.list()));
      }
    };
    informer.on('error', (error: unknown) => {
      errors += 1;
      if (stopped) return;
      logger.warn(
        { namespace: namespace ?? '*', error: String(error), retryMs },
        'deployment watch failed',
      );
      const delay = retryMs;
      retryMs = Math.min(retryMs * 2, 30_000);
      later(delay, () => void begin());
    });
    return { namespace, informer, begin };
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
      await Promise.all(informers.map(({ begin }) => begin()));
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
