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
import { digestFromPurl, type DeploymentFact, type IncidentFact } from './facts.js';
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

/** A stream to rewrite from `marked`: the earliest deployment time its new facts can affect. */
export interface SuffixRequest {
  scope: StreamScope;
  marked: Date;
}

/** A stream's key in the maps this module returns (deliveredBefore's, among others). */
export const keyOf = (s: { environment: string; service: string }) =>
  `${s.environment}\u0000${s.service}`;

/** Appends to the list kept under a key. */
export function push<T>(map: Map<string, T[]>, key: string, ...items: T[]) {
  const list = map.get(key) ?? [];
  list.push(...items);
  map.set(key, list);
}

/**
 * Reads what rewriting each stream from its mark needs, without reading the streams' whole
 * histories: their deployments from shortly before the cut on, and from the rows stored before
 * it only what the rules look up there (the last success before a time or of a revision, the
 * deliveries incidents name, failures not yet restored, the revision later deployments deliver
 * from). Their incidents are all read (a stream has few). Every step is one statement for all
 * the streams (a pass claims many; a statement per stream per step cost more than the rules).
 * An entry is `undefined` when its stream must be read whole: it gained a change repository at
 * or after its mark (every earlier row read fewer changes, or the service-named fallback).
 * `deliveredBefore` completes the prior state once the rules know which commits they credit.
 */
export async function readSuffixes(
  db: Queryable,
  requests: readonly SuffixRequest[],
  rules: DeliveryRules,
): Promise<(SuffixRead | undefined)[]> {
  const window = rules.sameDeploymentWindowMs ?? SAME_DEPLOYMENT_WINDOW_MS;
  const repositories = await streamRepositories(db, requests);
  const suffixes = requests.filter(
    (r) => repositories.get(keyOf(r.scope))!.since.getTime() < r.marked.getTime(),
  );
  if (suffixes.length === 0) return requests.map(() => undefined);
  const scopes = suffixes.map((r) => r.scope);
  const reports = new ReportsFrom(db);
  const identities = await reports.identityCuts(
    suffixes.map((r) => ({ scope: r.scope, from: r.marked })),
    window,
  );
  const incidents = await streamIncidents(db, scopes);

  // Each cut, from the rows stored before its identity cut that the cut can look up; failures
  // restored at or after a cut can move it, so those streams are read again until none moves.
  const cuts = new Map<string, Date>();
  let pending = suffixes.map((r, i) => ({
    ...r,
    identity: identities[i]!,
    restoredFrom: identities[i]!,
  }));
  while (pending.length > 0) {
    const candidates = await storedCandidates(
      db,
      pending.map((p) => ({
        scope: p.scope,
        before: p.identity,
        incidents: incidents.get(keyOf(p.scope)) ?? [],
        restoredFrom: p.restoredFrom,
      })),
    );
    const again: typeof pending = [];
    for (const p of pending) {
      const key = keyOf(p.scope);
      const own = reports.of(p.scope);
      const after = own.filter((r) => r.deployedAt >= p.identity).map(asCut);
      const before = candidates.get(key) ?? [];
      const cut =
        streamCut(p.marked, own, [...before, ...after], incidents.get(key) ?? [], window) ??
        p.identity;
      if (cut >= p.restoredFrom) cuts.set(key, cut);
      else again.push({ ...p, restoredFrom: cut });
    }
    pending = again;
  }

  const froms = await reports.identityCuts(
    scopes.map((scope) => ({ scope, from: cuts.get(keyOf(scope))! })),
    window,
  );
  const own = new Map(
    scopes.map((scope, i) => [
      keyOf(scope),
      reports.of(scope).filter((r) => r.deployedAt >= froms[i]!),
    ]),
  );
  const named = new Map(
    scopes.map((scope) => [
      keyOf(scope),
      [...new Set((incidents.get(keyOf(scope)) ?? []).flatMap((i) => i.causeDeployment ?? []))],
    ]),
  );
  const allNamed = [...new Set([...named.values()].flat())];
  const namedRows =
    allNamed.length === 0
      ? []
      : (
          await db.query<DeploymentRow>(
            `select * from deployments where cdevent_id = any($1::text[])`,
            [allNamed],
          )
        ).rows.map(deploymentFromRow);
  const builds = await readBuilds(db, [...own.values()].flat());
  const changes = await readChanges(
    db,
    [...new Set(scopes.flatMap((s) => repositories.get(keyOf(s))!.names))],
    [
      ...new Set(
        scopes.filter((s) => repositories.get(keyOf(s))!.names.length === 0).map((s) => s.service),
      ),
    ],
  );
  const previous = await previousRevisions(db, scopes, froms);
  const before = await namedBefore(db, scopes, froms, named);

  const reads = new Map<string, SuffixRead>();
  scopes.forEach((scope, i) => {
    const key = keyOf(scope);
    const mine = own.get(key)!;
    const names = new Set(named.get(key));
    const digests = new Set(mine.flatMap((d) => digestFromPurl(d.artifact) ?? []));
    const stream = repositories.get(key)!;
    const theirs = stream.names.length > 0 ? new Set(stream.names) : undefined;
    reads.set(key, {
      cut: cuts.get(key)!,
      from: froms[i]!,
      facts: {
        deployments: [
          ...mine,
          ...namedRows.filter((d) => names.has(d.cdeventId) && keyOf(d) !== key),
        ],
        incidents: incidents.get(key) ?? [],
        artifacts: builds.filter((a) => digests.has(a.digest)).map(artifactFromRow),
        changes: changes.filter((c) =>
          theirs
            ? theirs.has(c.repository)
            : c.repository === scope.service || c.repository.endsWith(`/${scope.service}`),
        ),
        repositoriesSince: stream.since,
      },
      prior: {
        environment: scope.environment,
        service: scope.service,
        previousRevision: previous.get(key),
        delivered: new Set(),
        namedBefore: before.get(key) ?? new Set(),
      },
    });
  });
  return requests.map((r) => reads.get(keyOf(r.scope)));
}

