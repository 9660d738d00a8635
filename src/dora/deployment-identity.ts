import type { DeploymentFact } from './facts.js';

/**
 * One deployment as every source that reported it sees it: the watcher, the ApiServerSource,
 * the deployer, Argo CD and GitHub can all report the same rollout. A deployment is a service in
 * an environment at a revision within a time window; the first report (lowest sequence number,
 * i.e. the first to arrive) is the deployment, the later ones its evidence.
 */
export interface IdentifiedDeployment {
  deployment: DeploymentFact;
  /** The other reports of the same rollout, in arrival order. */
  evidence: DeploymentFact[];
}

/** Reports of one rollout are at most this far apart (a deployer applies, the watcher sees it finish). */
export const SAME_DEPLOYMENT_WINDOW_MS = 60 * 60 * 1000;

/** An abbreviated sha is 7 to 39 hex digits: 40 are a whole sha-1, not a short one. */
const ABBREVIATION = /^[0-9a-f]{7,39}$/;

/**
 * Two revisions name the same commit: equal, or one abbreviates the other (7 to 39 hex digits
 * it begins with). A whole sha-1 does not abbreviate a longer revision (`<sha>-rc`, a sha-256):
 * the changes' index (delivery.ts) and the stale marks (delivery-rows.ts) follow the same rule.
 */
export function sameRevision(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return ABBREVIATION.test(short) && long.startsWith(short);
}

/** Whether a revision can stand for longer ones (sameRevision's abbreviations). */
export function isAbbreviation(revision: string): boolean {
  return ABBREVIATION.test(revision);
}

/**
 * The shorter revisions `sameRevision` takes for `revision`: its prefixes of 7 to 39 hex
 * characters. None for a revision that does not start with 7 hex characters (`r1000001`,
 * `v1.2.3`): its prefixes name other revisions, not it.
 */
export function abbreviationsOf(revision: string): string[] {
  // Derived from sameRevision itself, so the two cannot drift apart.
  return Array.from({ length: Math.max(0, revision.length - 7) }, (_, i) =>
    revision.slice(0, 7 + i),
  ).filter((prefix) => sameRevision(prefix, revision));
}

/**
 * Whether two reports of one stream are the same rollout: close in time, and the same commit
 * when both name one, else the same artifact (the image as a purl: the watcher and the
 * ApiServerSource read the same image from the same Deployment).
 */
export function sameDeployment(
  a: DeploymentFact,
  b: DeploymentFact,
  windowMs: number,
  reporters: ReadonlySet<string | undefined> = new Set([a.reporter]),
): boolean {
  if (a.service !== b.service || a.environment !== b.environment) return false;
  // One reporter's two reports are two deployments (its re-sends are one CDEvent already).
  if (reporters.has(b.reporter)) return false;
  if (Math.abs(a.deployedAt.getTime() - b.deployedAt.getTime()) > windowMs) return false;
  if (a.revision && b.revision) return sameRevision(a.revision, b.revision);
  return a.artifact !== undefined && a.artifact === b.artifact;
}

/** The longest (most complete) of the revisions reports give. */
const fullest = (values: (string | undefined)[]) =>
  values.reduce<string | undefined>(
    (best, value) => (value && (!best || value.length > best.length) ? value : best),
    undefined,
  );

/**
 * The deployment a group of reports makes: the first report's identity and time, with what any
 * report adds. A failure anywhere is the outcome (the deployer reports an apply, the watcher a
 * rollout that then failed); a rollback anywhere makes it one; a baseline only if every report
 * is one (a source starting up listed it, and nothing saw it happen).
 */
export function mergeReports(first: DeploymentFact, others: DeploymentFact[]): DeploymentFact {
  const all = [first, ...others];
  const revision = fullest(all.map((d) => d.revision));
  const repository = all.find((d) => d.repository)?.repository;
  const artifact = all.find((d) => d.artifact)?.artifact;
  const remedies = all.find((d) => d.remedies)?.remedies;
  const merged: DeploymentFact = {
    seq: first.seq,
    cdeventId: first.cdeventId,
    service: first.service,
    environment: first.environment,
    kind: all.some((d) => d.kind === 'rollback') ? 'rollback' : 'deploy',
    outcome: all.some((d) => d.outcome === 'failure') ? 'failure' : 'success',
    deployedAt: first.deployedAt,
    ...(revision ? { revision } : {}),
    ...(repository ? { repository } : {}),
    ...(artifact ? { artifact } : {}),
    ...(remedies ? { remedies } : {}),
  };
  if (all.every((d) => d.baseline)) merged.baseline = true;
  return merged;
}

/**
 * Groups reports into deployments. Reports are taken in arrival order; each joins the latest
 * group it is the same rollout as (compared with what the group knows so far: a deployer's
 * report adds the revision to a watcher's), unless another deployment of the stream happened
 * between them (deploy A, roll back to B, deploy A again are three). Pure.
 */
export function identifyDeployments(
  reports: DeploymentFact[],
  windowMs: number = SAME_DEPLOYMENT_WINDOW_MS,
): IdentifiedDeployment[] {
  interface Group {
    /** Creation order: among several matching groups, the latest wins. */
    index: number;
    first: DeploymentFact;
    known: DeploymentFact;
    evidence: DeploymentFact[];
    reporters: Set<string | undefined>;
  }
  const groups: Group[] = [];
  const at = (d: DeploymentFact) => d.deployedAt.getTime();
  // Each stream's groups by their first report's time: a report can only join a group whose
  // first report is within the window, so only those are compared (a stream of thousands of
  // reports would otherwise compare every report with every group).
  const byStream = new Map<string, Group[]>();
  const firstAtOrAfter = (list: Group[], time: number) => {
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (at(list[middle]!.first) < time) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const near = (list: Group[], from: number, to: number) =>
    list.slice(firstAtOrAfter(list, from), firstAtOrAfter(list, to + 1));
  for (const report of [...reports].sort((a, b) => a.seq - b.seq)) {
    const key = `${report.environment}\u0000${report.service}`;
    const list = byStream.get(key) ?? [];
    byStream.set(key, list);
    const t = at(report);
    let group: Group | undefined;
    for (const candidate of near(list, t - windowMs, t + windowMs)) {
      if (group && candidate.index < group.index) continue;
      if (sameDeployment(candidate.known, report, windowMs, candidate.reporters)) group = candidate;
    }
    const between =
      group &&
      near(list, Math.min(at(group.first), t), Math.max(at(group.first), t)).some((other) => {
        if (other === group) return false;
        const [low, high] = [at(group.first), t].sort((a, b) => a - b) as [number, number];
        return at(other.first) > low && at(other.first) < high;
      });
    if (!group || between) {
      const created: Group = {
        index: groups.length,
        first: report,
        known: report,
        evidence: [],
        reporters: new Set([report.reporter]),
      };
      groups.push(created);
      list.splice(firstAtOrAfter(list, t + 1), 0, created);
      continue;
    }
    group.evidence.push(report);
    group.reporters.add(report.reporter);
    group.known = mergeReports(group.first, group.evidence);
  }
  return groups.map((g) => ({ deployment: g.known, evidence: g.evidence }));
}
