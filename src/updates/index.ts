/**
 * updates — continuous updates: which new image tag a service moves to under its policy
 * (semver patch / minor / major or a glob; never a downgrade; pre-release rules), how far
 * behind its image is (pure, `tag-policy.ts`), and the registry watcher that records each new
 * allowed tag in SQL and starts a canary at it through the deployer, after an approval when the
 * service asks for one.
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
export {
  updatePolicySchema,
  updatesSettingsSchema,
  tagPolicyOf,
  type UpdatePolicySettings,
  type UpdatesSettings,
} from './schema.js';
export {
  approveUpdate,
  getUpdate,
  listUpdates,
  type Update,
  type UpdateState,
} from './update-rows.js';
export {
  createUpdateWatcher,
  UPDATE_ACTOR,
  type ServiceFreshness,
  type UpdateDeployer,
  type UpdateWatcher,
  type UpdateWatcherOptions,
} from './update-watcher.js';
