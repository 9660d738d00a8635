import { gitRepositoryPath, isRfc3339, revisionFromTag } from '../events/index.js';

/** A deployment (or rollback) of a service to an environment. */
export interface DeploymentFact {
  seq: number;
  cdeventId: string;
  service: string;
  environment: string;
  kind: 'deploy' | 'rollback';
  outcome: 'success' | 'failure';
  deployedAt: Date;
  revision?: string;
  repository?: string;
  artifact?: string;
  remedies?: string;
  /**
   * Seen already complete by a producer that was just starting (the ApiServerSource's initial
   * `add`): recorded, and its revision is what later deployments deliver from, but not counted.
   */
  baseline?: boolean;
  /**
   * Who reported it (`customData.cadence.reporter`, else the CDEvent's source): reports of one
   * rollout come from different reporters; two from the same one are two deployments.
   */
  reporter?: string;
}

export interface CommitFact {
  sha: string;
  committedAt: Date;
}

/** A change landing on a repository's main line: a merged PR/MR or a push. */
export interface ChangeFact {
  seq: number;
  key: string;
  repository: string;
  revision?: string;
  mergedAt: Date;
  commits: CommitFact[];
}

/** What one incident CDEvent says; detection and resolution are merged by key in storage. */
export interface IncidentFact {
  key: string;
  service?: string;
  environment: string;
  /**
   * False when the producer did not say (an issue without an `environment:` label): the
   * environment is then the service's only one, else the default, resolved on refresh.
   */
  environmentGiven?: boolean;
  /**
   * The producer's own fallback for an unnamed environment (Alertmanager's
   * `defaultEnvironment`), used instead of `dora.environment` when the service has no only one.
   */
  defaultEnvironment?: string;
  detectedAt?: Date;
  resolvedAt?: Date;
  causeRevision?: string;
  causeDeployment?: string;
}

/**
 * What a build said it made: an image digest and the commit it was built from (an
 * `artifact.packaged` / `artifact.published` whose purl is pinned by digest, or a `build.finished`
 * whose `artifactId` is). Lets a Deployment that runs `web@sha256:…` (no revision annotation,
 * no sha tag) be matched to its commit.
 */
export interface ArtifactFact {
  seq: number;
  /** `sha256:<hex>`, lower case. */
  digest: string;
  purl: string;
  builtAt: Date;
  revision?: string;
  repository?: string;
  /** The change the artifact was built from, when it names one that is not a sha (a PR). */
  changeKey?: string;
}

const DIGEST = /^sha(256|384|512):[0-9a-f]{32,128}$/;
const SHA = /^[0-9a-f]{7,40}$/;

/** The image digest a purl is pinned to (`pkg:oci/web@sha256%3A…`), if any. */
export function digestFromPurl(purl: string | undefined): string | undefined {
  if (!purl?.startsWith('pkg:')) return undefined;
  const version = purl.split('?')[0]!.split('#')[0]!.split('@')[1];
  if (!version) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(version).toLowerCase();
  } catch {
    return undefined;
  }
  return DIGEST.test(decoded) ? decoded : undefined;
}

/**
 * The repository and commit a purl's `vcs_url` qualifier names (the purl spec's form:
 * `git+https://github.com/acme/web.git@<sha>`).
 */
export function vcsFromPurl(purl: string): { url?: string; revision?: string } {
  const query = purl.split('?')[1]?.split('#')[0];
  const vcs = query ? new URLSearchParams(query).get('vcs_url') : null;
  if (!vcs) return {};
  const plain = vcs.replace(/^git\+/, '');
  const at = plain.lastIndexOf('@');
  const revision = at > plain.indexOf('//') + 1 ? plain.slice(at + 1).toLowerCase() : undefined;
  if (!revision) return { url: plain };
  // After the `@`: a commit, or a tag or branch (which names no commit here).
  return { url: plain.slice(0, at), ...(SHA.test(revision) ? { revision } : {}) };
}

export type Fact =
  | { kind: 'deployment'; fact: DeploymentFact }
  | { kind: 'change'; fact: ChangeFact }
  | { kind: 'incident'; fact: IncidentFact }
  | { kind: 'artifact'; fact: ArtifactFact };

