/**
 * registry — what Cadence asks an OCI registry: the tags of a repository and whether a manifest
 * exists, over the distribution API with basic or bearer-token auth; and how a commit finds its
 * image tag (`<branch>-<sha>`).
 */
export {
  createRegistryClient,
  parseChallenge,
  type RegistryClient,
  type RegistryOptions,
} from './registry-client.js';
export { tagForCommit } from './commit-tag.js';