const asCut = (d: DeploymentFact): CutDelivery => ({ ...d, failed: false, failureReasons: [] });

/**
 * Per stream, the commits among `shas` it delivered before `from` (by a delivery or a
 * baseline): the rules credit a commit once per stream.
 */
export async function deliveredBefore(
  db: Queryable,
  asked: readonly { scope: StreamScope; from: Date; shas: readonly string[] }[],
): Promise<Map<string, Set<string>>> {
  const flat = asked.flatMap((a) => a.shas.map((sha) => ({ ...a, sha })));
  const found = new Map<string, Set<string>>();
  if (flat.length === 0) return found;
  const { rows } = await db.query<{ environment: string; service: string; sha: string }>(
    `select q.environment, q.service, q.sha
     from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
          as q(environment, service, before, sha)
     where exists (select 1 from dora_delivered_commits c
                   where c.sha = q.sha and c.environment = q.environment
                     and c.service = q.service and c.deployed_at < q.before)
        or exists (select 1 from dora_baselines b
                   where b.environment = q.environment and b.service = q.service
                     and b.deployed_at < q.before and q.sha = any(b.shas))`,
    [
      flat.map((f) => f.scope.environment),
      flat.map((f) => f.scope.service),
      flat.map((f) => f.from.toISOString()),
      flat.map((f) => f.sha),
    ],
  );
  for (const r of rows) {
    const key = keyOf(r);
    found.set(key, (found.get(key) ?? new Set()).add(r.sha));
  }
  return found;
}

/** The streams of `scopes`, as `unnest` parameters. */
const streamParams = (scopes: readonly StreamScope[]) => [
  scopes.map((s) => s.environment),
  scopes.map((s) => s.service),
];

/**
 * Each stream's change repositories (its deployments' own, its builds' and their changes', the
 * configured one) and the time of the deployment that brought the newest one in; aggregated in
 * the database, so the streams' rows are not read.
 */
async function streamRepositories(
  db: Queryable,
  requests: readonly SuffixRequest[],
): Promise<Map<string, { names: string[]; since: Date }>> {
  const scopes = requests.map((r) => r.scope);
  const { rows } = await db.query<{
    environment: string;
    service: string;
    repository: string;
    since: Date;
  }>(
    `select environment, service, repository, min(at) as since from (
       select d.environment, d.service, d.repository, d.deployed_at as at
       from unnest($1::text[], $2::text[]) as s(environment, service)
       join deployments d on d.environment = s.environment and d.service = s.service
       where d.repository is not null
       union all
       select g.environment, g.service, coalesce(a.repository, c.repository), g.at
       from (select d.environment, d.service, d.digest, min(d.deployed_at) as at
             from unnest($1::text[], $2::text[]) as s(environment, service)
             join deployments d on d.environment = s.environment and d.service = s.service
             where d.digest is not null
             group by d.environment, d.service, d.digest) g
       join artifacts a on a.digest = g.digest
       left join changes c on a.repository is null and c.change_key = a.change_key
     ) r where repository is not null group by environment, service, repository`,
    streamParams(scopes),
  );
  const found = new Map<string, Map<string, number>>(
    scopes.map((s) => [keyOf(s), new Map<string, number>()]),
  );
  for (const r of rows) found.get(keyOf(r))?.set(r.repository, new Date(r.since).getTime());
  for (const s of scopes) {
    if (s.configuredRepository) found.get(keyOf(s))!.set(s.configuredRepository, 0);
  }
  return new Map(
    [...found].map(([key, since]) => [
      key,
      { names: [...since.keys()], since: new Date(Math.max(0, ...since.values())) },
    ]),
  );
}