/** A stored CDEvent as projection sees it. */
export interface CdeventRecord {
  seq: number;
  subjectType: string;
  predicate: string;
  timestamp: Date;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;
const object = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;
const time = (value: unknown): Date | undefined =>
  typeof value === 'string' && isRfc3339(value) ? new Date(value) : undefined;

/** `customData.cadence`: the facts Cadence's own transformers add to standard CDEvents. */
function cadenceData(body: Json): Json {
  return object(object(body.customData)?.cadence) ?? {};
}

/**
 * The git revision in a purl, when it names one: the version of `pkg:github/acme/web@<sha>`, or
 * the `tag` qualifier of an image (`pkg:oci/web?tag=main-3f2a9c1`) that is a sha or
 * `<branch>-<sha>`: what a cluster-seen deploy's image says when its producer did not.
 */
export function revisionFromPurl(artifact: string | undefined): string | undefined {
  if (!artifact) return undefined;
  const [path, query = ''] = artifact.split('?') as [string, string | undefined];
  const version = path.split('@')[1];
  if (version && /^[0-9a-f]{7,64}$/.test(version)) return version;
  return revisionFromTag(new URLSearchParams(query).get('tag') ?? undefined);
}

function commitsOf(cadence: Json, fallback: CommitFact | undefined): CommitFact[] {
  const listed = Array.isArray(cadence.commits) ? cadence.commits : [];
  const commits = listed.flatMap((entry): CommitFact[] => {
    const commit = object(entry);
    const sha = text(commit?.id) ?? text(commit?.sha);
    const committedAt = time(commit?.timestamp);
    return sha && committedAt ? [{ sha, committedAt }] : [];
  });
  return commits.length > 0 ? commits : fallback ? [fallback] : [];
}

/**
 * What a CDEvent contributes to the DORA facts, if anything. Works for any supported spec
 * version: the fields used here did not change between 0.3 and 0.5.
 */
export function factFromCdevent(record: CdeventRecord): Fact | undefined {
  const { body, subjectType, predicate } = record;
  const subject = object(body.subject) ?? {};
  const content = object(subject.content) ?? {};
  const context = object(body.context) ?? {};
  const cadence = cadenceData(body);
  const subjectId = text(subject.id);
  if (!subjectId) return undefined;

  if (subjectType === 'service' && ['deployed', 'upgraded', 'rolledback'].includes(predicate)) {
    const environment = text(object(content.environment)?.id);
    if (!environment) return undefined;
    const artifact = text(content.artifactId);
    const revision = text(cadence.revision) ?? revisionFromPurl(artifact);
    const repository = text(cadence.repository);
    const remedies = text(cadence.remedies);
    const baseline = cadence.baseline === true;
    const reporter = text(cadence.reporter) ?? text(context.source);
    return {
      kind: 'deployment',
      fact: {
        seq: record.seq,
        cdeventId: text(context.id) ?? '',
        service: subjectId,
        environment,
        kind: predicate === 'rolledback' ? 'rollback' : 'deploy',
        outcome: cadence.outcome === 'failure' ? 'failure' : 'success',
        deployedAt: record.timestamp,
        ...(revision ? { revision } : {}),
        ...(repository ? { repository } : {}),
        ...(artifact ? { artifact } : {}),
        ...(remedies ? { remedies } : {}),
        ...(baseline ? { baseline } : {}),
        ...(reporter ? { reporter } : {}),
      },
    };
  }

  if (subjectType === 'change' && predicate === 'merged') {
    const repository = text(cadence.repository) ?? text(object(content.repository)?.id);
    if (!repository) return undefined;
    const revision = text(cadence.revision);
    const mergedAt = time(cadence.mergedAt) ?? record.timestamp;
    return {
      kind: 'change',
      fact: {
        seq: record.seq,
        key: subjectId,
        repository,
        ...(revision ? { revision } : {}),
        mergedAt,
        commits: commitsOf(
          cadence,
          revision ? { sha: revision, committedAt: mergedAt } : undefined,
        ),
      },
    };
  }

  const built =
    (subjectType === 'artifact' && ['packaged', 'published'].includes(predicate)) ||
    (subjectType === 'build' && predicate === 'finished');
  if (built) {
    const purl = subjectType === 'artifact' ? subjectId : text(content.artifactId);
    const digest = digestFromPurl(purl);
    if (!purl || !digest) return undefined;
    const vcs = vcsFromPurl(purl);
    const change = object(content.change);
    const changeId = text(change?.id);
    const changeSha =
      changeId && SHA.test(changeId.toLowerCase()) ? changeId.toLowerCase() : undefined;
    const revision = text(cadence.revision) ?? vcs.revision ?? changeSha;
    // The change reference's source is a repository only when it is a URL.
    const changeSource = text(change?.source);
    const url =
      text(cadence.repository) ??
      vcs.url ??
      (changeSource && /^[a-z][a-z0-9+.-]*:\/\//i.test(changeSource) ? changeSource : undefined);
    const repository = url ? gitRepositoryPath(url) : undefined;
    const changeKey = changeId && !changeSha ? changeId : undefined;
    if (!revision && !changeKey) return undefined;
    return {
      kind: 'artifact',
      fact: {
        seq: record.seq,
        digest,
        purl,
        builtAt: record.timestamp,
        ...(revision ? { revision } : {}),
        ...(repository ? { repository } : {}),
        ...(changeKey ? { changeKey } : {}),
      },
    };
  }

  if (subjectType === 'incident') {
    const environment = text(object(content.environment)?.id) ?? 'production';
    // Producers that cannot know the environment (a forge issue) say so in customData.
    const environmentGiven = cadence.environmentGiven !== false;
    const defaultEnvironment = environmentGiven ? undefined : text(cadence.defaultEnvironment);
    const service = text(object(content.service)?.id);
    const cause = object(cadence.cause) ?? {};
    const causeRevision = text(cause.revision);
    const causeDeployment = text(cause.deployment);
    const base: IncidentFact = {
      key: subjectId,
      environment,
      ...(environmentGiven ? {} : { environmentGiven }),
      ...(defaultEnvironment ? { defaultEnvironment } : {}),
      ...(service ? { service } : {}),
      ...(causeRevision ? { causeRevision } : {}),
      ...(causeDeployment ? { causeDeployment } : {}),
    };
    if (predicate === 'detected' || predicate === 'reported') {
      return { kind: 'incident', fact: { ...base, detectedAt: record.timestamp } };
    }
    if (predicate === 'resolved') {
      return { kind: 'incident', fact: { ...base, resolvedAt: record.timestamp } };
    }
  }
  return undefined;
}
