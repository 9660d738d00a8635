/** A container image reference split into its parts: `host:5000/team/web:1.2@sha256:…`. */
export interface ImageReference {
  /** Everything before the tag and digest: `localhost:5000/web`, `debian`. */
  repository: string;
  /** The registry host when the first path part names one (has a `.` or `:`, or is localhost). */
  host: string | undefined;
  /** The repository path inside its registry: `web`, `library/debian`. */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * Splits an image reference. The tag is what follows a `:` in the LAST path part, so a registry
 * port (`localhost:5000/web`) is not a tag.
 *
 * @example parseImage('localhost:5000/web').tag === undefined
 */
export function parseImage(image: string): ImageReference {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  // The Docker rule for "is the first part a registry host" (distribution/reference).
  const isHost =
    slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return {
    repository: rest,
    host: isHost ? first : undefined,
    path: isHost ? rest.slice(slash + 1) : rest,
    tag,
    digest,
  };
}

/** Whether the image names neither a tag nor a digest, so the deployer must give it one. */
export function isUntagged(image: string): boolean {
  const reference = parseImage(image);
  return reference.tag === undefined && reference.digest === undefined;
}
