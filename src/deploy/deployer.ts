import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cancelAnalyses } from '../analysis/index.js';
import type { Intake } from '../events/index.js';
import { redactCredentials } from '../git/index.js';
import type { Logger } from '../log/index.js';
import { CadenceError } from '../problem/index.js';
import { createRegistryClient, tagForCommit, type RegistryClient } from '../registry/index.js';
import type { Store } from '../store/index.js';
import { deployCdevent } from './deploy-cdevent.js';
import {
  listOperations,
  readServiceState,
  recordOperation,
  tryLockService,
  unlockService,
  writeServiceState,
  type DeployedRevision,
  type ServiceState,
} from './deploy-rows.js';
import type { Action } from '../auth/index.js';
import { noopNotifier, type FailureNotifier } from './failure-notifier.js';
import { parseImage } from './image-reference.js';
import { commitOfTag, DEFAULT_TAG_PATTERN } from './tag-commit.js';
import type { Cluster } from './kube-cluster.js';
import { createManifestCache, type ManifestCache } from './manifest-cache.js';
import {
  deploymentImages,
  keepLiveSelectors,
  objectRef,
  parseManifests,
  rewriteManifests,
  untaggedImages,
  type Manifest,
  type ObjectRef,
  type Track,
} from './manifest-rewrite.js';
import type { DeployerSettings, DeployServiceSettings } from './schema.js';
import { trafficObjectsFor } from './traffic-objects.js';

/** The operations that change a cluster. */
export type DeployOperation = Extract<Action, 'deploy' | 'canary' | 'promote' | 'rollback'>;

/** A commit and/or a tag, as the API takes them. */
export interface DeployRef {
  commit?: string | undefined;
  tag?: string | undefined;
}

/** What an operation did, or why it did nothing: a value, never thrown. */
export type DeployResult =
  | {
      ok: true;
      operation: DeployOperation;
      service: string;
      operationId: number;
      version: string;
      commit: string;
      tag?: string | undefined;
      images: string[];
      applied: ObjectRef[];
      removed: ObjectRef[];
      durationMs: number;
    }
  | {
      ok: false;
      operation: DeployOperation;
      service: string;
      operationId: number;
      /** Where it stopped: before the cluster (nothing changed), or while applying. */
      step: 'validate' | 'apply';
      error: CadenceError;
      durationMs: number;
    };

export interface ServiceSummary {
  name: string;
  namespace: string;
  repository: string;
  manifests: string;
  registry: string | null;
  canaryReplicas: number;
  stable: RevisionSummary | null;
  canary: RevisionSummary | null;
}

export interface RevisionSummary {
  version: string;
  commit: string;
  tag: string | null;
  at: string;
}

export interface Deployer {
  services(): string[];
  list(): Promise<ServiceSummary[]>;
  show(
    service: string,
  ): Promise<ServiceSummary & { previous: RevisionSummary | null; operations: unknown[] }>;
  tags(service: string): Promise<{ service: string; images: { image: string; tags: string[] }[] }>;
  version(service: string): Promise<{
    service: string;
    stable: RevisionSummary | null;
    canary: RevisionSummary | null;
    previous: RevisionSummary | null;
  }>;
  deploy(service: string, ref: DeployRef, actor: string): Promise<DeployResult>;
  /** `notify: false`: a failure is audited but not sent to the webhook (a retry to come). */
  canary(
    service: string,
    ref: DeployRef,
    actor: string,
    options?: { notify?: boolean },
  ): Promise<DeployResult>;
  /** With `expect`, only the canary named there is promoted (see CanaryExpectation). */
  promote(service: string, actor: string, expect?: CanaryExpectation): Promise<DeployResult>;
  /** With `expect`, only the canary is removed: stable is never rolled back. */
  rollback(service: string, actor: string, expect?: CanaryExpectation): Promise<DeployResult>;
  /**
   * Traffic steps: the canary's weight in the service's HTTPRoute, serialized with the
   * operations; refused (a `conflict`) when the expected canary is not the one running.
   */
  shiftCanary(service: string, weight: number, expect: CanaryExpectation): Promise<void>;
  /** The service's config (its traffic strategy, namespace). */
  settingsOf(service: string): DeployServiceSettings;
}

/**
 * What a caller acting on a canary it started (the canary analysis) expects to find: a canary,
 * at this version when given. Checked inside the service's serialized operation, so a canary
 * replaced or removed meanwhile is refused (a `conflict`) instead of promoting the wrong version
 * or rolling stable back.
 */
