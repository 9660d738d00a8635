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
});

export type KubeSettings = z.infer<typeof kubeSettingsSchema>;
