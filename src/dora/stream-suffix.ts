import type { Queryable } from '../store/index.js';
import type { DeliveryRules, PriorState } from './delivery.js';
import { SAME_DEPLOYMENT_WINDOW_MS } from './deployment-identity.js';
import {
  artifactFromRow,
  deploymentFromRow,
  incidentFromRow,
  readBuilds,
  readChanges,
  type DeploymentRow,
  type IncidentRow,
  type LoadedFacts,
  type StreamScope,
} from './fact-rows.js';
import type { DeploymentFact, IncidentFact } from './facts.js';
import { identityCut, streamCut, type CutDelivery } from './stream-cut.js';

/**
 * What a stream's rewrite from a cut reads: the facts from the point the stream is read from
 * (at or before the cut), what the rules carry from before that point, and the cut itself.
 * Rows before the cut stay as stored; the rules run from the point and write from the cut.
 */
export interface SuffixRead {
  cut: Date;
  /** From where the stream's own deployments were read (no rollout spans it). */
  from: Date;
  facts: LoadedFacts;
  prior: PriorState;
}

/**
 * Reads what rewriting a stream from `marked` (the earliest deployment time its new facts can
 * affect) needs, without reading the stream's whole history: its deployments from shortly before
 * the cut on, and from the rows stored before it only what the rules look up there (the last
 * success before a time or of a revision, the deliveries incidents name, failures not yet
 * restored, the revision later deployments deliver from). Its incidents are all read (a stream
 * has few). `undefined`: the stream must be read whole, because it gained a change repository at
 * or after `marked` (every earlier row read fewer changes, or the service-named fallback).
 * `delivered` (below) completes the prior state once the rules know which commits they credit.
 */
export async function readSuffix(
  db: Queryable,
  scope: StreamScope,
  marked: Date,
  rules: DeliveryRules,
): Promise<SuffixRead | undefined> {
  const window = rules.sameDeploymentWindowMs ?? SAME_DEPLOYMENT_WINDOW_MS;
  const repositories = await streamRepositories(db, scope);
  if (repositories.since.getTime() >= marked.getTime()) return undefined;
  const reports = new ReportsFrom(db, scope);
  const identity = await reports.identityCut(marked, window);
  const incidents = (
    await db.query<IncidentRow>(
      `select * from incidents where environment = $1 and service = $2
     union
     select i.* from incidents i join deployments d on d.cdevent_id = i.cause_deployment
     where d.environment = $1 and d.service = $2`,
      [scope.environment, scope.service],
    )
  ).rows.map(incidentFromRow);

  // The cut, from the rows stored before the identity cut the cut can look up.
  const asCut = (d: DeploymentFact): CutDelivery => ({ ...d, failed: false, failureReasons: [] });
  const after = reports.list.filter((r) => r.deployedAt >= identity).map(asCut);
  let restoredFrom = identity;
  let cut: Date;
  for (;;) {
    const before = await storedCandidates(db, scope, identity, incidents, restoredFrom);
    cut = streamCut(marked, reports.list, [...before, ...after], incidents, window) ?? identity;
    // Failures restored at or after the cut can move it: read again until none is missing.
    if (cut >= restoredFrom) break;
    restoredFrom = cut;
  }
  const from = await reports.identityCut(cut, window);
  const own = reports.list.filter((r) => r.deployedAt >= from);
  const named = [...new Set(incidents.flatMap((i) => i.causeDeployment ?? []))];
  const others = (
    await db.query<DeploymentRow>(
      `select * from deployments
     where cdevent_id = any($3::text[]) and not (environment = $1 and service = $2)`,
      [scope.environment, scope.service, named],
    )
  ).rows.map(deploymentFromRow);
  const builds = await readBuilds(db, own);
  return {
    cut,
    from,
    facts: {
      deployments: [...own, ...others],
      incidents,
      artifacts: builds.map(artifactFromRow),
      changes: await readChanges(db, repositories.names, scope.service),
      repositoriesSince: repositories.since,
    },
    prior: {
      environment: scope.environment,
      service: scope.service,
      previousRevision: await previousRevision(db, scope, from),
      delivered: new Set(),
      namedBefore: await namedBefore(db, scope, from, named),
    },
  };
}

