import { z } from 'zod';
import type { TagPolicy } from './tag-policy.js';

/** One service's update policy: which new tags it takes, from which image, and how. */
export const updatePolicySchema = z
  .strictObject({
    policy: z.enum(['patch', 'minor', 'major', 'glob']),
    /** The pattern for `policy: glob` (`main-*`). */
    glob: z.string().min(1).optional(),
    prerelease: z.enum(['exclude', 'same-version', 'include']).default('exclude'),
    /** The image whose tags are watched; default: the service's first image. */
    image: z.string().min(1).optional(),
    /** Wait for `cadence approve ID` before starting the canary. */
    approval: z.boolean().default(false),
    intervalSeconds: z.number().int().min(1).default(300),
    /** Canary starts tried for one tag before the update ends `failed` (one notification). */
    maxAttempts: z.number().int().min(1).default(3),
    /** The wait after the first failed start; doubled after each further one. */
    retryBackoffSeconds: z.number().min(0).default(60),
  })
  .refine((value) => value.policy !== 'glob' || value.glob !== undefined, {
    path: ['glob'],
    message: 'policy glob needs a glob pattern',
  });

/** The `updates` section: policies keyed by deployer service. */
export const updatesSettingsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  services: z.record(z.string(), updatePolicySchema).default({}),
});

export type UpdatePolicySettings = z.output<typeof updatePolicySchema>;
export type UpdatesSettings = z.output<typeof updatesSettingsSchema>;

/** The pure policy a service's settings name. */
export function tagPolicyOf(settings: UpdatePolicySettings): TagPolicy {
  return settings.policy === 'glob'
    ? { type: 'glob', pattern: settings.glob! }
    : { type: settings.policy, prerelease: settings.prerelease };
}
