import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** `2m`, `90s`, `1h`, `1m30s` or a number of seconds, as seconds. */
export function durationSeconds(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) return undefined;
  return parts.reduce((sum, part) => sum + Number(part[1]) * UNITS[part[2]!]!, 0);
}

const durationSchema = z.union([z.number(), z.string()]).transform((value, context) => {
  const seconds = durationSeconds(value);
  if (seconds === undefined) {
    context.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 2m or 1h' });
    return z.NEVER;
  }
  return seconds;
});

const dnsName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a Kubernetes object name')
  .max(56, 'at most 56 characters (Cadence appends -stable / -canary)');

/** One traffic step: the canary's share of requests in percent, held at least `pause`. */
export const trafficStepSchema = z.strictObject({
  weight: z.number().int().min(1).max(100),
  /** The least time at this weight before the next passing interval moves on. */
  pause: durationSchema.default(0),
});

/**
 * A service's `strategy`: traffic steps through a Gateway API HTTPRoute instead of the replica
 * ratio. Cadence manages `<service>-stable` and `<service>-canary` Services and the weights of
 * the route's backendRefs to them; the route itself (parents, hostnames, matches) is the user's.
 */
export const trafficStrategySchema = z
  .strictObject({
    /** The HTTPRoute (in the service's namespace) whose backendRefs send to `service`. */
    httpRoute: dnsName,
    /** The Service the route's backendRefs name today; default: the deployer service's name. */
    service: dnsName.optional(),
    steps: z.array(trafficStepSchema).min(1).max(20),
    /** Requests with this header go to the canary whatever the weight (testers, synthetic checks). */
    headerRoute: z
      .strictObject({
        name: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'),
        value: z.string().min(1).max(4096),
        type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
      })
      .optional(),
    /** After the last step, promotion waits for `cadence confirm` (a promote token). */
    confirmPromotion: z.boolean().default(false),
  })
  .superRefine((strategy, context) => {
    strategy.steps.forEach((step, index) => {
      const before = strategy.steps[index - 1];
      if (before && step.weight <= before.weight) {
        context.addIssue({
          code: 'custom',
          path: ['steps', index, 'weight'],
          message: `weights must increase (step ${index - 1} is ${before.weight})`,
        });
      }
    });
  });

export type TrafficStrategy = z.output<typeof trafficStrategySchema>;
export type TrafficStrategyInput = z.input<typeof trafficStrategySchema>;
