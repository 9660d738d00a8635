/**
 * The image tag built from a commit, by the `<branch>-<sha>` convention: `main-025838f` or
 * `feature-x-025838f…` (short or full sha). A tag matches when its sha part is a prefix of the
 * commit's full sha, at least 7 hex digits. Several matches (two branches): the longest sha wins,
 * then the first by name, so the answer is stable.
 *
 * @example tagForCommit(['main-025838f', 'v1'], '025838f9…') === 'main-025838f'
 */
export function tagForCommit(tags: readonly string[], commit: string): string | undefined {
  const sha = commit.toLowerCase();
  const matches = tags.flatMap((tag) => {
    const match = /^(.+)-([0-9a-f]{7,64})$/.exec(tag);
    return match && sha.startsWith(match[2]!) ? [{ tag, length: match[2]!.length }] : [];
  });
  matches.sort((a, b) => b.length - a.length || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return matches[0]?.tag;
}