/**
 * The commits among `shas` the stream delivered before `from` (by a delivery or a baseline):
 * the rules credit a commit once per stream.
 */
export async function deliveredBefore(
  db: Queryable,
  scope: StreamScope,
  from: Date,
  shas: readonly string[],
): Promise<Set<string>> {
  if (shas.length === 0) return new Set();
  const { rows } = await db.query<{ sha: string }>(
    `select sha from dora_delivered_commits
     where sha = any($3::text[]) and environment = $1 and service = $2 and deployed_at < $4
     union
     select s.sha from dora_baselines b, unnest(b.shas) as s(sha)
     where b.environment = $1 and b.service = $2 and b.deployed_at < $4
       and s.sha = any($3::text[])`,
    [scope.environment, scope.service, shas, from.toISOString()],
  );
  return new Set(rows.map((r) => r.sha));
}

/**
 * The stream's change repositories (its deployments' own, its builds' and their changes', the
 * configured one) and the time of the deployment that brought the newest one in; aggregated in
 * the database, so the stream's rows are not read.
 */
async function streamRepositories(
  db: Queryable,
  scope: StreamScope,
): Promise<{ names: string[]; since: Date }> {
  const { rows } = await db.query<{ repository: string; since: Date }>(
    `select repository, min(at) as since from (
       select repository, deployed_at as at from deployments
       where environment = $1 and service = $2 and repository is not null
       union all
       select coalesce(a.repository, c.repository), d.at
       from (select digest, min(deployed_at) as at from deployments
             where environment = $1 and service = $2 and digest is not null
             group by digest) d
       join artifacts a on a.digest = d.digest
       left join changes c on a.repository is null and c.change_key = a.change_key
     ) r where repository is not null group by repository`,
    [scope.environment, scope.service],
  );
  const since = new Map(rows.map((r) => [r.repository, new Date(r.since).getTime()]));
  if (scope.configuredRepository) since.set(scope.configuredRepository, 0);
  return { names: [...since.keys()], since: new Date(Math.max(0, ...since.values())) };
}

/** A stream's own deployment reports from a time on, read further back as the cut needs. */
class ReportsFrom {
  list: DeploymentFact[] = [];
  private from: number | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly scope: StreamScope,
  ) {}

  /** identityCut, with the reports it needs (from a window before its result). */
  async identityCut(from: Date, window: number): Promise<Date> {
    for (;;) {
      const cut = identityCut(from, this.list, window);
      const needed = cut.getTime() - window;
      if (this.from !== undefined && this.from <= needed) return cut;
      await this.readFrom(needed);
    }
  }

  private async readFrom(time: number): Promise<void> {
    const { rows } = await this.db.query<DeploymentRow>(
      `select * from deployments where environment = $1 and service = $2
       and deployed_at >= $3 and ($4::timestamptz is null or deployed_at < $4)`,
      [
        this.scope.environment,
        this.scope.service,
        new Date(time).toISOString(),
        this.from === undefined ? null : new Date(this.from).toISOString(),
      ],
    );
    this.list = [...rows.map(deploymentFromRow), ...this.list];
    this.from = time;
  }
}

interface StoredRow {
  deployment_seq: string;
  cdevent_id: string;
  kind: 'deploy' | 'rollback';
  outcome: 'success' | 'failure';
  deployed_at: Date;
  revision: string | null;
  failed: boolean;
  failure_reasons: string[];
  restored_at: Date | null;
}

/**
 * The stored deliveries before `before` that streamCut can look up, in time order: the last
 * success (before each incident's detection, and of its cause revision, and overall), the ones
 * incidents name, and the failures not restored by an incident that were not restored before
 * `restoredFrom`. Rows before the identity cut are what the rules would compute again for
 * everything the cut reads of them (streamCut's contract).
 */
