import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { defaults } from '../../src/config/index.js';
import type { Deployer } from '../../src/deploy/index.js';
import { defaultDoraSettings, refreshDeliveries, type DoraSettings } from '../../src/dora/index.js';
import {
  compileRoutingTable,
  createBacklogGate,
  createEventWriter,
  createIntake,
  type BacklogGate,
  createRouter,
  type Intake,
  type Router,
} from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import { buildApp, type AppDeps } from '../../src/server/app.js';
import {
  builtinTransformers,
  securedSources,
  type WebhookReceiver,
} from '../../src/sources/index.js';
import type { Store } from '../../src/store/index.js';

/**
 * The real HTTP app over a store, with its router (not started: tests call routeBatch()) and
 * `settle()`, which routes everything and runs the projector's pass to completion: metrics reads
 * only read, so a test waits for the projection by this condition before reading.
 */
export function testApp(
  store: Store,
  options: {
    bodyLimitBytes?: number;
    /** Receivers for `POST /webhooks/{source}`; none when absent. */
    webhookReceivers?: ReadonlyMap<string, WebhookReceiver>;
    /** Per-source settings for the transformers, as the config's `sources` section gives them. */
    sources?: NonNullable<NonNullable<Parameters<typeof builtinTransformers>[0]>['settings']>;
    /** DORA settings (teams, repositories); the defaults when absent. */
    dora?: DoraSettings;
    /** The built dashboard's folder; `dist/web` when absent. */
    dashboardDir?: string;
    /** The deployer's routes (a deployer built over the same store), when given. */
    deployer?: (intake: Intake) => NonNullable<AppDeps['deployer']>;
    /** The continuous-updates routes over that deployer, when given (with `deployer`). */
    updates?: (deployer: Deployer) => NonNullable<AppDeps['updates']>;
    /** `server.auth`: reads and intake open when absent. */
    auth?: AppDeps['auth'];
    /** Most rollouts streams open at once; the default when absent. */
    rolloutStreams?: number;
    /** `router.maxBacklog`: no back-pressure when absent. */
    maxBacklog?: number;
  } = {},
): {
  app: FastifyInstance;
  router: Router;
  /** Routes until nothing is left, then projects (with these rules, else the app's). */
  settle: (rules?: DoraSettings) => Promise<void>;
  /** The intake's back-pressure gate, when `maxBacklog` is given. */
  backlog: BacklogGate | undefined;
} {
  const transformers = builtinTransformers(options.sources ? { settings: options.sources } : {});
  const table = compileRoutingTable(
    defaults.routes.map((route) => ({ ...route, transformers: [...route.transformers] })),
    transformers.keys(),
  );
  const router = createRouter({ store, table, transformers, logger: silentLogger });
  // As start-server wires it: producers with a webhook secret are refused from anonymous callers.
  const secured = securedSources(options.sources ?? {});
  const backlog =
    options.maxBacklog === undefined
      ? undefined
      : createBacklogGate({ db: store, maxBacklog: options.maxBacklog });
  const intake = createIntake({
    writer: createEventWriter(store),
    admission: { table, secured },
    ...(backlog ? { backlog } : {}),
  });
  const deployer = options.deployer?.(intake);
  const app = buildApp({
    store,
    intake,
    logger: silentLogger,
    bodyLimitBytes: options.bodyLimitBytes ?? defaults.server.bodyLimitBytes,
    ...(options.webhookReceivers ? { webhookReceivers: options.webhookReceivers } : {}),
    securedSources: secured,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.dora ? { dora: options.dora } : {}),
    ...(options.dashboardDir ? { dashboardDir: options.dashboardDir } : {}),
    ...(deployer ? { deployer } : {}),
    ...(deployer && options.updates ? { updates: options.updates(deployer.deployer) } : {}),
    ...(options.rolloutStreams ? { rolloutStreams: options.rolloutStreams } : {}),
  });
  const settle = async (rules?: DoraSettings) => {
    await routeAll(router);
    await refreshDeliveries(store, rules ?? options.dora ?? defaultDoraSettings);
  };
  return { app, router, settle, backlog };
}

/** Posts one JSON body to `url` and expects it accepted (202). */
export async function postAccepted(
  app: FastifyInstance,
  url: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<void> {
  const response = await app.inject({
    method: 'POST',
    url,
    headers,
    payload: JSON.stringify(body),
  });
  assert.equal(response.statusCode, 202, `${response.body} for ${JSON.stringify(body)}`);
}

/** Posts each CDEvent on its own to /cdevents, as a producer would, and expects every one accepted. */
export async function postCdevents(
  app: FastifyInstance,
  events: readonly unknown[],
): Promise<void> {
  for (const event of events) await postAccepted(app, '/cdevents', event);
}

/** Routes until nothing is left. */
export async function routeAll(router: Router): Promise<void> {
  while ((await router.routeBatch()) > 0);
}

export const structured = { 'content-type': 'application/cloudevents+json' };
export const batched = { 'content-type': 'application/cloudevents-batch+json' };

export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: 'evt-1',
    source: '/test/source',
    type: 'com.example.thing.happened',
    time: '2026-11-01T10:00:00Z',
    datacontenttype: 'application/json',
    data: { hello: 'world' },
    ...overrides,
  };
}
