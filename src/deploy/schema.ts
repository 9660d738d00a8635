import { z } from 'zod';
import { trafficStrategySchema } from '../traffic/index.js';

/** A registry the service's images live in; credentials are sent only to it. */
const registrySchema = z.union([
  z.url().transform((url) => ({ url })),
  z.strictObject({
    url: z.url(),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
  }),
]);

/** One service the deployer may deploy. */
export const deployServiceSchema = z
  .strictObject({
    /** The git repository holding its manifests: a URL or a local path. */
    repository: z.string().min(1),
    /** The folder of manifests in the repository. */
    manifests: z.string().min(1).default('kubernetes'),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes namespace name'),
    /** The DORA environment its deployments count for; default: the namespace. */
    environment: z.string().min(1).optional(),
    registry: registrySchema.optional(),
    /** Image repositories (`127.0.0.1:5000/web`) whose tags `tags` lists; default: the manifests'. */
    images: z.array(z.string().min(1)).optional(),
    canaryReplicas: z.number().int().min(1).default(1),
    /** How many previous stable versions are kept for `rollback --to` (newest first). */
    keepVersions: z.number().int().min(1).max(100).default(5),
    /**
     * Traffic steps through a Gateway API HTTPRoute (docs/deployer.md); without it a canary's
     * share of traffic is its share of the replicas.
     */
    strategy: trafficStrategySchema.optional(),
    /**
     * Start stable's version at the canary's size beside each canary (`-baseline`, track
     * `baseline`), removed with it; the analysis judges the canary against it, not stable.
     */
    baseline: z.boolean().default(false),
    /**
     * How an image tag names its commit: a regular expression with a named group `sha`. A tag
     * that is no git tag but matches deploys that commit's manifests; one that matches nothing
     * runs the stable manifests with the new image (image-only). Default `<branch>-<sha>`.
     */
    tagPattern: z
      .string()
      .min(1)
      .refine((source) => {
        try {
          new RegExp(source);
        } catch {
          return false;
        }
        return source.includes('(?<sha>');
      }, 'must be a regular expression with a named group (?<sha>…)')
      .optional(),
  })
  .superRefine((service, context) => {
    // The route's track Services send to stable and canary only: a baseline would get no traffic.
    if (service.baseline && service.strategy) {
      context.addIssue({
        code: 'custom',
        path: ['baseline'],
        message:
          'a baseline is not yet supported with traffic steps (strategy); use one or the other',
      });
    }
  });

/** The `deployer` section of the config. */
export const deployerSettingsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Serve the deploy endpoints without tokens (a developer machine, never production). */
  insecureDev: z.boolean().default(false),
  /** Where bare clones of the services' repositories are kept. */
  cacheDir: z.string().min(1).default('./.cadence/repositories'),
  services: z
    .record(
      z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label')
        // `/deployer/version` is Cadence's own version (the thesis's route), not a service's.
        .refine((name) => name !== 'version', 'version is reserved (GET /deployer/version)'),
      deployServiceSchema,
    )
    .default({}),
  notify: z
    .strictObject({
      /** Failures are POSTed here as Slack-compatible JSON (`{text, blocks}`). */
      webhookUrl: z.url().optional(),
    })
    .prefault({}),
});

export type DeployServiceSettings = z.output<typeof deployServiceSchema>;
export type DeployerSettings = z.output<typeof deployerSettingsSchema>;
