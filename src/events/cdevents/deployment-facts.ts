import { parseImage } from '../../registry/index.js';

/**
 * The facts Cadence measures a deployment by, as its CDEvents carry them: the artifact (an image
 * as a purl), the git revision and repository a Deployment runs, and `customData.cadence`. One
 * place, so the ApiServerSource, the rollout watcher, the deployer and the CD producers name the
 * same commit and artifact for the same rollout.
 */

/**
 * A package URL (https://github.com/package-url/purl-spec, type `oci`) for a container image
 * reference such as `registry.example.com/team/web:1.4.2` or `web@sha256:…`.
 */
export function imageToPurl(image: string): string {
  const { repository, tag, digest } = parseImage(image);
  const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers = new URLSearchParams({ repository_url: repository });
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
  const digest = images[0] ? parseImage(images[0]).digest : undefined;
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
  const tag = images[0] ? parseImage(images[0]).tag : undefined;
  const fromTag = revisionFromTag(tag);
  if (fromTag) return { ...base, revision: fromTag, revisionFrom: `image tag ${tag}` };
  return base;
}

/**
 * The repository path of a git URL, the form change events name repositories in
 * (`acme/web` for GitHub's `full_name`, `group/sub/project` for GitLab), so a deployment meets the
 * changes it ships: `https://github.com/acme/web.git` and `git@github.com:acme/web.git` → `acme/web`.
 * Anything that is not a URL is kept as it is.
 */
export function gitRepositoryPath(url: string): string {
  const scp = /^[\w.-]+@[\w.-]+:(?!\/\/)(.+)$/.exec(url);
  let path: string | undefined = scp?.[1];
  if (!path && /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      path = new URL(url).pathname;
    } catch {
      path = undefined;
    }
  }
  if (!path) return url;
  const trimmed = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  return trimmed || url;
}

/**
 * The artifact a deployment shipped: its container image as a purl, else (CDEvents requires an
 * artifact) what was deployed, at its revision when known.
 */
export function deployedArtifactId(
  image: string | undefined,
  deployed: string,
  revision: string | undefined,
): string {
  if (image) return imageToPurl(image);
  return `pkg:generic/${encodeURIComponent(deployed)}${revision ? `@${encodeURIComponent(revision)}` : ''}`;
}

/** What Cadence measures a deployment by (its `customData.cadence`): revision, repository, outcome. */
export function deploymentFacts(
  revision: string | undefined,
  repositoryUrl: string | undefined,
  outcome: string,
): Record<string, unknown> {
  return {
    ...(revision ? { revision } : {}),
    ...(repositoryUrl ? { repository: gitRepositoryPath(repositoryUrl) } : {}),
    outcome,
  };
}
