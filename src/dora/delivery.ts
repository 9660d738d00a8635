import {
  identifyDeployments,
  sameRevision,
  SAME_DEPLOYMENT_WINDOW_MS,
} from './deployment-identity.js';
import { withBuildRevisions } from './build-revision.js';
import type {
  ArtifactFact,
  ChangeFact,
  CommitFact,
  DeploymentFact,
  IncidentFact,
} from './facts.js';

/** A commit as delivered by a deployment, with its lead time. */
export interface DeliveredCommit extends CommitFact {
  leadTimeSeconds: number;
}

/** A deployment with everything the DORA rules derive for it. */
export interface Delivery extends DeploymentFact {
  /** Commits this deployment brought to its environment for the first time. */
  commits: DeliveredCommit[];
  failed: boolean;
  /** Why it counts as failed: 'outcome', 'rolled back', or 'incident <key>'. */
  failureReasons: string[];
  /** When service was restored after this failed deployment (undefined while not restored). */
  restoredAt?: Date;
  /** Made to remedy an incident (explicitly, or while an incident of its stream was open). */
  rework: boolean;
  /** Other reports of the same rollout (another source, a redelivery), in arrival order. */
  evidence: { seq: number; cdeventId: string }[];
  /** How the rules read what the deployment did not say (a repository found by name, …). */
  notes: string[];
}

export interface DeliveryRules {
  /** An incident is attributed to the last deployment before it within this window. */
  attributionWindowMs: number;
  /** The repository a service is built from, when deployments do not say. */
  repositoryOf?: (service: string) => string | undefined;
  /** Reports of one stream's rollout at most this far apart are one deployment. */
  sameDeploymentWindowMs?: number;
}

/**
 * What the rules carry into one stream read from a point on (its rows before the point are kept
 * as stored): the revision later deployments deliver from, the commits already delivered (a
 * commit counts once per stream), and the deliveries before the point incidents name (an
 * incident naming one is attributed there, not by time to one after the point).
 */
export interface PriorState {
  environment: string;
  service: string;
  /** The last successful deployment's revision before the point (baselines included). */
  previousRevision?: string | undefined;
  /** Commits delivered before the point: all of them, or at least those the suffix would. */
  delivered: ReadonlySet<string>;
  /** CloudEvent ids of the deliveries before the point that incidents name. */
  namedBefore: ReadonlySet<string>;
}

/** A baseline that later deployments deliver from: what a stream read from later needs of it. */
export interface BaselineRow {
  seq: number;
  service: string;
  environment: string;
  deployedAt: Date;
  revision: string;
  /** The commits it brought (not counted: history Cadence did not see deployed). */
  shas: string[];
}

export const defaultDeliveryRules: DeliveryRules = { attributionWindowMs: 24 * 3600 * 1000 };

/** The name part of a repository path: `acme/web` → `web`. */
export const repositoryName = (repository: string) =>
  repository.slice(repository.lastIndexOf('/') + 1);

const byTime = (a: DeploymentFact, b: DeploymentFact) =>
  a.deployedAt.getTime() - b.deployedAt.getTime() || a.seq - b.seq;

const streamKey = (service: string | undefined, environment: string) =>
  `${environment}\u0000${service ?? ''}`;

/** Changes of one repository in merge order, with where each revision was merged. */
class RepositoryHistory {
  private readonly changes: ChangeFact[];
  private readonly byRevision = new Map<string, number>();

  constructor(changes: ChangeFact[]) {
    this.changes = [...changes].sort(
      (a, b) => a.mergedAt.getTime() - b.mergedAt.getTime() || a.seq - b.seq,
    );
    // Several changes can produce one revision (a merged PR and the push of its merge commit
    // both report it): a deployment of that revision delivers all of them, so a revision
    // stands at the last of its changes.
    this.changes.forEach((change, index) => {
      if (change.revision) this.byRevision.set(change.revision, index);
    });
  }

  /** Where a revision was merged; an abbreviated sha (an image tag) finds its full one. */
  indexOf(revision: string | undefined): number | undefined {
    if (revision === undefined) return undefined;
    const exact = this.byRevision.get(revision);
    if (exact !== undefined || revision.length >= 40) return exact;
    const matches = [...this.byRevision.keys()].filter((full) => sameRevision(revision, full));
    return matches.length === 1 ? this.byRevision.get(matches[0]!) : undefined;
  }

  /** The changes that produced a revision. */
  producing(revision: string): ChangeFact[] {
    return this.changes.filter(
      (change) => change.revision !== undefined && sameRevision(change.revision, revision),
    );
  }

  /** Changes after `from` (exclusive; -1 for none) up to `to` (inclusive). */
  between(from: number, to: number): ChangeFact[] {
    return this.changes.slice(from + 1, to + 1);
  }
}

/**
 * The commits a deployment delivers: the changes merged after the previously deployed revision
 * up to and including the one it deploys. A first deployment (no earlier one with a known
 * revision) is credited only with the change that produced its revision: what came before is
 * history Cadence did not see deployed. A commit counts once per stream, at its first delivery.
 */
