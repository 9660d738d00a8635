import { createHash } from 'node:crypto';
import type { DeliveryRules } from './delivery.js';

/** How DORA is configured: the default environment, attribution and the service catalogue. */
export interface DoraSettings {
  environment: string;
  attributionWindowHours: number;
  /**
   * Reports of one stream's rollout from different reporters at most this many seconds apart
   * are one deployment (a deployer applies, the watcher sees it finish). Default 3600.
   */
  identityWindowSeconds?: number | undefined;
  /** Service → team and repository, for team filters and for deployments without a repository. */
  services: Record<string, { team?: string | undefined; repository?: string | undefined }>;
  /**
   * Windows over every service with more deploy attempts than this read the daily rollups
   * (exact counts, quantiles within 1 %). Default 50,000 (metric-queries.ts).
   */
  exactLimit?: number | undefined;
}

export const defaultDoraSettings: DoraSettings = {
  environment: 'production',
  attributionWindowHours: 24,
  services: {},
};

export function rulesFrom(settings: DoraSettings): DeliveryRules {
  return {
    attributionWindowMs: settings.attributionWindowHours * 3600 * 1000,
    ...(settings.identityWindowSeconds === undefined
      ? {}
      : { sameDeploymentWindowMs: settings.identityWindowSeconds * 1000 }),
    repositoryOf: (service) => settings.services[service]?.repository,
  };
}

/** The configured service → repository pairs. */
export function configuredRepositories(
  settings: DoraSettings,
): { service: string; repository: string }[] {
  return Object.entries(settings.services).flatMap(([service, entry]) =>
    entry.repository ? [{ service, repository: entry.repository }] : [],
  );
}

/**
 * Bumped when the rules themselves change (2: one deployment per rollout, baselines, revisions
 * from image tags, same-named repositories; 3: revisions from builds of image digests), so
 * existing rows are recomputed once.
 */
const RULES_VERSION = 3;

/** A fingerprint of the settings that change the rules' results (not the team names). */
export function rulesDigest(settings: DoraSettings): string {
  const repositories = configuredRepositories(settings)
    .map(({ service, repository }) => `${service}=${repository}`)
    .sort();
  return createHash('sha256')
    .update(
      JSON.stringify([
        RULES_VERSION,
        settings.attributionWindowHours,
        repositories,
        settings.identityWindowSeconds ?? null,
      ]),
    )
    .digest('hex');
}
