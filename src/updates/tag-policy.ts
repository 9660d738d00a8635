import picomatch from 'picomatch';
import semver from 'semver';
import { z } from 'zod';

/**
 * Which new image tags a service takes automatically (Keel-style policies), as pure functions:
 * - `patch` / `minor` / `major`: semantic versions (a leading `v` allowed) within the same
 *   minor line, major line, or any newer version;
 * - `glob`: tags matching a pattern (`main-*`), newest by publication time when known, else by
 *   natural order of the tag.
 * Never a downgrade: only tags after the current one count. Pre-releases (`1.3.0-rc.1`) are
 * `exclude`d by default; `same-version` allows them only towards the current pre-release's own
 * version (1.3.0-rc.1 → 1.3.0-rc.2, as semver ranges do), `include` allows any.
 */
export const tagPolicySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.enum(['patch', 'minor', 'major']),
    prerelease: z.enum(['exclude', 'same-version', 'include']).default('exclude'),
  }),
  z.strictObject({ type: z.literal('glob'), pattern: z.string().min(1) }),
]);
export type TagPolicy = z.infer<typeof tagPolicySchema>;
export type TagPolicyInput = z.input<typeof tagPolicySchema>;

/** A tag as a semantic version, or null (`latest`, `main-1a2b3c`, `1.2`). */
export function tagVersion(tag: string): semver.SemVer | null {
  return semver.parse(tag.startsWith('v') ? tag.slice(1) : tag);
}

function allowedPrerelease(
  candidate: semver.SemVer,
  current: semver.SemVer,
  rule: 'exclude' | 'same-version' | 'include',
): boolean {
  if (candidate.prerelease.length === 0) return true;
  if (rule === 'include') return true;
  if (rule === 'exclude') return false;
  return (
    current.prerelease.length > 0 &&
    candidate.major === current.major &&
    candidate.minor === current.minor &&
    candidate.patch === current.patch
  );
}

function withinLevel(
  candidate: semver.SemVer,
  current: semver.SemVer,
  level: 'patch' | 'minor' | 'major',
) {
  if (level === 'major') return true;
  if (candidate.major !== current.major) return false;
  return level === 'minor' || candidate.minor === current.minor;
}

const natural = new Intl.Collator('en', { numeric: true });

/**
 * The tags the policy would move to from `current`, newest first. Empty when nothing newer is
 * allowed (or the current tag is not a version under a semver policy: no order to compare in).
 *
 * @example updateCandidates('1.2.3', ['1.2.4', '1.3.0', '1.2.2'], { type: 'patch', prerelease: 'exclude' }) // ['1.2.4']
 */
export function updateCandidates(
  current: string,
  tags: readonly string[],
  policy: TagPolicy,
  publishedAt: ReadonlyMap<string, Date> = new Map(),
): string[] {
  if (policy.type === 'glob') {
    const matches = picomatch(policy.pattern);
    const known = publishedAt.get(current);
    const newer = tags.filter((tag) => {
      if (tag === current || !matches(tag)) return false;
      const at = publishedAt.get(tag);
      // By time when both are known, else by the tags' natural order.
      return known && at ? at > known : natural.compare(tag, current) > 0;
    });
    return newer.sort((a, b) => {
      const at = publishedAt.get(a);
      const bt = publishedAt.get(b);
      return at && bt ? bt.getTime() - at.getTime() : natural.compare(b, a);
    });
  }
  const from = tagVersion(current);
  if (!from) return [];
  return tags
    .map((tag) => ({ tag, version: tagVersion(tag) }))
    .filter(
      (entry): entry is { tag: string; version: semver.SemVer } =>
        entry.version !== null &&
        semver.gt(entry.version, from) &&
        withinLevel(entry.version, from, policy.type) &&
        allowedPrerelease(entry.version, from, policy.prerelease),
    )
    .sort((a, b) => semver.rcompare(a.version, b.version) || natural.compare(a.tag, b.tag))
    .map((entry) => entry.tag);
}

/** The tag to update to, if any: the newest candidate. */
export function selectUpdate(
  current: string,
  tags: readonly string[],
  policy: TagPolicy,
  publishedAt?: ReadonlyMap<string, Date>,
): string | undefined {
  return updateCandidates(current, tags, policy, publishedAt)[0];
}

export interface Freshness {
  current: string;
  /** The newest tag of all (any level; pre-releases only if the policy would take them). */
  newest: string;
  /** Distinct newer versions (or matching tags) than the current one. */
  versionsBehind: number;
  /** What the policy would update to now. */
  update: string | undefined;
}

/**
 * How far behind a service's image is: versions newer than the current one regardless of the
 * policy's level (a service pinned to patches is still behind a new major), and what the policy
 * itself would take.
 *
 * @example freshness('1.2.3', ['1.2.4', '2.0.0'], { type: 'patch', prerelease: 'exclude' }) // 2 behind, update 1.2.4
 */
export function freshness(
  current: string,
  tags: readonly string[],
  policy: TagPolicy,
  publishedAt?: ReadonlyMap<string, Date>,
): Freshness {
  const widest: TagPolicy = policy.type === 'glob' ? policy : { ...policy, type: 'major' };
  const newer = updateCandidates(current, tags, widest, publishedAt);
  const distinct =
    policy.type === 'glob' ? newer : [...new Set(newer.map((tag) => tagVersion(tag)!.version))];
  return {
    current,
    newest: newer[0] ?? current,
    versionsBehind: distinct.length,
    update: selectUpdate(current, tags, policy, publishedAt),
  };
}
