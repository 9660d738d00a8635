/**
 * updates — continuous updates: which new image tag a service moves to under its policy
 * (semver patch / minor / major or a glob; never a downgrade; pre-release rules), and how far
 * behind its image is. Pure functions: the registry client that lists tags and the watcher
 * that starts a canary live with the deployer (`registry`, `deploy`), not here.
 */
export {
  tagPolicySchema,
  tagVersion,
  updateCandidates,
  selectUpdate,
  freshness,
  type TagPolicy,
  type TagPolicyInput,
  type Freshness,
} from './tag-policy.js';