export interface CanaryExpectation {
  /** The canary's version, commit (or its prefix) or tag. */
  canaryVersion?: string | undefined;
}

function checkCanary(
  service: string,
  canary: DeployedRevision | null,
  expect: CanaryExpectation | undefined,
): void {
  if (!expect) return;
  if (!canary) {
    throw new CadenceError('conflict', {
      field: 'service',
      detail: `service ${service} has no canary any more`,
    });
  }
  const wanted = expect.canaryVersion;
  if (
    wanted &&
    canary.version !== wanted &&
    canary.tag !== wanted &&
    !canary.commit.startsWith(wanted)
  ) {
    throw new CadenceError('conflict', {
      field: 'revision',
      detail: `service ${service}'s canary is now ${canary.version}, not ${wanted}`,
    });
  }
}

export interface DeployerOptions {
  store: Store;
  intake: Intake;
  cluster: Cluster;
  settings: DeployerSettings;
  logger: Logger;
  notifier?: FailureNotifier;
  /** How long a service's lease is held at most (a replica that died frees it after this). */
  leaseMs?: number;
  /**
   * Told of every canary applied, after its operation finished (the server starts its canary
   * analysis here). A failure here is logged; the canary stays applied.
   */
  onCanaryApplied?: (canary: Extract<DeployResult, { ok: true }>) => Promise<void>;
}

const summary = (revision: DeployedRevision | null): RevisionSummary | null =>
  revision && {
    version: revision.version,
    commit: revision.commit,
    tag: revision.tag ?? null,
    at: revision.at,
  };

const sameRef = (a: ObjectRef, b: ObjectRef) =>
  a.kind === b.kind &&
  a.name === b.name &&
  a.namespace === b.namespace &&
  a.apiVersion === b.apiVersion;

/**
 * The deployer: validate (service, ref, image tags) → manifests at the ref from the cached clone →
 * rewrite → dry-run of every change → server-side apply → remove the canary it replaces → record,
 * emit a CDEvent, and tell the webhook about failures. Operations on one service run one at a
 * time: queued in this process, and behind a lease row in the database across replicas.
 *
 * @example const result = await deployer.deploy('web', { commit: '025838f' }, 'ci')
 */
