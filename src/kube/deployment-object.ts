import { z } from 'zod';

/**
 * An apps/v1 Deployment as Cadence reads it, wherever it comes from (a watch, client-node's typed
 * results, an ApiServerSource event): read permissively, only the fields some module uses are
 * declared, and absent or null alike (the API server and client-node write both).
 */
export const deploymentSchema = z.looseObject({
  kind: z.string().optional(),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1).default('default'),
    uid: z.string().optional(),
    generation: z.number().optional(),
    annotations: z.record(z.string(), z.string()).nullish(),
    labels: z.record(z.string(), z.string()).nullish(),
    managedFields: z.array(z.looseObject({ manager: z.string().nullish() })).nullish(),
  }),
  spec: z
    .looseObject({
      replicas: z.number().nullish(),
      template: z
        .looseObject({
          spec: z
            .looseObject({
              containers: z
                .array(z.looseObject({ name: z.string().nullish(), image: z.string().nullish() }))
                .nullish(),
            })
            .nullish(),
        })
        .nullish(),
    })
    .nullish(),
  status: z
    .looseObject({
      observedGeneration: z.number().nullish(),
      replicas: z.number().nullish(),
      updatedReplicas: z.number().nullish(),
      readyReplicas: z.number().nullish(),
      availableReplicas: z.number().nullish(),
      unavailableReplicas: z.number().nullish(),
      conditions: z
        .array(
          z.looseObject({
            type: z.string(),
            status: z.string().nullish(),
            reason: z.string().nullish(),
            message: z.string().nullish(),
            // A string in watch events, a Date in client-node's typed list results.
            lastTransitionTime: z.union([z.string(), z.date()]).nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

export type DeploymentObject = z.infer<typeof deploymentSchema>;