/** Streams' own deployment reports from a time on, read further back as a cut needs. */
class ReportsFrom {
  private readonly lists = new Map<string, DeploymentFact[]>();
  private readonly since = new Map<string, number>();
  /** Times no rollout spans (found without reading the reports before them). */
  private readonly unspanned = new Map<string, number>();

  constructor(private readonly db: Queryable) {}

  of(scope: StreamScope): DeploymentFact[] {
    return this.lists.get(keyOf(scope)) ?? [];
  }

  /** identityCut per stream, with the reports it needs (from a window before its result). */
  async identityCuts(
    asked: readonly { scope: StreamScope; from: Date }[],
    window: number,
  ): Promise<Date[]> {
    await this.readFirst(asked, window);
    const unspanned = (a: { scope: StreamScope; from: Date }) =>
      this.unspanned.get(keyOf(a.scope)) === a.from.getTime();
    for (;;) {
      const cuts = asked.map((a) =>
        unspanned(a) ? a.from : identityCut(a.from, this.of(a.scope), window),
      );
      const short = asked.flatMap((a, i) => {
        if (unspanned(a)) return [];
        const needed = cuts[i]!.getTime() - window;
        const read = this.since.get(keyOf(a.scope));
        return read !== undefined && read <= needed ? [] : [{ scope: a.scope, from: needed }];
      });
      if (short.length === 0) return cuts;
      await this.read(short);
    }
  }

  /**
   * A stream's first read is from the time asked: when every report within the window after it
   * comes from one reporter and none from another reporter lies within the window before it, no
   * rollout spans it (one reporter's reports are never one rollout), and the stream's earlier
   * reports are not read at all. A busy stream has thousands of reports an hour, all of them
   * from the same reporter, as often as not.
   */
  private async readFirst(
    asked: readonly { scope: StreamScope; from: Date }[],
    window: number,
  ): Promise<void> {
    const first = asked.filter((a) => !this.since.has(keyOf(a.scope)));
    if (first.length === 0) return;
    await this.read(first.map((a) => ({ scope: a.scope, from: a.from.getTime() })));
    const probes = first.flatMap((a) => {
      const at = a.from.getTime();
      const reporters = new Set(
        this.of(a.scope)
          .filter((r) => r.deployedAt.getTime() >= at && r.deployedAt.getTime() <= at + window)
          .map((r) => r.reporter ?? null),
      );
      if (reporters.size === 0) this.unspanned.set(keyOf(a.scope), at);
      return reporters.size === 1 ? [{ scope: a.scope, at, reporter: [...reporters][0]! }] : [];
    });
    if (probes.length === 0) return;
    // From each stream's reporters' latest reports (not its reports): another reporter's latest
    // at or after the window's start may be before the time asked (then it may span it).
    const { rows } = await this.db.query<{ environment: string; service: string }>(
      `select s.environment, s.service
       from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
            as s(environment, service, since, reporter)
       where exists (select 1 from dora_stream_reporters r
                     where r.environment = s.environment and r.service = s.service
                       and r.reporter is distinct from s.reporter and r.last_at >= s.since)`,
      [
        ...streamParams(probes.map((p) => p.scope)),
        probes.map((p) => new Date(p.at - window).toISOString()),
        probes.map((p) => p.reporter),
      ],
    );
    const spanned = new Set(rows.map(keyOf));
    for (const p of probes) {
      if (!spanned.has(keyOf(p.scope))) this.unspanned.set(keyOf(p.scope), p.at);
    }
  }

