import type { Action } from '../auth/index.js';
import type { Logger } from '../log/index.js';
import type { CadenceError } from '../problem/index.js';
import type { RegistryClient } from '../registry/index.js';
import type { Store } from '../store/index.js';
import type { DeployedRevision, ServiceState } from './deploy-rows.js';
import type { Cluster } from './kube-cluster.js';
import type { ManifestCache } from './manifest-cache.js';
import type { Manifest, ObjectRef, Track } from './manifest-rewrite.js';
import type { DeployServiceSettings } from './schema.js';

/** The operations that change a cluster. */
export type DeployOperation = Extract<Action, 'deploy' | 'canary' | 'promote' | 'rollback'>;

/** A commit and/or a tag, as the API takes them. */
export interface DeployRef {
  commit?: string | undefined;
  tag?: string | undefined;
}

/** What an operation did, or why it did nothing: a value, never thrown. */
export type DeployResult =
  | {
      ok: true;
      operation: DeployOperation;
      service: string;
      operationId: number;
      version: string;
      commit: string;
      tag?: string | undefined;
      images: string[];
      applied: ObjectRef[];
      removed: ObjectRef[];
      durationMs: number;
    }
  | {
      ok: false;
      operation: DeployOperation;
      service: string;
      operationId: number;
      /** Where it stopped: before the cluster (nothing changed), or while applying. */
      step: 'validate' | 'apply';
      error: CadenceError;
      durationMs: number;
    };

/**
 * What every operation reads: the service's settings and its cached clone and registry client.
 * The one small interface the operation files (deploy, canary, promote/rollback) plan against.
 */
export interface DeployContext {
  readonly store: Store;
  readonly cluster: Cluster;
  readonly logger: Logger;
  /** The service's settings; a `not-found` naming `service` when it is not configured. */
  config(service: string): DeployServiceSettings;
  cache(service: string): ManifestCache;
  registry(service: string): RegistryClient | undefined;
  /** The parsed manifests of the service's folder at a commit. */
  manifestsAt(service: string, commit: string): Promise<Manifest[]>;
}

/**
 * What one operation will do, decided from the service's state before the cluster is touched:
 * a planner throws a CadenceError to refuse (nothing changed), else the change is dry-run,
 * applied and recorded by apply-manifests.ts.
 */
export interface OperationPlan {
  next: ServiceState;
  apply: Manifest[];
  remove: ObjectRef[];
  revision: DeployedRevision;
  track: Track;
  predicate: 'deployed' | 'upgraded' | 'rolledback';
  images: string[];
  /**
   * How the operation ends the canary that ran before it (promoted, removed, replaced), for
   * the analyses still judging that canary: they end cancelled with this reason.
   */
  endsCanary?: string | null | undefined;
}

export type OperationPlanner = (state: ServiceState) => Promise<OperationPlan>;
