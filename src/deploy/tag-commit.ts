/** CI's usual image tag: `<branch>-<sha>` (`main-025838f`), the sha at least 7 hex digits. */
export const DEFAULT_TAG_PATTERN = '^(?<branch>.+)-(?<sha>[0-9a-f]{7,40})$';

/**
 * The commit (prefix) an image tag names, if it names one: `main-025838f` → `025838f`. A tag
 * that is not of the pattern (`1.4.2`, `latest`) names none, and is deployed image-only.
 *
 * @example commitOfTag('main-025838f', new RegExp(DEFAULT_TAG_PATTERN)) === '025838f'
 */
export function commitOfTag(tag: string, pattern: RegExp): string | undefined {
  const sha = pattern.exec(tag)?.groups?.sha;
  return sha && /^[0-9a-f]{4,64}$/i.test(sha) ? sha.toLowerCase() : undefined;
}
