/**
 * The DORA golden scenario (docs/metrics.md, "Worked example"): a scripted stream of CDEvents
 * whose every metric is computed by hand. The golden test, the timeline test and the dashboard's
 * browser test all post it through the real intake.
 */
import type { DoraSettings } from '../../src/dora/index.js';

export const HOUR = 3600;
let counter = 0;

function cdevent(
  type: string,
  timestamp: string,
  subject: Record<string, unknown>,
  cadence?: Record<string, unknown>,
  id = `golden-${++counter}`,
) {
  return {
    context: {
      specversion: '0.5.1',
      id,
      source: '/golden',
      type: `dev.cdevents.${type}`,
      timestamp,
    },
    subject,
    ...(cadence ? { customData: { cadence } } : {}),
  };
}

const merged = (
  key: string,
  at: string,
  revision: string,
  commits: [string, string][],
): ReturnType<typeof cdevent> =>
  cdevent(
    'change.merged.0.3.0',
    at,
    { id: key, content: { repository: { id: 'acme/web' } } },
    {
      repository: 'acme/web',
      revision,
      mergedAt: at,
      commits: commits.map(([id, timestamp]) => ({ id, timestamp })),
    },
  );

const deployed = (
  service: string,
  environment: string,
  at: string,
  cadence: Record<string, unknown>,
  id?: string,
) =>
  cdevent(
    'service.deployed.0.3.0',
    at,
    {
      id: service,
      content: { environment: { id: environment }, artifactId: `pkg:oci/${service}@sha256%3Aab` },
    },
    cadence,
    id,
  );

const web = { repository: 'acme/web' };
export const scenario = [
  // Changes on acme/web: two merged PRs, a direct push, a squash merge (its PR's commits kept),
  // a fix.
  merged('acme/web#1', '2026-03-02T10:00:00Z', 'r1', [
    ['a1', '2026-03-01T10:00:00Z'],
    ['a2', '2026-03-02T08:00:00Z'],
  ]),
  merged('acme/web@r2', '2026-03-03T09:00:00Z', 'r2', [['b1', '2026-03-03T09:00:00Z']]),
  merged('acme/web#3', '2026-03-04T12:00:00Z', 'r3', [
    ['c1', '2026-03-03T12:00:00Z'],
    ['c2', '2026-03-04T06:00:00Z'],
  ]),
  merged('acme/web#4', '2026-03-05T06:00:00Z', 'r4', [['d1', '2026-03-05T05:00:00Z']]),
  merged('acme/web#5', '2026-03-09T10:00:00Z', 'r5', [['e1', '2026-03-09T09:00:00Z']]),
  // Staging sees r1 first: it must not count in production.
  deployed('web', 'staging', '2026-03-02T11:00:00Z', { ...web, revision: 'r1' }),
  // D1, the first production deployment: credited with r1's change only.
  deployed('web', 'production', '2026-03-02T12:00:00Z', { ...web, revision: 'r1' }),
  // A1: api's first deployment, without any repository: no changes.
  deployed('api', 'production', '2026-03-03T00:00:00Z', {}, 'api-deploy-1'),
  // D2 delivers the push and the squash merge; an incident two hours later is attributed to it.
  deployed('web', 'production', '2026-03-04T14:00:00Z', { ...web, revision: 'r3' }),
  cdevent('incident.detected.0.3.0', '2026-03-04T16:00:00Z', {
    id: 'I1',
    content: { environment: { id: 'production' }, service: { id: 'web' } },
  }),
  // D3 ships while I1 is open (rework); I1 is resolved half an hour later.
  deployed('web', 'production', '2026-03-05T09:00:00Z', { ...web, revision: 'r4' }),
  cdevent('incident.resolved.0.3.0', '2026-03-05T09:30:00Z', {
    id: 'I1',
    content: { environment: { id: 'production' }, service: { id: 'web' } },
  }),
  // D4 is rolled back an hour later.
  deployed('web', 'production', '2026-03-09T12:00:00Z', { ...web, revision: 'r5' }),
  cdevent(
    'service.rolledback.0.3.0',
    '2026-03-09T13:00:00Z',
    {
      id: 'web',
      content: { environment: { id: 'production' }, artifactId: 'pkg:oci/web@sha256%3Aab' },
    },
    { ...web, revision: 'r4' },
  ),
  // D5: a failed canary of r5; D6 ships r5 for good a day later (nothing new to deliver).
  deployed('web', 'production', '2026-03-10T10:00:00Z', {
    ...web,
    revision: 'r5',
    outcome: 'failure',
  }),
  deployed('web', 'production', '2026-03-11T10:00:00Z', { ...web, revision: 'r5' }),
  // I2 names api's first deployment as its cause, far outside the attribution window.
  cdevent(
    'incident.detected.0.3.0',
    '2026-03-12T00:00:00Z',
    { id: 'I2', content: { environment: { id: 'production' }, service: { id: 'api' } } },
    { cause: { deployment: 'api-deploy-1' } },
  ),
  cdevent('incident.resolved.0.3.0', '2026-03-12T02:00:00Z', {
    id: 'I2',
    content: { environment: { id: 'production' }, service: { id: 'api' } },
  }),
];

export const window = {
  from: new Date('2026-03-01T00:00:00Z'),
  to: new Date('2026-03-15T00:00:00Z'),
};
export const settings: DoraSettings = {
  environment: 'production',
  attributionWindowHours: 24,
  services: { web: { team: 'storefront' }, api: { team: 'platform' } },
};
