import { createHash } from 'node:crypto';

/**
 * A deterministic UUID-shaped id for a CDEvent a transformer produces: the same input key gives
 * the same id, so a producer re-sending an event (or a re-run of the router) cannot create a
 * second CDEvent. Shaped like an RFC 9562 version 8 (custom) UUID.
 */
export function deterministicId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The CDEvents spec version Cadence emits. */
export const EMITTED_SPEC_VERSION = '0.5.1';

/**
 * A package URL (https://github.com/package-url/purl-spec, type `oci`) for a container image
 * reference such as `registry.example.com/team/web:1.4.2` or `web@sha256:…`.
 */
export function imageToPurl(image: string): string {
  let reference = image;
  let digest: string | undefined;
  const at = reference.indexOf('@');
  if (at >= 0) {
    digest = reference.slice(at + 1);
    reference = reference.slice(0, at);
  }
  let tag: string | undefined;
  const colon = reference.lastIndexOf(':');
  if (colon > reference.lastIndexOf('/')) {
    tag = reference.slice(colon + 1);
    reference = reference.slice(0, colon);
  }
  const name = reference.slice(reference.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers = new URLSearchParams({ repository_url: reference });
  if (tag && !digest) qualifiers.set('tag', tag);
  const version = digest ? `@${encodeURIComponent(digest)}` : '';
  return `pkg:oci/${encodeURIComponent(name)}${version}?${qualifiers.toString()}`;
}