async function storedCandidates(
  db: Queryable,
  scope: StreamScope,
  before: Date,
  incidents: readonly IncidentFact[],
  restoredFrom: Date,
): Promise<CutDelivery[]> {
  const lookups = [
    { until: 'infinity', revision: null as string | null },
    ...incidents.flatMap((i) =>
      i.detectedAt
        ? [
            { until: i.detectedAt.toISOString(), revision: null },
            ...(i.causeRevision
              ? [{ until: i.detectedAt.toISOString(), revision: i.causeRevision }]
              : []),
          ]
        : [],
    ),
  ];
  const columns = `s.deployment_seq, d.cdevent_id, s.kind, s.outcome, s.deployed_at, s.revision,
                   s.failed, s.failure_reasons, s.restored_at`;
  const { rows } = await db.query<StoredRow>(
    `select ${columns}
     from unnest($4::timestamptz[], $5::text[]) as q(until, revision)
     cross join lateral (
       select * from dora_deliveries s
       where s.environment = $1 and s.service = $2 and s.deployed_at < $3
         and s.deployed_at <= q.until and s.kind = 'deploy' and s.outcome = 'success'
         and (q.revision is null or s.revision = q.revision)
       order by s.deployed_at desc, s.deployment_seq desc limit 1) s
     join deployments d on d.cdevent_seq = s.deployment_seq
     union
     select ${columns} from dora_deliveries s join deployments d on d.cdevent_seq = s.deployment_seq
     where s.environment = $1 and s.service = $2 and s.deployed_at < $3
       and d.cdevent_id = any($6::text[])
     union
     select ${columns} from dora_deliveries s join deployments d on d.cdevent_seq = s.deployment_seq
     where s.environment = $1 and s.service = $2 and s.deployed_at < $3 and s.failed
       and (s.restored_at is null or s.restored_at >= $7)
       and not exists (select 1 from unnest(s.failure_reasons) r where r like 'incident %')`,
    [
      scope.environment,
      scope.service,
      before.toISOString(),
      lookups.map((l) => l.until),
      lookups.map((l) => l.revision),
      incidents.flatMap((i) => i.causeDeployment ?? []),
      restoredFrom.toISOString(),
    ],
  );
  return rows
    .map((r) => ({
      seq: Number(r.deployment_seq),
      cdeventId: r.cdevent_id,
      kind: r.kind,
      outcome: r.outcome,
      deployedAt: new Date(r.deployed_at),
      ...(r.revision === null ? {} : { revision: r.revision }),
      failed: r.failed,
      failureReasons: r.failure_reasons,
      restoredAt: r.restored_at === null ? undefined : new Date(r.restored_at),
    }))
    .sort((a, b) => a.deployedAt.getTime() - b.deployedAt.getTime() || a.seq - b.seq);
}

/** The revision the stream's deployments from `from` on deliver from (baselines included). */
async function previousRevision(
  db: Queryable,
  scope: StreamScope,
  from: Date,
): Promise<string | undefined> {
  const { rows } = await db.query<{ revision: string }>(
    `select revision from (
       (select deployed_at, deployment_seq, revision from dora_deliveries
        where environment = $1 and service = $2 and deployed_at < $3
          and kind = 'deploy' and outcome = 'success' and revision is not null
        order by deployed_at desc, deployment_seq desc limit 1)
       union all
       (select deployed_at, deployment_seq, revision from dora_baselines
        where environment = $1 and service = $2 and deployed_at < $3
        order by deployed_at desc, deployment_seq desc limit 1)
     ) p order by deployed_at desc, deployment_seq desc limit 1`,
    [scope.environment, scope.service, from.toISOString()],
  );
  return rows[0]?.revision;
}

/** CloudEvent ids of the stream's deliveries before `from` that incidents name. */
async function namedBefore(
  db: Queryable,
  scope: StreamScope,
  from: Date,
  named: readonly string[],
): Promise<Set<string>> {
  if (named.length === 0) return new Set();
  const { rows } = await db.query<{ cdevent_id: string }>(
    `select d.cdevent_id from deployments d
     join dora_deliveries s on s.deployment_seq = d.cdevent_seq
     where d.cdevent_id = any($4::text[]) and s.environment = $1 and s.service = $2
       and s.deployed_at < $3`,
    [scope.environment, scope.service, from.toISOString(), named],
  );
  return new Set(rows.map((r) => r.cdevent_id));
}
