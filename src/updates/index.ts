/**
 * updates — continuous updates: which new image tag a service moves to under its policy
 * (semver patch / minor / major or a glob; never a downgrade; pre-release rules), how far
 * behind its image is (pure, `tag-policy.ts`), and the registry watcher that records each new
 * allowed tag in SQL and starts a canary at it through the deployer, after an approval when the
 * service asks for one.
 */
export { updatesSettingsSchema } from './schema.js';
export { approveUpdate, getUpdate, listUpdates, type Update } from './update-rows.js';
export { createUpdateWatcher, type UpdateWatcher } from './update-watcher.js';