  /** Reads each stream's reports from `from` up to what was read already. */
  private async read(asked: readonly { scope: StreamScope; from: number }[]): Promise<void> {
    const { rows } = await this.db.query<DeploymentRow>(
      `select d.* from unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
                         as s(environment, service, since, until)
       join deployments d on d.environment = s.environment and d.service = s.service
        and d.deployed_at >= s.since and (s.until is null or d.deployed_at < s.until)`,
      [
        ...streamParams(asked.map((a) => a.scope)),
        asked.map((a) => new Date(a.from).toISOString()),
        asked.map((a) => {
          const read = this.since.get(keyOf(a.scope));
          return read === undefined ? null : new Date(read).toISOString();
        }),
      ],
    );
    const read = new Map<string, DeploymentFact[]>();
    for (const row of rows) push(read, keyOf(row), deploymentFromRow(row));
    for (const a of asked) {
      const key = keyOf(a.scope);
      this.lists.set(key, [...(read.get(key) ?? []), ...(this.lists.get(key) ?? [])]);
      this.since.set(key, a.from);
    }
  }
}

/** Each stream's incidents, and those naming one of its deployments. */
async function streamIncidents(
  db: Queryable,
  scopes: readonly StreamScope[],
): Promise<Map<string, IncidentFact[]>> {
  // Those naming a deployment: from the incidents that name one (few), each looking its
  // deployment up by id (a join let the planner hash every deployment: 250 ms at 1M).
  const { rows } = await db.query<IncidentRow & { for_environment: string; for_service: string }>(
    `with naming as materialized (
       select d.environment as for_environment, d.service as for_service, i.*
       from incidents i
       cross join lateral (select environment, service from deployments
                           where cdevent_id = i.cause_deployment) d
       where i.cause_deployment is not null
     )
     select s.environment as for_environment, s.service as for_service, i.*
     from unnest($1::text[], $2::text[]) as s(environment, service)
     join incidents i on i.environment = s.environment and i.service = s.service
     union
     select n.* from naming n
     join unnest($1::text[], $2::text[]) as s(environment, service)
       on s.environment = n.for_environment and s.service = n.for_service`,
    streamParams(scopes),
  );
  const found = new Map<string, IncidentFact[]>();
  for (const r of rows) {
    push(
      found,
      keyOf({ environment: r.for_environment, service: r.for_service }),
      incidentFromRow(r),
    );
  }
  return found;
}

