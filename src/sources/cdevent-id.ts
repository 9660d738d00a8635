import { createHash } from 'node:crypto';

/**
 * A deterministic UUID-shaped id for a CDEvent a transformer produces: the same input key gives
 * the same id, so a producer re-sending an event (or a re-run of the router) cannot create a
 * second CDEvent. Shaped like an RFC 9562 version 8 (custom) UUID.
 */
export function deterministicId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The CDEvents spec version Cadence emits. */
export const EMITTED_SPEC_VERSION = '0.5.1';

/**
 * A package URL (https://github.com/package-url/purl-spec, type `oci`) for a container image
 * reference such as `registry.example.com/team/web:1.4.2` or `web@sha256:…`.
 */
export function imageToPurl(image: string): string {
  let reference = image;
  let digest: string | undefined;
  const at = reference.indexOf('@');
  if (at >= 0) {
    digest = reference.slice(at + 1);
    reference = reference.slice(0, at);
  }
  let tag: string | undefined;
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) {
    tag = reference.slice(colon + 1);
    reference = reference.slice(0, colon);
  }
  const name = reference.slice(reference.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers = new URLSearchParams({ repository_url: reference });
  if (tag && !digest) qualifiers.set('tag', tag);
  const version = digest ? `@${encodeURIComponent(digest)}` : '';
  return `pkg:oci/${encodeURIComponent(name)}${version}?${qualifiers.toString()}`;
}

/** The annotations a Deployment can carry to say what it runs (documented in docs/sources.md). */
export const REVISION_ANNOTATION = 'cadence.dev/revision';
export const REPOSITORY_ANNOTATION = 'cadence.dev/repository';
const VERSION_LABEL = 'app.kubernetes.io/version';

const SHA = /^[0-9a-f]{7,40}$/;
// `<branch>-<sha>` (`main-3f2a9c1`): the sha is the last dash-separated part.
const BRANCH_SHA = /^[\w.-]+-([0-9a-f]{7,40})$/;

/** The commit sha an image tag names, when it is one (`3f2a9c1`, `main-3f2a9c1`). */
export function revisionFromTag(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  const lower = tag.toLowerCase();
  if (SHA.test(lower)) return lower;
  return BRANCH_SHA.exec(lower)?.[1];
}

/** The tag of an image reference (`web:3f2a9c1` → `3f2a9c1`); none when pinned by digest only. */
export function imageTag(image: string): string | undefined {
  const reference = image.split('@')[0]!;
  const colon = reference.lastIndexOf(':');
  return colon > reference.lastIndexOf('/') ? reference.slice(colon + 1) : undefined;
}

/** The digest an image reference is pinned to (`web@sha256:…`), if any. */
export function imageDigest(image: string): string | undefined {
  const at = image.indexOf('@');
  return at >= 0 ? image.slice(at + 1) : undefined;
}

/** What a Deployment in the cluster says about the commit it runs, and how that was read. */
export interface ClusterRevision {
  revision?: string;
  repository?: string;
  /** Where the revision came from: `annotation cadence.dev/revision`, `image tag`, … */
  revisionFrom?: string;
  /** The first image's digest, for matching a build event when nothing else names the commit. */
  digest?: string;
}

/**
 * The git revision and repository of a Deployment, from what the cluster has, in order: the
 * `cadence.dev/revision` annotation, the `app.kubernetes.io/version` label or annotation when it
 * is a commit sha, the first image's tag when it is a sha or `<branch>-<sha>`. The repository
 * only from the `cadence.dev/repository` annotation (the DORA rules add the configured or
 * same-named one). One function for every producer that sees Deployments (the ApiServerSource,
 * the rollout watcher), so they name the same commit for the same rollout.
 */
export function clusterRevision(
  metadata: {
    annotations?: Record<string, string> | null | undefined;
    labels?: Record<string, string> | null | undefined;
  },
  images: readonly string[],
): ClusterRevision {
  const annotations = metadata.annotations ?? {};
  const labels = metadata.labels ?? {};
  const repository = annotations[REPOSITORY_ANNOTATION]?.trim() || undefined;
  const digest = images[0] ? imageDigest(images[0]) : undefined;
  const base = { ...(repository ? { repository } : {}), ...(digest ? { digest } : {}) };
  const annotated = annotations[REVISION_ANNOTATION]?.trim();
  if (annotated) {
    return { ...base, revision: annotated, revisionFrom: `annotation ${REVISION_ANNOTATION}` };
  }
  for (const [where, value] of [
    ['annotation', annotations[VERSION_LABEL]],
    ['label', labels[VERSION_LABEL]],
  ] as const) {
    const sha = revisionFromTag(value?.trim());
    if (sha) return { ...base, revision: sha, revisionFrom: `${where} ${VERSION_LABEL}` };
  }
  const tag = images[0] ? imageTag(images[0]) : undefined;
  const fromTag = revisionFromTag(tag);
  if (fromTag) return { ...base, revision: fromTag, revisionFrom: `image tag ${tag}` };
  return base;
}
