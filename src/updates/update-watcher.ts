import type { Deployer } from '../deploy/index.js';
import type { Logger } from '../log/index.js';
import { CadenceError } from '../problem/index.js';
import type { Store } from '../store/index.js';
import { tagPolicyOf, type UpdatePolicySettings, type UpdatesSettings } from './schema.js';
import { freshness, type Freshness } from './tag-policy.js';
import {
  claimUpdate,
  finishUpdate,
  listUpdates,
  markStarted,
  recordUpdate,
  releaseUpdate,
  supersedeUpdates,
  type Update,
} from './update-rows.js';

/** The deployer as the watcher needs it (the real one in production and tests). */
export type UpdateDeployer = Pick<Deployer, 'services' | 'tags' | 'version' | 'canary'>;

export interface UpdateWatcherOptions {
  store: Store;
  deployer: UpdateDeployer;
  settings: UpdatesSettings;
  logger: Logger;
  now?: () => Date;
}

export interface ServiceFreshness extends Freshness {
  service: string;
  checkedAt: string;
}

export interface UpdateWatcher {
  /** One pass over every service with a policy (those due, unless `force`). */
  tick(options?: { force?: boolean }): Promise<void>;
  /** Each service's freshness as of its last check. */
  freshness(): ServiceFreshness[];
  start(): void;
  stop(): Promise<void>;
}

/** The wait before attempt `failed + 1`: the backoff, doubled after each failure. */
export function backoffMs(
  policy: Pick<UpdatePolicySettings, 'retryBackoffSeconds'>,
  failed: number,
): number {
  return policy.retryBackoffSeconds * 1000 * 2 ** Math.max(0, failed - 1);
}

/** The actor the deployer records for canaries the watcher starts. */
export const UPDATE_ACTOR = 'cadence-updates';

/**
 * The registry watcher: for each service with a policy, lists its image's tags (through the
 * deployer's registry client), records the newest tag the policy allows above stable, and starts
 * a canary at it (after an approval when asked). A started update is followed to its outcome
 * through the deployer's versions: stable at the tag → promoted (lead time = first sighting →
 * now), the canary gone or replaced → rolled-back. One update per service at a time.
 */
export function createUpdateWatcher(options: UpdateWatcherOptions): UpdateWatcher {
  const { store, deployer, settings, logger } = options;
  const now = options.now ?? (() => new Date());
  const lastChecked = new Map<string, number>();
  const fresh = new Map<string, ServiceFreshness>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let busy = false;

  /** Follows a started update; true while it is still in flight. */
  async function follow(update: Update): Promise<boolean> {
    const versions = await deployer.version(update.service);
    if (versions.stable?.tag === update.tag) {
      await finishUpdate(store, update.id, 'promoted', now());
      logger.info({ service: update.service, tag: update.tag }, 'update promoted');
      return false;
    }
    if (versions.canary?.tag !== update.tag) {
      await finishUpdate(store, update.id, 'rolled-back', now());
      logger.info({ service: update.service, tag: update.tag }, 'update rolled back');
      return false;
    }
    return true;
  }

  async function checkService(service: string): Promise<void> {
    const policySettings = settings.services[service]!;
    const policy = tagPolicyOf(policySettings);
    const open = await listUpdates(store, { service, open: true });
    for (const update of open.filter((u) => u.state === 'started')) {
      if (await follow(update)) return; // one canary at a time
    }
    const versions = await deployer.version(service);
    const current = versions.stable?.tag ?? versions.stable?.version;
    if (!current) return; // a canary needs a stable version first
    const listed = await deployer.tags(service);
    const image = policySettings.image
      ? listed.images.find((entry) => entry.image === policySettings.image)
      : listed.images[0];
    if (!image) {
      throw new CadenceError('invalid-input', {
        field: `updates.services.${service}.image`,
        detail: `service ${service} has no image ${policySettings.image ?? ''} to watch`,
      });
    }
    const seen = freshness(current, image.tags, policy);
    fresh.set(service, { service, ...seen, checkedAt: now().toISOString() });
    await supersedeUpdates(store, service, seen.update ?? '', now());
    if (!seen.update) return;
    const { update, inserted } = await recordUpdate(store, {
      service,
      tag: seen.update,
      fromVersion: current,
      approvalRequired: policySettings.approval,
      seenAt: now(),
    });
    if (inserted) logger.info({ service, tag: update.tag }, 'update seen');
    if (update.state !== 'approved') return;
    if (update.retryAt && update.retryAt > now()) return; // backing off after a failed start
    // Only the replica whose conditional update wins starts the canary.
    if (!(await claimUpdate(store, update.id, now()))) return;
    const attempt = update.attempts + 1;
    const last = attempt >= policySettings.maxAttempts;
    // The deployer audits every attempt; only the last failure is worth a person's attention.
    const result = await deployer.canary(service, { tag: update.tag }, UPDATE_ACTOR, {
      notify: last,
    });
    if (result.ok) {
      await markStarted(store, update.id, result.operationId, `canary-${result.operationId}`);
      logger.info({ service, tag: update.tag }, 'update canary started');
      return;
    }
    const retryAt = last ? null : new Date(now().getTime() + backoffMs(policySettings, attempt));
    await releaseUpdate(store, update.id, result.error.message, retryAt, now());
    logger.warn(
      { service, tag: update.tag, attempt, retryAt, err: result.error },
      last ? 'update failed: attempts used up' : 'update canary failed; retrying later',
    );
  }

  async function tick({ force = false } = {}) {
    const known = new Set(deployer.services());
    for (const [service, policy] of Object.entries(settings.services)) {
      if (!known.has(service)) continue;
      const due = (lastChecked.get(service) ?? 0) + policy.intervalSeconds * 1000;
      if (!force && Date.now() < due) continue;
      lastChecked.set(service, Date.now());
      try {
        await checkService(service);
      } catch (error) {
        logger.warn({ service, err: error }, 'update check failed');
      }
    }
  }

  return {
    tick(tickOptions) {
      // Passes run one after another (an approval's pass waits for the timer's).
      const pass = (running ?? Promise.resolve()).then(async () => {
        busy = true;
        try {
          await tick(tickOptions);
        } finally {
          busy = false;
        }
      });
      running = pass.catch(() => undefined);
      return pass;
    },
    freshness: () => [...fresh.values()].sort((a, b) => a.service.localeCompare(b.service)),
    start() {
      if (timer) return;
      // Once a second, skipped while a slow registry still holds the last pass.
      timer = setInterval(() => {
        if (!busy) void this.tick();
      }, 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
