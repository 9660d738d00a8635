import { z } from 'zod';

/**
 * What a matched file makes of its commit: a `cause` event (a package vendored, an update
 * proposed), a `deploy` event (the package shipped to an environment), or nothing (`ignore`:
 * claims the file so later purposes do not see it, e.g. reverts).
 */
export const ROLES = ['cause', 'deploy', 'ignore'] as const;
export type Role = (typeof ROLES)[number];

/** The placeholder a path glob uses to capture the package name. */
export const PACKAGE_CAPTURE = '{package}';

const isRegExp = (source: string) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
};
const pattern = z.string().min(1).refine(isRegExp, 'must be a valid regular expression');

const mergeSchema = z.union([
  z.literal(true),
  z
    .strictObject({
      /** A merge commit: more than one parent. */
      parents: z.literal(true).optional(),
      /** Or a subject line matching this pattern (squash merges have one parent). */
      message: pattern.optional(),
    })
    .refine(
      (merge) => merge.parents !== undefined || merge.message !== undefined,
      'give parents: true and/or a message pattern',
    ),
]);

const purposeSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(ROLES),
  /** Path globs (picomatch, dotfiles included); `{package}` captures one path segment. */
  paths: z.array(z.string().min(1)).min(1).optional(),
  /** A regular expression the commit's subject line (or whole message) must match. */
  message: pattern.optional(),
  /** Match `message` and `merge.message` against the whole message, not only the subject line. */
  wholeMessage: z.boolean().optional(),
  /** Package by substring of the path, first listed wins (when no `{package}` capture). */
  packages: z
    .array(z.strictObject({ name: z.string().min(1), contains: z.string().min(1) }))
    .min(1)
    .optional(),
  /** For a deploy: the environment (folder) it deploys to; default the production one. */
  environment: z.string().min(1).optional(),
  /** Only merges count: `true` (more than one parent) or `{ parents, message }` (either). */
  merge: mergeSchema.optional(),
});

/**
 * The patching-cadence rules file (YAML). Unknown keys are refused: a typo is an error.
 * See docs/git-cadence.md for the format and two complete examples.
 */
export const rulesSchema = z
  .strictObject({
    /** Folders a change is promoted through, in order; the last is production. */
    environments: z.array(z.string().min(1)).min(1).optional(),
    /** Tried in order for each file; the first that matches wins. */
    purposes: z.array(purposeSchema).min(1),
  })
  .superRefine((rules, ctx) => {
    const names = new Set<string>();
    const environments = rules.environments ?? [];
    if (new Set(environments).size !== environments.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments'],
        message: 'names an environment twice',
      });
    }
    rules.purposes.forEach((purpose, index) => {
      const at = (...path: (string | number)[]) => ['purposes', index, ...path];
      if (names.has(purpose.name)) {
        ctx.addIssue({
          code: 'custom',
          path: at('name'),
          message: `${purpose.name} is used twice`,
        });
      }
      names.add(purpose.name);
      if (!purpose.paths && !purpose.message) {
        ctx.addIssue({ code: 'custom', path: at(), message: 'needs paths and/or a message' });
      }
      (purpose.paths ?? []).forEach((glob, pathIndex) => {
        const captures = glob.split(PACKAGE_CAPTURE).length - 1;
        if (captures > 1) {
          ctx.addIssue({
            code: 'custom',
            path: at('paths', pathIndex),
            message: `${PACKAGE_CAPTURE} may appear once`,
          });
        }
        if (purpose.role !== 'ignore' && captures === 0 && !purpose.packages) {
          ctx.addIssue({
            code: 'custom',
            path: at('paths', pathIndex),
            message: `a ${purpose.role} needs a package: put ${PACKAGE_CAPTURE} in the glob or give packages`,
          });
        }
      });
      if (purpose.role !== 'ignore' && !purpose.paths && !purpose.packages) {
        ctx.addIssue({
          code: 'custom',
          path: at('packages'),
          message: `a ${purpose.role} without paths needs packages (name and path substring)`,
        });
      }
      if (purpose.environment !== undefined) {
        if (purpose.role !== 'deploy') {
          ctx.addIssue({
            code: 'custom',
            path: at('environment'),
            message: 'only a deploy has an environment',
          });
        } else if (!environments.includes(purpose.environment)) {
          ctx.addIssue({
            code: 'custom',
            path: at('environment'),
            message: `${purpose.environment} is not in environments (the folders in promotion order, production last)`,
          });
        }
      }
    });
  });

export type RulesInput = z.input<typeof rulesSchema>;
export type RulesDocument = z.output<typeof rulesSchema>;
