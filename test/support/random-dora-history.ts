/**
 * A random but reproducible DORA history as CDEvents, for the tests that compare incremental
 * projection with a full rewrite: two services in two environments, changes with commits, reports
 * of one rollout from several reporters close in time, rollbacks, failures, baselines, builds of
 * image digests, and incidents (labelled or not, with a cause revision or a named deployment,
 * resolved or still open). `seed` picks the history; the same seed gives the same events.
 */

/** A small deterministic generator (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (next: () => number, length: number) =>
  Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join('');

export interface RandomHistory {
  /** CDEvents (the bodies `POST /cdevents` takes), in the order they happened. */
  events: Record<string, unknown>[];
}

/**
 * What a seed's history holds (by seed modulo 3): only successful deployments, or failures and
 * rollbacks too, or incidents too. Each rule that reaches back before a new fact would hide the
 * others if every history had all of them.
 */
export type HistoryShape = 'deployments' | 'failures' | 'incidents';

export function shapeOf(seed: number): HistoryShape {
  return (['deployments', 'incidents', 'failures'] as const)[seed % 3]!;
}

/** How many deployments, over how many days (denser: more rollouts within the identity window). */
export interface HistorySize {
  deployments: number;
  days: number;
}

export function randomHistory(
  seed: number,
  size: HistorySize = { deployments: 26, days: 5 },
): RandomHistory {
  const shape = shapeOf(seed);
  const failures = shape !== 'deployments';
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  const start = Date.UTC(2026, 2, 1);
  const minute = 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  let counter = 0;
  const events: { at: number; body: Record<string, unknown> }[] = [];
  const cdevent = (
    type: string,
    at: number,
    subject: Record<string, unknown>,
    cadence?: Record<string, unknown>,
  ) => {
    const id = `r${seed}-${++counter}`;
    events.push({
      at,
      body: {
        context: {
          specversion: '0.5.1',
          id,
          source: '/random',
          type: `dev.cdevents.${type}`,
          timestamp: iso(at),
        },
        subject,
        ...(cadence ? { customData: { cadence } } : {}),
      },
    });
    return id;
  };

  const services = ['web', 'api'] as const;
  const reporters = ['watcher', 'deployer', 'argocd'];
  const environments = ['production', 'staging'] as const;
  const repositoryOf = (service: string) => `acme/${service}`;

  // Changes: each repository's main line, one to two commits each.
  const revisions = new Map<string, { revision: string; mergedAt: number }[]>();
  for (const service of services) {
    const list: { revision: string; mergedAt: number }[] = [];
    let at = start - 12 * 60 * minute;
    for (let i = 0; i < 10; i++) {
      at += Math.floor(next() * 10 * 60) * minute;
      const revision = hex(next, 40);
      list.push({ revision, mergedAt: at });
      const commits = Array.from({ length: 1 + Math.floor(next() * 2) }, (_, c) => ({
        id: c === 0 ? revision : hex(next, 40),
        timestamp: iso(at - Math.floor(next() * 48 * 60) * minute),
      }));
      cdevent(
        'change.merged.0.3.0',
        at,
        {
          id: `${service}-pr-${seed}-${i}`,
          content: { repository: { id: repositoryOf(service) } },
        },
        { repository: repositoryOf(service), revision, mergedAt: iso(at), commits },
      );
    }
    revisions.set(service, list);
  }

  // Deployments over the days; some reported again by another reporter within the hour.
  const deployments: { id: string; at: number; service: string; revision?: string }[] = [];
  for (let i = 0; i < size.deployments; i++) {
    const service = pick(services);
    const environment = chance(0.7) ? 'production' : 'staging';
    const at = start + Math.floor(next() * size.days * 24 * 60) * minute;
    const change = pick(revisions.get(service)!);
    const digest = hex(next, 64);
    const named = chance(0.75);
    const revision = named
      ? chance(0.2)
        ? change.revision.slice(0, 7)
        : change.revision
      : undefined;
    const rollback = chance(0.12) && failures;
    const cadence = {
      ...(revision ? { revision, repository: repositoryOf(service) } : {}),
      ...(chance(0.15) && failures ? { outcome: 'failure' } : {}),
      ...(chance(0.05) ? { baseline: true } : {}),
      ...(chance(0.08) ? { remedies: `incident-${seed}-${Math.floor(next() * 4)}` } : {}),
      reporter: pick(reporters),
    };
    const subject = {
      id: service,
      content: {
        environment: { id: environment },
        artifactId: `pkg:oci/${service}@sha256%3A${digest}`,
      },
    };
    const type = rollback ? 'service.rolledback.0.3.0' : 'service.deployed.0.3.0';
    const id = cdevent(type, at, subject, cadence);
    deployments.push({ id, at, service, ...(revision ? { revision } : {}) });
    if (chance(0.4)) {
      // The same rollout seen by another reporter (sometimes without the revision).
      const later = at + Math.floor(next() * 50) * minute;
      cdevent(type, later, subject, {
        ...(chance(0.5) ? { revision: change.revision } : {}),
        reporter: pick(reporters.filter((r) => r !== cadence.reporter)),
      });
    }
    if (!named && chance(0.6)) {
      // The build of that digest names its commit.
      cdevent('artifact.packaged.0.3.0', at - 30 * minute, {
        id: `pkg:oci/${service}@sha256%3A${digest}`,
        content: {
          change: { id: change.revision, source: `https://github.com/${repositoryOf(service)}` },
        },
      });
    }
  }

  // Incidents: detected after some deployment, resolved or not, labelled or not.
  for (let i = 0; i < (shape === 'incidents' ? 6 : 0); i++) {
    const cause = pick(deployments);
    const detected = cause.at + Math.floor(next() * 30 * 60) * minute;
    const labelled = chance(0.7);
    const content = {
      // An unlabelled one carries the default, as the forge transformers send it.
      environment: { id: labelled ? pick(environments) : 'production' },
      service: { id: cause.service },
    };
    const causeData =
      chance(0.25) && cause.revision
        ? { cause: { revision: cause.revision } }
        : chance(0.25)
          ? { cause: { deployment: cause.id } }
          : {};
    const cadence = { ...(labelled ? {} : { environmentGiven: false }), ...causeData };
    cdevent('incident.detected.0.3.0', detected, { id: `incident-${seed}-${i}`, content }, cadence);
    if (chance(0.7)) {
      const resolved = detected + Math.floor(next() * 20 * 60) * minute;
      cdevent(
        'incident.resolved.0.3.0',
        resolved,
        { id: `incident-${seed}-${i}`, content },
        cadence,
      );
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { events: events.map((e) => e.body) };
}

/** The same items in a random order (Fisher–Yates with the given generator). */
export function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
