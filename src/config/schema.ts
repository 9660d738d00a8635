import { z } from 'zod';
import { analysisSettingsSchema } from '../analysis/index.js';
import { deployerSettingsSchema } from '../deploy/index.js';
import { updatesSettingsSchema } from '../updates/index.js';
import {
  alertmanagerSettingsSchema,
  argocdSettingsSchema,
  githubSettingsSchema,
  gitlabSettingsSchema,
  tektonSettingsSchema,
} from '../sources/index.js';
import { kubeSettingsSchema } from '../kube/index.js';
import { defaults } from './defaults.js';

const routeSchema = z.strictObject({
  type: z.string().min(1),
  source: z.string().min(1).optional(),
  transformers: z.array(z.string().min(1)).min(1),
});

const configObject = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).default(defaults.server.host),
      port: z.number().int().min(0).max(65535).default(defaults.server.port),
      bodyLimitBytes: z.number().int().positive().default(defaults.server.bodyLimitBytes),
      shutdownTimeoutMs: z.number().int().positive().default(defaults.server.shutdownTimeoutMs),
      requestTimeoutMs: z.number().int().positive().default(defaults.server.requestTimeoutMs),
      headersTimeoutMs: z.number().int().positive().default(defaults.server.headersTimeoutMs),
      keepAliveTimeoutMs: z.number().int().positive().default(defaults.server.keepAliveTimeoutMs),
      maxConnections: z.number().int().min(2).default(defaults.server.maxConnections),
      // Which of the open-by-default actions need a token (docs/security.md); deploy, canary,
      // promote, rollback and admin always do.
      auth: z
        .strictObject({
          read: z.boolean().default(defaults.server.auth.read),
          ingest: z.boolean().default(defaults.server.auth.ingest),
        })
        .prefault({}),
    })
    .refine((server) => server.headersTimeoutMs <= server.requestTimeoutMs, {
      message: 'headersTimeoutMs must not be longer than requestTimeoutMs',
      path: ['headersTimeoutMs'],
    })
    .prefault({}),
  store: z
    .strictObject({
      dataDir: z.string().min(1).default(defaults.store.dataDir),
      databaseUrl: z.string().min(1).optional(),
      poolSize: z.number().int().positive().default(defaults.store.poolSize),
    })
    .prefault({}),
  router: z
    .strictObject({
      enabled: z.boolean().default(defaults.router.enabled),
      batchSize: z.number().int().positive().max(10_000).default(defaults.router.batchSize),
      pollIntervalMs: z.number().int().positive().default(defaults.router.pollIntervalMs),
      settleMs: z.number().int().min(0).max(10_000).default(defaults.router.settleMs),
      maxBacklog: z.number().int().positive().default(defaults.router.maxBacklog),
      // Absent: defaults.router.defaultWorkers for the engine (see routerWorkers).
      workers: z.number().int().min(1).max(16).optional(),
    })
    .prefault({}),
  dora: z
    .strictObject({
      environment: z.string().min(1).default(defaults.dora.environment),
      attributionWindowHours: z.number().positive().default(defaults.dora.attributionWindowHours),
      // Reports of one rollout arrive minutes apart; a day at most keeps separate deploys apart.
      identityWindowSeconds: z
        .number()
        .int()
        .positive()
        .max(86_400)
        .default(defaults.dora.identityWindowSeconds),
      exactLimit: z.number().int().min(0).default(defaults.dora.exactLimit),
      services: z
        .record(
          z.string().min(1),
          z.strictObject({
            team: z.string().min(1).optional(),
            repository: z.string().min(1).optional(),
          }),
        )
        .default({}),
    })
    .prefault({}),
  // Each source declares its own settings (secrets, label names); defaults live with it.
  sources: z
    .strictObject({
      github: githubSettingsSchema.prefault({}),
      gitlab: gitlabSettingsSchema.prefault({}),
      tekton: tektonSettingsSchema.prefault({}),
      alertmanager: alertmanagerSettingsSchema.prefault({}),
      argocd: argocdSettingsSchema.prefault({}),
    })
    .prefault({}),
  // The cluster Cadence watches (and deploys to); its defaults live with its schema.
  kube: kubeSettingsSchema.prefault({}),
  // Canary analysis: Prometheus, the runner, per-service queries and settings, notifications.
  analysis: analysisSettingsSchema.prefault({}),
  // The deployer's services, tokens mode and notifications (src/deploy).
  deployer: deployerSettingsSchema.prefault({}),
  // Continuous updates: per deployer service, the tag policy its registry watcher follows.
  updates: updatesSettingsSchema.prefault({}),
  routes: z
    .array(routeSchema)
    .default(() =>
      defaults.routes.map((route) => ({ ...route, transformers: [...route.transformers] })),
    ),
});

/**
 * The config file (YAML), every key optional. Unknown keys are refused: a typo is an error.
 * Settings that constrain each other are checked together here.
 */
export const configSchema = configObject.superRefine((config, ctx) => {
  const workers = config.router.workers;
  if (workers === undefined || workers === 1) return;
  if (!config.store.databaseUrl) {
    ctx.addIssue({
      code: 'custom',
      path: ['router', 'workers'],
      message:
        'the embedded store (PGlite) has one connection and routes one batch at a time: set 1, or use PostgreSQL (store.databaseUrl) for more workers',
    });
  } else if (workers >= config.store.poolSize) {
    ctx.addIssue({
      code: 'custom',
      path: ['router', 'workers'],
      message: `each worker holds a connection while it routes: use fewer than store.poolSize (${config.store.poolSize}), so the intake and reads keep one`,
    });
  }
});

export type CadenceConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Batches the router routes at once: `router.workers`, else the engine's default. */
export function routerWorkers(config: Pick<CadenceConfig, 'router' | 'store'>): number {
  return (
    config.router.workers ??
    (config.store.databaseUrl
      ? defaults.router.defaultWorkers.postgres
      : defaults.router.defaultWorkers.pglite)
  );
}
