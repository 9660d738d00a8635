/**
 * The real app with every route registered — the deployer's (over a repository, with a recording
 * cluster: no cluster is reached) and the continuous updates' (a watcher that never ticks) — for
 * the tests that walk the whole OpenAPI document, and the document's operations as a list.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createDeployer, deployerSettingsSchema, type Deployer } from '../../src/deploy/index.js';
import type { DeployerSettings } from '../../src/deploy/schema.js';
import { createEventWriter, createIntake, type Intake } from '../../src/events/index.js';
import { silentLogger } from '../../src/log/index.js';
import { buildApp } from '../../src/server/app.js';
import type { WebhookReceiver } from '../../src/sources/index.js';
import type { Store } from '../../src/store/index.js';
import {
  createUpdateWatcher,
  updatesSettingsSchema,
  type UpdateWatcher,
} from '../../src/updates/index.js';
import { testApp } from './app.js';
import { createRecordingCluster } from './recording-cluster.js';

export function everyRouteApp(
  store: Store,
  options: {
    /** The deployed service `web`'s repository (namespace `shop`). */
    repository: string;
    /** Where the deployer keeps its clones. */
    cacheDir: string;
    /** Whether the deployer and updates routes accept anyone (`--insecure-dev`). */
    insecureDev: boolean;
    auth?: NonNullable<Parameters<typeof testApp>[1]>['auth'];
    sources?: NonNullable<Parameters<typeof testApp>[1]>['sources'];
  },
): ReturnType<typeof testApp> {
  const { insecureDev } = options;
  return testApp(store, {
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.sources ? { sources: options.sources } : {}),
    deployer: (intake) => ({
      deployer: createDeployer({
        store,
        intake,
        cluster: createRecordingCluster(),
        logger: silentLogger,
        settings: deployerSettingsSchema.parse({
          enabled: true,
          cacheDir: join(options.cacheDir, 'deployer'),
          services: { web: { repository: options.repository, namespace: 'shop' } },
        }),
      }),
      insecureDev,
    }),
    // No policies: the routes answer from an empty table and a watcher that never ticks.
    updates: (deployer) => ({
      watcher: createUpdateWatcher({
        store,
        deployer,
        settings: updatesSettingsSchema.parse({ enabled: true }),
        logger: silentLogger,
      }),
      insecureDev,
    }),
  });
}

export interface DocumentOperation {
  /** Upper case, as HTTP sends it. */
  method: string;
  /** The document's path, `{name}` parameters and all. */
  path: string;
  /** The auth action the operation declares (`x-cadence-action`); `(none)` when it declares none. */
  action: string;
}

/** Every operation of an OpenAPI document. */
export function documentOperations(document: {
  paths: Record<string, Record<string, object>>;
}): DocumentOperation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      action: (operation as { 'x-cadence-action'?: string })['x-cadence-action'] ?? '(none)',
    })),
  );
}

/**
 * The app with the deployer over a deploy fixture's `settings` (a recording cluster) and the
 * continuous updates of `web` (policy minor, approval needed; the watcher never ticks by itself).
 */
export function deployerAndUpdatesApp(
  store: Store,
  settings: DeployerSettings,
  options: { insecureDev: boolean; webhookReceivers?: ReadonlyMap<string, WebhookReceiver> },
): { app: FastifyInstance; intake: Intake; deployer: Deployer; watcher: UpdateWatcher } {
  const intake = createIntake({ writer: createEventWriter(store) });
  const deployer = createDeployer({
    store,
    intake,
    cluster: createRecordingCluster(),
    settings,
    logger: silentLogger,
  });
  const watcher = createUpdateWatcher({
    store,
    deployer,
    settings: updatesSettingsSchema.parse({
      enabled: true,
      services: { web: { policy: 'minor', approval: true } },
    }),
    logger: silentLogger,
  });
  const app = buildApp({
    store,
    intake,
    logger: silentLogger,
    bodyLimitBytes: 1024 * 1024,
    ...(options.webhookReceivers ? { webhookReceivers: options.webhookReceivers } : {}),
    deployer: { deployer, insecureDev: options.insecureDev },
    updates: { watcher, insecureDev: options.insecureDev },
  });
  return { app, intake, deployer, watcher };
}
