import type { Delivery } from './delivery.js';
import type { DeploymentFact, IncidentFact } from './facts.js';

/** What the cut reads of a delivery (a stored row gives as much). */
export type CutDelivery = Pick<
  Delivery,
  'cdeventId' | 'kind' | 'outcome' | 'deployedAt' | 'revision' | 'failed' | 'failureReasons'
> & { restoredAt?: Date | undefined };

/**
 * Where a stream's rewrite may start: the earliest deployment time whose row can differ from
 * what is stored, given that every fact that arrived since the rows were written can only
 * affect deliveries from `from` on (its own time: a deployment's, an incident's detection, the
 * deployments of a digest a build named). Rows before the cut are provably what a full rewrite
 * would write again, so a rewrite keeps them and recomputes only the suffix. `undefined`: the
 * whole stream.
 *
 * `reports` are the stream's deployment reports (from `identityCut(from) - identityWindowMs` on)
 * and `deliveries` its deliveries in time order: from the identity cut on as the rules now
 * compute them (or every report there: only their kind, time and id are read), before it as
 * stored, or only those the cut looks up (the last success before a time, of a revision, the
 * ones incidents name, and the failed ones not restored before the cut); `incidents` every
 * incident the stream's rules read. What reaches back before `from` (docs/metrics.md has the rules themselves):
 * - one rollout's reports from different reporters within the identity window are grouped, so
 *   a group can reach back from a new report (repeated until no such pair spans the cut);
 * - a rollback fails the last successful deployment before it;
 * - an incident is attributed to the last successful deployment before its detection, to the
 *   last one of its cause revision, or to the deployment it names, and restores it when resolved;
 * - a failed deployment is restored by the next good one.
 * Pure.
 */
export function streamCut(
  from: Date | undefined,
  reports: readonly DeploymentFact[],
  deliveries: readonly CutDelivery[],
  incidents: readonly IncidentFact[],
  identityWindowMs: number,
): Date | undefined {
  if (from === undefined) return undefined;
  const at = (d: { deployedAt: Date }) => d.deployedAt.getTime();
  const identity = identityCut(from, reports, identityWindowMs).getTime();
  // Before `identity` every delivery is the same rollout with the same kind, outcome, time and
  // revision as stored; only its failure, restoration and rework can still change, from facts
  // after it.
  let cut = identity;
  const succeeded = (d: CutDelivery) => d.kind === 'deploy' && d.outcome === 'success';
  const before = deliveries.filter((d) => at(d) < identity);
  const lastSucceeded = (until: number, revision?: string) =>
    before.findLast(
      (d) => succeeded(d) && at(d) <= until && (revision === undefined || d.revision === revision),
    );
  const include = (d: CutDelivery | undefined) => {
    if (d && at(d) < cut) cut = at(d);
  };

  // A rollback after the cut (now or as stored) failed the last success before it.
  if (deliveries.some((d) => d.kind === 'rollback' && at(d) >= identity)) {
    include(lastSucceeded(Number.POSITIVE_INFINITY));
  }
  const byCdeventId = new Map(deliveries.map((d) => [d.cdeventId, d]));
  for (const incident of incidents) {
    const named = incident.causeDeployment ? byCdeventId.get(incident.causeDeployment) : undefined;
    const detected = incident.detectedAt?.getTime();
    if (detected === undefined) {
      include(named);
      continue;
    }
    // Attribution by time or revision: the candidates before the cut are the last success, and
    // the last success of the cause revision.
    const fallback = () => {
      include(lastSucceeded(detected));
      if (incident.causeRevision) include(lastSucceeded(detected, incident.causeRevision));
    };
    if (detected >= identity) {
      // It may be new or changed (resolved), or its candidates after the cut changed.
      include(named);
      fallback();
    } else if (incident.causeDeployment && !(named && at(named) < identity)) {
      // Its named deployment may have arrived after it (or stopped being a rollout's first
      // report): what it was attributed to by time before may no longer be.
      fallback();
    }
  }

  // Restoration by the next good deployment: a failed one before the cut whose restoration is
  // not a good deployment before the cut may be restored by a different one now. (One its
  // incidents failed is restored when they are resolved, whatever comes after it: the incident
  // rules above cover it.)
  const byIncident = (d: CutDelivery) => d.failureReasons.some((r) => r.startsWith('incident '));
  for (const d of deliveries.filter((d) => at(d) < cut).reverse()) {
    const restored = d.restoredAt?.getTime();
    if (d.failed && !byIncident(d) && (restored === undefined || restored >= cut)) cut = at(d);
  }
  return new Date(cut);
}

/**
 * The earliest time at or before `from` that no rollout's reports span: one rollout's reports
 * from different reporters within the identity window are grouped, so a group can reach back
 * from a report at or after `from` (repeated until no such pair spans the cut). Reports at or
 * after the result are grouped among themselves exactly as in the whole stream, so the stream
 * can be identified from there on. Needs the reports from `result - identityWindowMs` on.
 * Pure.
 */
export function identityCut(
  from: Date,
  reports: readonly DeploymentFact[],
  identityWindowMs: number,
): Date {
  const at = (d: { deployedAt: Date }) => d.deployedAt.getTime();
  const sorted = [...reports].sort((a, b) => at(a) - at(b));
  let identity = from.getTime();
  for (let moved = true; moved;) {
    moved = false;
    const first = sorted.findIndex((r) => at(r) >= identity);
    if (first < 0) break;
    for (let i = first; i < sorted.length && at(sorted[i]!) <= identity + identityWindowMs; i++) {
      const later = sorted[i]!;
      // The earliest report before the cut within the window from another reporter.
      let earlier: DeploymentFact | undefined;
      for (let j = first - 1; j >= 0 && at(later) - at(sorted[j]!) <= identityWindowMs; j--) {
        if (sorted[j]!.reporter !== later.reporter) earlier = sorted[j];
      }
      if (earlier && at(earlier) < identity) {
        identity = at(earlier);
        moved = true;
      }
    }
  }
  return new Date(identity);
}
