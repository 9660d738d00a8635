import {
  digestFromPurl,
  type ArtifactFact,
  type ChangeFact,
  type DeploymentFact,
} from './facts.js';

/** A deployment's commit as its image's build said, and how the rules found it. */
export interface BuildRevision {
  revision: string;
  repository?: string;
  note: string;
}

/**
 * The commit an image digest was built from: the first build of that digest (the commit that
 * first made those bytes) that names a commit, directly or through the change it names.
 * Pure.
 */
export function buildRevision(
  digest: string,
  artifacts: readonly ArtifactFact[],
  changes: readonly ChangeFact[],
): BuildRevision | undefined {
  const builds = artifacts.filter((a) => a.digest === digest).sort((a, b) => a.seq - b.seq);
  for (const build of builds) {
    const change = build.changeKey
      ? changes.find((c) => c.key === build.changeKey && c.revision)
      : undefined;
    const revision = build.revision ?? change?.revision;
    if (!revision) continue;
    const repository = build.repository ?? change?.repository;
    const short = digest.slice(0, digest.indexOf(':') + 13);
    return {
      revision,
      ...(repository ? { repository } : {}),
      note: `revision ${revision}: the build of ${short}… (${build.purl.split('?')[0]})`,
    };
  }
  return undefined;
}

/**
 * Deployments that name no commit but run a digest a build reported get that build's commit
 * (and repository, when they have none). Returns the deployments and the notes by report.
 */
export function withBuildRevisions(
  deployments: readonly DeploymentFact[],
  artifacts: readonly ArtifactFact[],
  changes: readonly ChangeFact[],
): { deployments: DeploymentFact[]; notes: Map<number, string> } {
  const notes = new Map<number, string>();
  if (artifacts.length === 0) return { deployments: [...deployments], notes };
  const filled = deployments.map((deployment) => {
    if (deployment.revision) return deployment;
    const digest = digestFromPurl(deployment.artifact);
    const found = digest ? buildRevision(digest, artifacts, changes) : undefined;
    if (!found) return deployment;
    notes.set(deployment.seq, found.note);
    const repository = deployment.repository ?? found.repository;
    return { ...deployment, revision: found.revision, ...(repository ? { repository } : {}) };
  });
  return { deployments: filled, notes };
}
