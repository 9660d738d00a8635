import { z } from 'zod';

/** The `kube` config section. Watching is off by default, so Cadence runs with no cluster. */
export const kubeSettingsSchema = z.strictObject({
  /** A kubeconfig file; absent: $KUBECONFIG, ~/.kube/config, else in-cluster. */
  kubeconfig: z.string().min(1).optional(),
  /** A context of that kubeconfig; absent: its current context. */
  context: z.string().min(1).optional(),
  /** Namespaces whose Deployments are watched; empty: all namespaces. */
  namespaces: z.array(z.string().min(1)).default([]),
  /** Watch Deployments and record their rollouts. */
  watch: z.boolean().default(false),
  /**
   * How long a rollout past its progress deadline may still complete and count as a successful
   * deployment, not a failed one (docs/rollouts.md, "Late completion"); 0: a deadline miss is a
   * failed deployment at once, and a late completion after it a second, successful one.
   */
  lateCompletionGraceSeconds: z.number().int().min(0).default(3600),
  /** Most `GET /api/v1/rollouts/stream` connections open at once (503 beyond). */
  rolloutStreams: z.number().int().min(1).max(100_000).default(100),
});

export type KubeSettings = z.infer<typeof kubeSettingsSchema>;
