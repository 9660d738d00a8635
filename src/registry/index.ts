/**
 * registry — what Cadence asks an OCI registry: the tags of a repository and whether a manifest
 * exists, over the distribution API with basic or bearer-token auth; how a commit finds its
 * image tag (`<branch>-<sha>`); and the one parser of image references (distribution/reference's
 * grammar: host, path, tag, digest) that the deployer, the registry calls and CDEvent purls share.
 */
export { createRegistryClient, type RegistryClient } from './registry-client.js';
export { tagForCommit } from './commit-tag.js';
export { parseImage, isUntagged } from './image-reference.js';