export function createDeployer(options: DeployerOptions): Deployer {
  const { store, settings, cluster, logger } = options;
  const notifier = options.notifier ?? noopNotifier;
  const leaseMs = options.leaseMs ?? 10 * 60_000;
  const owner = randomUUID();
  const caches = new Map<string, ManifestCache>();
  const registries = new Map<string, RegistryClient>();
  const queues = new Map<string, Promise<unknown>>();

  function config(service: string): DeployServiceSettings {
    const found = Object.hasOwn(settings.services, service)
      ? settings.services[service]
      : undefined;
    if (!found) {
      throw new CadenceError('not-found', {
        field: 'service',
        detail: `service ${service} is not configured`,
      });
    }
    return found;
  }

  function cacheOf(service: string): ManifestCache {
    let cache = caches.get(service);
    if (!cache) {
      cache = createManifestCache({
        repository: config(service).repository,
        dir: join(settings.cacheDir, `${service}.git`),
      });
      caches.set(service, cache);
    }
    return cache;
  }

  function registryOf(service: string): RegistryClient | undefined {
    const registry = config(service).registry;
    if (!registry) return undefined;
    let client = registries.get(service);
    if (!client) {
      client = createRegistryClient(registry);
      registries.set(service, client);
    }
    return client;
  }

  /** Runs `work` when every earlier operation on the service (here and in other replicas) is done. */
  function serialized<T>(service: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(service) ?? Promise.resolve();
    const run = previous.then(async () => {
      while (!(await tryLockService(store, service, owner, leaseMs))) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      try {
        return await work();
      } finally {
        await unlockService(store, service, owner);
      }
    });
    const settled = run.catch(() => undefined);
    queues.set(service, settled);
    void settled.then(() => {
      if (queues.get(service) === settled) queues.delete(service);
    });
    return run;
  }

  async function manifestsAt(service: string, commit: string): Promise<Manifest[]> {
    const files = await cacheOf(service).readManifests(commit, config(service).manifests);
    return files.flatMap((file) => parseManifests(file.text, file.path));
  }

  /** The tag each untagged image gets: the tag given, else the registry's `<branch>-<sha>` tag. */
  async function imageTagsFor(
    service: string,
    manifests: Manifest[],
    commit: string,
    tag: string | undefined,
  ) {
    const registry = registryOf(service);
    const imageTags: Record<string, string> = {};
    for (const image of untaggedImages(manifests)) {
      const reference = parseImage(image);
      if (tag !== undefined) {
        imageTags[reference.repository] = tag;
        continue;
      }
      if (!registry || reference.host !== registry.host) {
        throw new CadenceError('invalid-input', {
          field: 'commit',
          detail: `image ${image} has no tag and is not in the service's registry, so no tag can be found for commit ${commit.slice(0, 12)}; deploy with a tag`,
        });
      }
      const found = tagForCommit(await registry.listTags(reference.path), commit);
      if (!found) {
        throw new CadenceError('invalid-input', {
          field: 'commit',
          detail: `no image tag <branch>-<sha> for commit ${commit.slice(0, 12)} in ${image}`,
        });
      }
      imageTags[reference.repository] = found;
    }
    return imageTags;
  }

  /**
   * An image-only update's tags: stable's, with every image of the service's registry at the
   * new tag (others, such as a sidecar from Docker Hub, keep theirs).
   */
  function imageOnlyTags(service: string, stable: DeployedRevision, tag: string) {
    const registry = registryOf(service);
    const imageTags = { ...stable.imageTags };
    for (const repository of Object.keys(imageTags)) {
      if (!registry || parseImage(repository).host === registry.host) imageTags[repository] = tag;
    }
    return imageTags;
  }

  /** Every image the rewritten Deployments run that is in the service's registry must exist there. */
  async function checkImages(service: string, objects: Manifest[]): Promise<string[]> {
    const images = deploymentImages(objects);
    const registry = registryOf(service);
    if (!registry) return images;
    const missing: string[] = [];
    for (const image of images) {
      const reference = parseImage(image);
      if (reference.host !== registry.host) continue;
      const exists = await registry.hasManifest(
        reference.path,
        reference.digest ?? reference.tag ?? 'latest',
      );
      if (!exists) missing.push(image);
    }
    if (missing.length > 0) {
      throw new CadenceError('invalid-input', {
        field: 'tag',
        detail: `not in registry ${registry.host}: ${missing.join(', ')}`,
      });
    }
    return images;
  }

  /** The rewritten objects, each live Deployment with the selector it runs with. */
  async function withLiveSelectors(objects: Manifest[]): Promise<Manifest[]> {
    const live = new Map<string, unknown>();
    for (const ref of objects.map(objectRef).filter((ref) => ref.kind === 'Deployment')) {
      const found = await cluster.read(ref);
      const spec = found?.spec as { selector?: unknown } | undefined;
      if (spec?.selector) live.set(`${ref.namespace}/${ref.name}`, spec.selector);
    }
    return keepLiveSelectors(objects, live);
  }

  /** Dry-run of every change first, so a bad manifest changes nothing; then the real thing. */
  async function change(apply: Manifest[], remove: ObjectRef[]): Promise<'validate' | 'apply'> {
    await cluster.apply(apply, { dryRun: true });
    await cluster.remove(remove, { dryRun: true });
    return 'apply';
  }

  interface Plan {
    state: ServiceState;
    next: ServiceState;
    apply: Manifest[];
    remove: ObjectRef[];
    revision: DeployedRevision;
    track: Track;
    predicate: 'deployed' | 'upgraded' | 'rolledback';
    images: string[];
    /**
     * How the operation ends the canary that ran before it (promoted, removed, replaced), for
     * the analyses still judging that canary: they end cancelled with this reason.
     */
    endsCanary?: string | null | undefined;
  }

  /** One operation: plan (validation), change the cluster, record; failures become values. */
  async function operate(
    operation: DeployOperation,
    service: string,
    actor: string,
    ref: DeployRef,
    plan: (state: ServiceState) => Promise<Plan>,
    notify = true,
  ): Promise<DeployResult> {
    const serviceConfig = config(service);
    return serialized(service, async () => {
      const startedAt = new Date();
      const started = performance.now();
      let step: 'validate' | 'apply' = 'validate';
      let planned: Plan | undefined;
      try {
        planned = await plan(await readServiceState(store, service));
        step = await change(planned.apply, planned.remove);
        await cluster.apply(planned.apply, { dryRun: false });
        await cluster.remove(planned.remove, { dryRun: false });
      } catch (thrown) {
        if (!(thrown instanceof CadenceError)) throw thrown;
        const durationMs = performance.now() - started;
        const operationId = await recordOperation(store, {
          service,
          action: operation,
          actor,
          commit: planned?.revision.commit ?? ref.commit,
          tag: ref.tag,
          version: planned?.revision.version,
          outcome: 'failure',
          detail: { step, code: thrown.code, field: thrown.field, message: thrown.message },
          startedAt,
          durationMs,
        });
        logger.warn({ service, operation, step, code: thrown.code }, 'deploy operation failed');
        const what = ref.commit ?? ref.tag ?? planned?.revision.version ?? '';
        if (notify)
          await notifier.notify({
            text: `Cadence: ${operation} ${service}${what ? ` ${what}` : ''} failed (${step}): ${thrown.message}`,
            blocks: [
              {
                type: 'section',
                text: {
                  type: 'mrkdwn',
                  text: `*${operation} ${service}* failed at ${step === 'validate' ? 'validation (nothing changed)' : 'apply'}\n${thrown.message}`,
                },
              },
              {
                type: 'context',
                elements: [{ type: 'mrkdwn', text: `by ${actor}, operation ${operationId}` }],
              },
            ],
          });
        return { ok: false, operation, service, operationId, step, error: thrown, durationMs };
      }
      const { revision } = planned;
      await writeServiceState(store, service, planned.next);
      const durationMs = performance.now() - started;
      const applied = planned.apply.map(objectRef);
      const operationId = await recordOperation(store, {
        service,
        action: operation,
        actor,
        commit: revision.commit,
        tag: revision.tag,
        version: revision.version,
        outcome: 'success',
        detail: { applied, removed: planned.remove, images: planned.images },
        startedAt,
        durationMs,
      });
      if (planned.endsCanary) {
        const reason = `${planned.endsCanary} by ${actor} (operation ${operationId})`;
        const cancelled = await cancelAnalyses(store, service, reason, new Date());
        if (cancelled.length > 0) logger.info({ service, cancelled, reason }, 'analyses cancelled');
      }
      await options.intake.acceptDecoded(
        [
          deployCdevent({
            predicate: planned.predicate,
            operationId,
            service,
            environment: serviceConfig.environment ?? serviceConfig.namespace,
            track: planned.track,
            action: operation,
            version: revision.version,
            commit: revision.commit,
            repository: serviceConfig.repository,
            image: planned.images[0],
            at: new Date(),
          }),
        ],
        'cdevent',
      );
      logger.info(
        { service, operation, version: revision.version, durationMs },
        'deploy operation applied',
      );
      return {
        ok: true,
        operation,
        service,
        operationId,
        version: revision.version,
        commit: revision.commit,
        ...(revision.tag ? { tag: revision.tag } : {}),
        images: planned.images,
        applied,
        removed: planned.remove,
        durationMs,
      };
    });
  }

  /**
   * The commit whose manifests a ref deploys, and the image tag. A git tag or a commit as
   * given; else a registry tag that names a commit (`<branch>-<sha>` or the service's
   * `tagPattern`) in the repository; else the tag is an image-only update (as Keel does): the
   * stable revision's manifests with the new image tag.
   */
  async function resolveRef(
    service: string,
    ref: DeployRef,
    state: ServiceState,
  ): Promise<{ commit: string; tag?: string | undefined; imageOnly?: boolean }> {
    const cache = cacheOf(service);
    if (ref.tag === undefined) return cache.resolve(ref);
    try {
      return await cache.resolve(ref);
    } catch (error) {
      // Only "no such git tag" falls through to the registry's tags.
      if (!(error instanceof CadenceError) || error.field !== 'tag' || error.code !== 'not-found')
        throw error;
    }
    const pattern = new RegExp(config(service).tagPattern ?? DEFAULT_TAG_PATTERN);
    const named = commitOfTag(ref.tag, pattern);
    if (ref.commit !== undefined) {
      if (named && !ref.commit.toLowerCase().startsWith(named) && !named.startsWith(ref.commit)) {
        throw new CadenceError('invalid-input', {
          field: 'tag',
          detail: `tag ${ref.tag} names commit ${named}, not ${ref.commit}`,
        });
      }
      return { ...(await cache.resolve({ commit: ref.commit })), tag: ref.tag };
    }
    if (named) {
      const found = await cache.resolve({ commit: named }).catch((error: unknown) => {
        // A sha of another repository (the app's, manifests in a GitOps one): image-only.
        if (error instanceof CadenceError && error.code === 'not-found') return undefined;
        throw error;
      });
      if (found) return { commit: found.commit, tag: ref.tag };
    }
    if (!state.stable) {
      throw new CadenceError('not-found', {
        field: 'tag',
        detail: `tag ${ref.tag} is not in the repository and names no commit of it, and service ${service} has no stable version whose manifests could run it`,
      });
    }
    return { commit: state.stable.commit, tag: ref.tag, imageOnly: true };
  }

  /** Validation and rewrite of a new version for a track. */
  async function newRevision(service: string, ref: DeployRef, track: Track, state: ServiceState) {
    const serviceConfig = config(service);
    if (ref.commit === undefined && ref.tag === undefined) {
      throw new CadenceError('invalid-input', {
        field: 'commit',
        detail: 'give a commit or a tag',
      });
    }
    const resolved = await resolveRef(service, ref, state);
    const manifests = await manifestsAt(service, resolved.commit);
    const imageTags = resolved.imageOnly
      ? imageOnlyTags(service, state.stable!, resolved.tag!)
      : await imageTagsFor(service, manifests, resolved.commit, resolved.tag);
    const version = resolved.tag ?? Object.values(imageTags)[0] ?? resolved.commit.slice(0, 12);
    const objects = await withLiveSelectors(
      rewriteManifests(manifests, {
        track,
        version,
        namespace: serviceConfig.namespace,
        imageTags,
        canaryReplicas: serviceConfig.canaryReplicas,
      }),
    );
    const images = await checkImages(service, objects);
    const revision: DeployedRevision = {
      version,
      commit: resolved.commit,
      tag: resolved.tag,
      imageTags,
      objects: objects.map(objectRef),
      at: new Date().toISOString(),
    };
    return { objects, revision, images };
  }

  /** A known revision's objects again, for a track (promote, rollback to the previous stable). */
  async function again(service: string, revision: DeployedRevision, track: Track) {
    const serviceConfig = config(service);
    const objects = await withLiveSelectors(
      rewriteManifests(await manifestsAt(service, revision.commit), {
        track,
        version: revision.version,
        namespace: serviceConfig.namespace,
        imageTags: revision.imageTags,
        canaryReplicas: serviceConfig.canaryReplicas,
      }),
    );
    const images = await checkImages(service, objects);
    return {
      objects,
      images,
      revision: { ...revision, objects: objects.map(objectRef), at: new Date().toISOString() },
    };
  }

  /** The traffic objects of a service with a strategy at its first step or without the canary. */
  const traffic = (service: string, at: 'first' | 'none') =>
    trafficObjectsFor(cluster, config(service), service, at);

  const revisionOf = (service: string, state: ServiceState) => ({
    service,
    stable: summary(state.stable),
    canary: summary(state.canary),
    previous: summary(state.previous),
  });

  async function summarize(service: string): Promise<ServiceSummary> {
    const serviceConfig = config(service);
    const state = await readServiceState(store, service);
    return {
      name: service,
      namespace: serviceConfig.namespace,
      repository: redactCredentials(serviceConfig.repository),
      manifests: serviceConfig.manifests,
      registry: serviceConfig.registry?.url ?? null,
      canaryReplicas: serviceConfig.canaryReplicas,
      stable: summary(state.stable),
      canary: summary(state.canary),
    };
  }

  return {
    services: () => Object.keys(settings.services).sort(),
    list() {
      return Promise.all(Object.keys(settings.services).sort().map(summarize));
    },
    async show(service) {
      const base = await summarize(service);
      const state = await readServiceState(store, service);
      const operations = await listOperations(store, service);
      return {
        ...base,
        previous: summary(state.previous),
        operations: operations.map((operation) => ({
          ...operation,
          startedAt: operation.startedAt.toISOString(),
          durationMs: operation.durationMs,
        })),
      };
    },
    async tags(service) {
      const serviceConfig = config(service);
      const registry = registryOf(service);
      if (!registry) {
        throw new CadenceError('not-found', {
          field: 'registry',
          detail: `service ${service} has no registry configured`,
        });
      }
      const images =
        serviceConfig.images ??
        untaggedImages(await manifestsAt(service, await cacheOf(service).head()));
      const listed = [];
      for (const image of images) {
        const reference = parseImage(image);
        const tags =
          reference.host === registry.host ? await registry.listTags(reference.path) : [];
        listed.push({ image, tags: tags.sort() });
      }
      return { service, images: listed };
    },
    async version(service) {
      config(service);
      return revisionOf(service, await readServiceState(store, service));
    },

    deploy(service, ref, actor) {
      return operate('deploy', service, actor, ref, async (state) => {
        const { objects, revision, images } = await newRevision(service, ref, 'stable', state);
        return {
          state,
          apply: [...objects, ...(state.canary ? (await traffic(service, 'none')).apply : [])],
          // A deploy replaces the canary too: never more than two versions.
          remove: state.canary?.objects ?? [],
          revision,
          images,
          track: 'stable',
          predicate: state.stable ? 'upgraded' : 'deployed',
          endsCanary:
            state.canary &&
            `canary ${state.canary.version} replaced by the deploy of ${revision.version}`,
          next: { stable: revision, canary: null, previous: state.stable ?? state.previous },
        };
      });
    },

    async canary(service, ref, actor, canaryOptions) {
      const plan = async (state: ServiceState): Promise<Plan> => {
        if (!state.stable) {
          throw new CadenceError('conflict', {
            field: 'service',
            detail: `service ${service} has no stable version yet; deploy before a canary`,
          });
        }
        const created = await newRevision(service, ref, 'canary', state);
        const { images } = created;
        // With traffic steps: the track Services and the route at the first step's weight.
        const routed = await traffic(service, 'first');
        const objects = [...created.objects, ...routed.apply];
        const revision = {
          ...created.revision,
          objects: [...created.revision.objects, ...routed.canaryObjects],
        };
        const applied = objects.map(objectRef);
        return {
          state,
          apply: objects,
          remove: (state.canary?.objects ?? []).filter(
            (old) => !applied.some((ref) => sameRef(ref, old)),
          ),
          revision,
          images,
          track: 'canary',
          predicate: state.canary ? 'upgraded' : 'deployed',
          endsCanary:
            state.canary && `canary ${state.canary.version} replaced by canary ${revision.version}`,
          next: { ...state, canary: revision },
        };
      };
      const result = await operate(
        'canary',
        service,
        actor,
        ref,
        plan,
        canaryOptions?.notify ?? true,
      );
      if (result.ok && options.onCanaryApplied) {
        await options.onCanaryApplied(result).catch((error: unknown) => {
          logger.error({ error, service }, 'after canary: hook failed');
        });
      }
      return result;
    },

    settingsOf: config,

    shiftCanary(service, weight, expect) {
      return serialized(service, async () => {
        const state = await readServiceState(store, service);
        checkCanary(service, state.canary, expect);
        const { apply } = await trafficObjectsFor(cluster, config(service), service, weight);
        await cluster.apply(apply, { dryRun: false });
        logger.info({ service, weight, version: state.canary?.version }, 'canary weight set');
      });
    },

    promote(service, actor, expect) {
      return operate('promote', service, actor, {}, async (state) => {
        checkCanary(service, state.canary, expect);
        if (!state.canary) {
          throw new CadenceError('conflict', {
            field: 'service',
            detail: `service ${service} has no canary to promote`,
          });
        }
        const { objects, revision, images } = await again(service, state.canary, 'stable');
        return {
          state,
          // The route without the canary before the canary goes.
          apply: [...objects, ...(await traffic(service, 'none')).apply],
          remove: state.canary.objects,
          revision,
          images,
          track: 'stable',
          predicate: 'upgraded',
          endsCanary: `canary ${revision.version} promoted`,
          next: { stable: revision, canary: null, previous: state.stable },
        };
      });
    },

    rollback(service, actor, expect) {
      return operate('rollback', service, actor, {}, async (state) => {
        checkCanary(service, state.canary, expect);
        if (state.canary) {
          // The canary goes; stable is untouched.
          return {
            state,
            // Weight 0 (the route without the canary) is applied before the canary is removed.
            apply: (await traffic(service, 'none')).apply,
            remove: state.canary.objects,
            revision: state.canary,
            images: [],
            track: 'canary',
            predicate: 'rolledback',
            endsCanary: `canary ${state.canary.version} removed`,
            next: { ...state, canary: null },
          };
        }
        if (!state.previous) {
          throw new CadenceError('conflict', {
            field: 'service',
            detail: `service ${service} has no canary and no previous stable version to roll back to`,
          });
        }
        const { objects, revision, images } = await again(service, state.previous, 'stable');
        return {
          state,
          apply: objects,
          remove: [],
          revision,
          images,
          track: 'stable',
          predicate: 'rolledback',
          // The version rolled back from is not kept: a second rollback has nowhere to go.
          next: { stable: revision, canary: null, previous: null },
        };
      });
    },
  };
}
