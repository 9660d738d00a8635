import { redactCredentials } from '../git/index.js';
import { CadenceError } from '../problem/index.js';
import { parseImage } from '../registry/index.js';
import { listOperations, readServiceState, type DeployedRevision } from './deploy-rows.js';
import { untaggedImages } from './manifest-rewrite.js';
import type { DeployContext } from './operation-plan.js';

export interface ServiceSummary {
  name: string;
  namespace: string;
  repository: string;
  manifests: string;
  registry: string | null;
  canaryReplicas: number;
  stable: RevisionSummary | null;
  canary: RevisionSummary | null;
}

export interface RevisionSummary {
  version: string;
  commit: string;
  tag: string | null;
  at: string;
}

export interface ServiceVersions {
  service: string;
  stable: RevisionSummary | null;
  canary: RevisionSummary | null;
  /** The newest kept previous version (what a plain rollback returns to). */
  previous: RevisionSummary | null;
  /** Every kept previous version, newest first (`rollback --to` takes any of them). */
  previousVersions: RevisionSummary[];
}

export type ServiceDetail = ServiceSummary & {
  previous: RevisionSummary | null;
  previousVersions: RevisionSummary[];
  operations: unknown[];
};

export interface ServiceImageTags {
  service: string;
  images: { image: string; tags: string[] }[];
}

const summary = (revision: DeployedRevision | null): RevisionSummary | null =>
  revision && {
    version: revision.version,
    commit: revision.commit,
    tag: revision.tag ?? null,
    at: revision.at,
  };

const kept = (previous: DeployedRevision[]) => ({
  previous: summary(previous[0] ?? null),
  previousVersions: previous.map((revision) => summary(revision)!),
});

/** The read side of the deployer: what runs, what ran, and which image tags exist. */
export function createServiceSummaries(context: DeployContext) {
  const { store } = context;

  async function summarize(service: string): Promise<ServiceSummary> {
    const serviceConfig = context.config(service);
    const state = await readServiceState(store, service);
    return {
      name: service,
      namespace: serviceConfig.namespace,
      repository: redactCredentials(serviceConfig.repository),
      manifests: serviceConfig.manifests,
      registry: serviceConfig.registry?.url ?? null,
      canaryReplicas: serviceConfig.canaryReplicas,
      stable: summary(state.stable),
      canary: summary(state.canary),
    };
  }

  return {
    summarize,
    async show(service: string): Promise<ServiceDetail> {
      const base = await summarize(service);
      const state = await readServiceState(store, service);
      const operations = await listOperations(store, service);
      return {
        ...base,
        ...kept(state.previous),
        operations: operations.map((operation) => ({
          ...operation,
          startedAt: operation.startedAt.toISOString(),
          durationMs: operation.durationMs,
        })),
      };
    },
    async tags(service: string): Promise<ServiceImageTags> {
      const serviceConfig = context.config(service);
      const registry = context.registry(service);
      if (!registry) {
        throw new CadenceError('not-found', {
          field: 'registry',
          detail: `service ${service} has no registry configured`,
        });
      }
      const images =
        serviceConfig.images ??
        untaggedImages(await context.manifestsAt(service, await context.cache(service).head()));
      const listed = [];
      for (const image of images) {
        const reference = parseImage(image);
        const tags =
          reference.host === registry.host ? await registry.listTags(reference.path) : [];
        listed.push({ image, tags: tags.sort() });
      }
      return { service, images: listed };
    },
    async version(service: string): Promise<ServiceVersions> {
      context.config(service);
      const state = await readServiceState(store, service);
      return {
        service,
        stable: summary(state.stable),
        canary: summary(state.canary),
        ...kept(state.previous),
      };
    },
  };
}