interface StoredRow {
  environment: string;
  service: string;
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
 * Per stream, the stored deliveries before `before` that streamCut can look up, in time order:
 * the last success (before each incident's detection, and of its cause revision, and overall),
 * the ones incidents name, and the failures not restored by an incident that were not restored
 * before `restoredFrom`. Rows before the identity cut are what the rules would compute again for
 * everything the cut reads of them (streamCut's contract).
 */
async function storedCandidates(
  db: Queryable,
  asked: readonly {
    scope: StreamScope;
    before: Date;
    incidents: readonly IncidentFact[];
    restoredFrom: Date;
  }[],
): Promise<Map<string, CutDelivery[]>> {
  const lookups = asked.flatMap((a) =>
    [
      { until: 'infinity', revision: null as string | null },
      ...a.incidents.flatMap((i) =>
        i.detectedAt
          ? [
              { until: i.detectedAt.toISOString(), revision: null },
              ...(i.causeRevision
                ? [{ until: i.detectedAt.toISOString(), revision: i.causeRevision }]
                : []),
            ]
          : [],
      ),
    ].map((l) => ({ ...a, ...l })),
  );
  const named = asked.flatMap((a) =>
    a.incidents.flatMap((i) => (i.causeDeployment ? [{ ...a, id: i.causeDeployment }] : [])),
  );
  const columns = `s.environment, s.service, s.deployment_seq, d.cdevent_id, s.kind, s.outcome,
                   s.deployed_at, s.revision, s.failed, s.failure_reasons, s.restored_at`;
  const { rows } = await db.query<StoredRow>(
    `select ${columns}
     from unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[])
          as q(environment, service, before, until, revision)
     cross join lateral (
       select * from dora_deliveries s
       where s.environment = q.environment and s.service = q.service and s.deployed_at < q.before
         and s.deployed_at <= q.until and s.kind = 'deploy' and s.outcome = 'success'
         and (q.revision is null or s.revision = q.revision)
       order by s.deployed_at desc, s.deployment_seq desc limit 1) s
     join deployments d on d.cdevent_seq = s.deployment_seq
     union
     select ${columns}
     from unnest($6::text[], $7::text[], $8::timestamptz[], $9::text[])
          as q(environment, service, before, id)
     join deployments d on d.cdevent_id = q.id
     join dora_deliveries s on s.deployment_seq = d.cdevent_seq
     where s.environment = q.environment and s.service = q.service and s.deployed_at < q.before
     union
     select ${columns}
     from unnest($10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[])
          as q(environment, service, before, restored_from)
     join dora_deliveries s on s.environment = q.environment and s.service = q.service
     join deployments d on d.cdevent_seq = s.deployment_seq
     where s.deployed_at < q.before and s.failed
       and coalesce(s.restored_at, 'infinity'::timestamptz) >= q.restored_from
       and not exists (select 1 from unnest(s.failure_reasons) r where r like 'incident %')`,
    [
      ...streamParams(lookups.map((l) => l.scope)),
      lookups.map((l) => l.before.toISOString()),
      lookups.map((l) => l.until),
      lookups.map((l) => l.revision),
      ...streamParams(named.map((n) => n.scope)),
      named.map((n) => n.before.toISOString()),
      named.map((n) => n.id),
      ...streamParams(asked.map((a) => a.scope)),
      asked.map((a) => a.before.toISOString()),
      asked.map((a) => a.restoredFrom.toISOString()),
    ],
  );
  const found = new Map<string, (CutDelivery & { seq: number })[]>();
  for (const r of rows) {
    push(found, keyOf(r), {
      seq: Number(r.deployment_seq),
      cdeventId: r.cdevent_id,
      kind: r.kind,
      outcome: r.outcome,
      deployedAt: new Date(r.deployed_at),
      ...(r.revision === null ? {} : { revision: r.revision }),
      failed: r.failed,
      failureReasons: r.failure_reasons,
      restoredAt: r.restored_at === null ? undefined : new Date(r.restored_at),
    });
  }
  for (const list of found.values()) {
    list.sort((a, b) => a.deployedAt.getTime() - b.deployedAt.getTime() || a.seq - b.seq);
  }
  return found;
}

/** Per stream, the revision its deployments from `from` on deliver from (baselines included). */
async function previousRevisions(
  db: Queryable,
  scopes: readonly StreamScope[],
  froms: readonly Date[],
): Promise<Map<string, string>> {
  const { rows } = await db.query<{ environment: string; service: string; revision: string }>(
    `select q.environment, q.service, p.revision
     from unnest($1::text[], $2::text[], $3::timestamptz[]) as q(environment, service, before)
     cross join lateral (
       select revision from (
         (select deployed_at, deployment_seq, revision from dora_deliveries
          where environment = q.environment and service = q.service and deployed_at < q.before
            and kind = 'deploy' and outcome = 'success' and revision is not null
          order by deployed_at desc, deployment_seq desc limit 1)
         union all
         (select deployed_at, deployment_seq, revision from dora_baselines
          where environment = q.environment and service = q.service and deployed_at < q.before
          order by deployed_at desc, deployment_seq desc limit 1)
       ) p order by deployed_at desc, deployment_seq desc limit 1) p`,
    [...streamParams(scopes), froms.map((f) => f.toISOString())],
  );
  return new Map(rows.map((r) => [keyOf(r), r.revision]));
}

/** Per stream, the CloudEvent ids of its deliveries before `from` that incidents name. */
async function namedBefore(
  db: Queryable,
  scopes: readonly StreamScope[],
  froms: readonly Date[],
  named: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, Set<string>>> {
  const asked = scopes.flatMap((scope, i) =>
    (named.get(keyOf(scope)) ?? []).map((id) => ({ scope, before: froms[i]!, id })),
  );
  const found = new Map<string, Set<string>>();
  if (asked.length === 0) return found;
  const { rows } = await db.query<{ environment: string; service: string; cdevent_id: string }>(
    `select q.environment, q.service, d.cdevent_id
     from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[])
          as q(environment, service, before, id)
     join deployments d on d.cdevent_id = q.id
     join dora_deliveries s on s.deployment_seq = d.cdevent_seq
     where s.environment = q.environment and s.service = q.service and s.deployed_at < q.before`,
    [
      ...streamParams(asked.map((a) => a.scope)),
      asked.map((a) => a.before.toISOString()),
      asked.map((a) => a.id),
    ],
  );
  for (const r of rows) found.set(keyOf(r), (found.get(keyOf(r)) ?? new Set()).add(r.cdevent_id));
  return found;
}