function deliveredChanges(
  deployment: DeploymentFact,
  previousRevision: string | undefined,
  history: RepositoryHistory | undefined,
): ChangeFact[] {
  const to = history?.indexOf(deployment.revision);
  if (!history || to === undefined) return [];
  const from = history.indexOf(previousRevision);
  if (from === undefined) return history.producing(deployment.revision!);
  if (from >= to) return [];
  return history.between(from, to);
}

/**
 * Applies the DORA rules to one environment's facts: which commits each deployment delivered,
 * which deployments failed and when service was restored, which were rework. Deployments that
 * name no commit but run an image digest a build reported take that build's commit.
 * Pure: the same facts always give the same deliveries.
 */
export function linkDeliveries(
  reported: DeploymentFact[],
  changes: ChangeFact[],
  incidents: IncidentFact[],
  rules: DeliveryRules = defaultDeliveryRules,
  artifacts: readonly ArtifactFact[] = [],
): Delivery[] {
  return linkStreams(reported, changes, incidents, rules, artifacts).deliveries;
}

/**
 * linkDeliveries, also returning the baselines later deployments deliver from; with `prior`,
 * that stream's reports are read from a point on, carrying what the rules knew before it.
 */
export function linkStreams(
  reported: DeploymentFact[],
  changes: ChangeFact[],
  incidents: IncidentFact[],
  rules: DeliveryRules,
  artifacts: readonly ArtifactFact[],
  prior?: PriorState,
): { deliveries: Delivery[]; baselines: BaselineRow[] } {
  const { deployments, notes: buildNotes } = withBuildRevisions(reported, artifacts, changes);
  const histories = new Map<string, RepositoryHistory>();
  const changesByRepository = new Map<string, ChangeFact[]>();
  for (const change of changes) {
    const list = changesByRepository.get(change.repository) ?? [];
    list.push(change);
    changesByRepository.set(change.repository, list);
  }
  for (const [repository, list] of changesByRepository) {
    histories.set(repository, new RepositoryHistory(list));
  }

  // One deployment per rollout, however many sources reported it.
  const evidenceOf = new Map<number, DeploymentFact[]>();
  const identified = identifyDeployments(
    deployments,
    rules.sameDeploymentWindowMs ?? SAME_DEPLOYMENT_WINDOW_MS,
  ).map(({ deployment, evidence }) => {
    evidenceOf.set(deployment.seq, evidence);
    return deployment;
  });
  // Without a repository from the deployment or the configuration, the change repository
  // named like the service (`acme/web` for `web`), when there is exactly one.
  const sameNamed = (service: string) => {
    const named = [...histories.keys()].filter((r) => repositoryName(r) === service);
    return named.length === 1 ? named[0] : undefined;
  };

  const streams = new Map<string, DeploymentFact[]>();
  for (const deployment of identified.sort(byTime)) {
    const key = streamKey(deployment.service, deployment.environment);
    const list = streams.get(key) ?? [];
    list.push(deployment);
    streams.set(key, list);
  }

  const deliveries: Delivery[] = [];
  const baselines: BaselineRow[] = [];
  const byCdeventId = new Map<string, Delivery>();
  const streamDeliveries = new Map<string, Delivery[]>();
  const priorKey = prior && streamKey(prior.service, prior.environment);

  for (const [key, stream] of streams) {
    const carried = key === priorKey ? prior : undefined;
    let previousRevision = carried?.previousRevision;
    const seen = new Set<string>(carried?.delivered);
    const list: Delivery[] = [];
    for (const deployment of stream) {
      // How a build named its commit, when no report of the rollout named one itself.
      const reports = [deployment, ...(evidenceOf.get(deployment.seq) ?? [])];
      const notes = reports.every((r) => buildNotes.has(r.seq) || !r.revision)
        ? reports.flatMap((r) => buildNotes.get(r.seq) ?? []).slice(0, 1)
        : [];
      const delivery: Delivery = {
        ...deployment,
        evidence: (evidenceOf.get(deployment.seq) ?? []).map((e) => ({
          seq: e.seq,
          cdeventId: e.cdeventId,
        })),
        notes,
        commits: [],
        failed: deployment.kind === 'deploy' && deployment.outcome === 'failure',
        failureReasons:
          deployment.kind === 'deploy' && deployment.outcome === 'failure' ? ['outcome'] : [],
        rework: deployment.kind === 'deploy' && deployment.remedies !== undefined,
      };
      if (deployment.kind === 'deploy' && deployment.outcome === 'success') {
        let repository = deployment.repository ?? rules.repositoryOf?.(deployment.service);
        if (!repository && deployment.revision) {
          repository = sameNamed(deployment.service);
          if (repository) {
            delivery.repository = repository;
            notes.push(`repository ${repository}: the change repository named like the service`);
          }
        }
        const history = repository ? histories.get(repository) : undefined;
        for (const change of deliveredChanges(deployment, previousRevision, history)) {
          for (const commit of change.commits) {
            if (seen.has(commit.sha)) continue;
            seen.add(commit.sha);
            delivery.commits.push({
              ...commit,
              leadTimeSeconds:
                (deployment.deployedAt.getTime() - commit.committedAt.getTime()) / 1000,
            });
          }
        }
        if (deployment.revision) previousRevision = deployment.revision;
      }
      // A baseline is where later deployments deliver from, not a deployment of its own.
      if (deployment.baseline) {
        if (
          deployment.kind === 'deploy' &&
          deployment.outcome === 'success' &&
          deployment.revision
        ) {
          baselines.push({
            seq: deployment.seq,
            service: deployment.service,
            environment: deployment.environment,
            deployedAt: deployment.deployedAt,
            revision: deployment.revision,
            shas: delivery.commits.map((c) => c.sha),
          });
        }
        continue;
      }
      list.push(delivery);
      deliveries.push(delivery);
      if (delivery.cdeventId) byCdeventId.set(delivery.cdeventId, delivery);
    }
    streamDeliveries.set(key, list);
  }

  // Rollbacks: the last successful deployment before a rollback failed; the rollback restored.
  for (const list of streamDeliveries.values()) {
    list.forEach((rollback, index) => {
      if (rollback.kind !== 'rollback') return;
      const failed = list
        .slice(0, index)
        .reverse()
        .find((d) => d.kind === 'deploy' && d.outcome === 'success');
      if (!failed) return;
      markFailed(failed, 'rolled back');
      failed.restoredAt ??= rollback.deployedAt;
    });
  }

  // Incidents: attributed by explicit link, else to the stream's last deployment before it.
  const incidentsByDelivery = new Map<Delivery, IncidentFact[]>();
  for (const incident of incidents) {
    // Named a delivery before the point the stream is read from: attributed there, as stored.
    const namedBefore =
      incident.causeDeployment !== undefined &&
      !byCdeventId.has(incident.causeDeployment) &&
      prior?.namedBefore.has(incident.causeDeployment) === true;
    const cause = namedBefore
      ? undefined
      : attribute(incident, streamDeliveries, byCdeventId, rules);
    if (cause) {
      markFailed(cause, `incident ${incident.key}`);
      const list = incidentsByDelivery.get(cause) ?? [];
      list.push(incident);
      incidentsByDelivery.set(cause, list);
    }
    markRework(incident, streamDeliveries.get(streamKey(incident.service, incident.environment)));
  }

  // Restoration: incidents resolved; otherwise the next good deployment of the stream.
  for (const list of streamDeliveries.values()) {
    list.forEach((delivery, index) => {
      if (!delivery.failed || delivery.restoredAt) return;
      const attributed = incidentsByDelivery.get(delivery);
      if (attributed) {
        const resolved = attributed.map((incident) => incident.resolvedAt);
        if (resolved.every((at): at is Date => at !== undefined)) {
          delivery.restoredAt = new Date(Math.max(...resolved.map((at) => at.getTime())));
        }
        return;
      }
      const next = list
        .slice(index + 1)
        .find((d) => d.kind === 'deploy' && d.outcome === 'success' && !d.failed);
      if (next) delivery.restoredAt = next.deployedAt;
    });
  }
  return { deliveries: deliveries.sort(byTime), baselines };

  function markFailed(delivery: Delivery, reason: string) {
    delivery.failed = true;
    if (!delivery.failureReasons.includes(reason)) delivery.failureReasons.push(reason);
  }
}

