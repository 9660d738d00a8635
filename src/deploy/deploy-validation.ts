import { CadenceError } from '../problem/index.js';
import { parseImage, tagForCommit } from '../registry/index.js';
import type { DeployedRevision, ServiceState } from './deploy-rows.js';
import {
  deploymentImages,
  keepLiveSelectors,
  objectRef,
  rewriteManifests,
  untaggedImages,
  type Manifest,
  type Track,
} from './manifest-rewrite.js';
import type { DeployContext, DeployRef } from './operation-plan.js';
import { commitOfTag, DEFAULT_TAG_PATTERN } from './tag-commit.js';

/** A revision's rewritten objects for a track, checked against the registry: nothing applied yet. */
export interface RevisionObjects {
  objects: Manifest[];
  revision: DeployedRevision;
  images: string[];
}

/** The tag each untagged image gets: the tag given, else the registry's `<branch>-<sha>` tag. */
async function imageTagsFor(
  context: DeployContext,
  service: string,
  manifests: Manifest[],
  commit: string,
  tag: string | undefined,
) {
  const registry = context.registry(service);
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
function imageOnlyTags(
  context: DeployContext,
  service: string,
  stable: DeployedRevision,
  tag: string,
) {
  const registry = context.registry(service);
  const imageTags = { ...stable.imageTags };
  for (const repository of Object.keys(imageTags)) {
    if (!registry || parseImage(repository).host === registry.host) imageTags[repository] = tag;
  }
  return imageTags;
}

/** Every image the rewritten Deployments run that is in the service's registry must exist there. */
async function checkImages(
  context: DeployContext,
  service: string,
  objects: Manifest[],
): Promise<string[]> {
  const images = deploymentImages(objects);
  const registry = context.registry(service);
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
async function withLiveSelectors(context: DeployContext, objects: Manifest[]): Promise<Manifest[]> {
  const live = new Map<string, unknown>();
  for (const ref of objects.map(objectRef).filter((ref) => ref.kind === 'Deployment')) {
    const found = await context.cluster.read(ref);
    const spec = found?.spec as { selector?: unknown } | undefined;
    if (spec?.selector) live.set(`${ref.namespace}/${ref.name}`, spec.selector);
  }
  return keepLiveSelectors(objects, live);
}

/**
 * The commit whose manifests a ref deploys, and the image tag. A git tag or a commit as
 * given; else a registry tag that names a commit (`<branch>-<sha>` or the service's
 * `tagPattern`) in the repository; else the tag is an image-only update (as Keel does): the
 * stable revision's manifests with the new image tag.
 */
async function resolveRef(
  context: DeployContext,
  service: string,
  ref: DeployRef,
  state: ServiceState,
): Promise<{ commit: string; tag?: string | undefined; imageOnly?: boolean }> {
  const cache = context.cache(service);
  if (ref.tag === undefined) return cache.resolve(ref);
  try {
    return await cache.resolve(ref);
  } catch (error) {
    // Only "no such git tag" falls through to the registry's tags.
    if (!(error instanceof CadenceError) || error.field !== 'tag' || error.code !== 'not-found')
      throw error;
  }
  const pattern = new RegExp(context.config(service).tagPattern ?? DEFAULT_TAG_PATTERN);
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
export async function newRevision(
  context: DeployContext,
  service: string,
  ref: DeployRef,
  track: Track,
  state: ServiceState,
): Promise<RevisionObjects> {
  const serviceConfig = context.config(service);
  if (ref.commit === undefined && ref.tag === undefined) {
    throw new CadenceError('invalid-input', {
      field: 'commit',
      detail: 'give a commit or a tag',
    });
  }
  const resolved = await resolveRef(context, service, ref, state);
  const manifests = await context.manifestsAt(service, resolved.commit);
  const imageTags = resolved.imageOnly
    ? imageOnlyTags(context, service, state.stable!, resolved.tag!)
    : await imageTagsFor(context, service, manifests, resolved.commit, resolved.tag);
  const version = resolved.tag ?? Object.values(imageTags)[0] ?? resolved.commit.slice(0, 12);
  const objects = await withLiveSelectors(
    context,
    rewriteManifests(manifests, {
      track,
      version,
      namespace: serviceConfig.namespace,
      imageTags,
      canaryReplicas: serviceConfig.canaryReplicas,
    }),
  );
  const images = await checkImages(context, service, objects);
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

/** A known revision's objects again, for a track (promote, rollback to an earlier stable). */
export async function knownRevision(
  context: DeployContext,
  service: string,
  revision: DeployedRevision,
  track: Track,
): Promise<RevisionObjects> {
  const serviceConfig = context.config(service);
  const objects = await withLiveSelectors(
    context,
    rewriteManifests(await context.manifestsAt(service, revision.commit), {
      track,
      version: revision.version,
      namespace: serviceConfig.namespace,
      imageTags: revision.imageTags,
      canaryReplicas: serviceConfig.canaryReplicas,
    }),
  );
  const images = await checkImages(context, service, objects);
  return {
    objects,
    images,
    revision: { ...revision, objects: objects.map(objectRef), at: new Date().toISOString() },
  };
}