function attribute(
  incident: IncidentFact,
  streams: Map<string, Delivery[]>,
  byCdeventId: Map<string, Delivery>,
  rules: DeliveryRules,
): Delivery | undefined {
  if (incident.causeDeployment) {
    const explicit = byCdeventId.get(incident.causeDeployment);
    if (explicit) return explicit;
  }
  const stream = streams.get(streamKey(incident.service, incident.environment));
  if (!stream || !incident.detectedAt) return undefined;
  const detected = incident.detectedAt.getTime();
  const before = stream.filter(
    (d) => d.kind === 'deploy' && d.outcome === 'success' && d.deployedAt.getTime() <= detected,
  );
  if (incident.causeRevision) {
    return before.reverse().find((d) => d.revision === incident.causeRevision);
  }
  const last = before.at(-1);
  if (!last || detected - last.deployedAt.getTime() > rules.attributionWindowMs) return undefined;
  return last;
}

/** A successful deployment made while an incident of its stream was open is rework. */
function markRework(incident: IncidentFact, stream: Delivery[] | undefined) {
  if (!stream || !incident.detectedAt) return;
  const from = incident.detectedAt.getTime();
  const to = incident.resolvedAt?.getTime() ?? Number.POSITIVE_INFINITY;
  for (const delivery of stream) {
    const at = delivery.deployedAt.getTime();
    if (delivery.kind === 'deploy' && delivery.outcome === 'success' && at > from && at <= to) {
      delivery.rework = true;
    }
  }
}
