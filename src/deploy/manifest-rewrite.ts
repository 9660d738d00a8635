import { parseAllDocuments } from 'yaml';
import { CadenceError } from '../problem/index.js';
import { isUntagged, parseImage } from '../registry/index.js';

/**
 * The rewrites the deployer makes to a service's manifests before applying them. Pure functions
 * over plain objects: the manifests are read, rewritten and applied as data, never as text.
 */

/** `baseline`: stable's version at the canary's size, started beside the canary (optional). */
export type Track = 'stable' | 'canary' | 'baseline';

/** One Kubernetes object as read from a manifest file. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
  [key: string]: unknown;
}

/** Label and env names the deployer writes. */
export const TRACK_LABEL = 'track';
export const VERSION_LABEL = 'version';
export const TRACK_ENV = 'CADENCE_TRACK';
export const VERSION_ENV = 'CADENCE_VERSION';
export const CANARY_SUFFIX = '-canary';
export const BASELINE_SUFFIX = '-baseline';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every object in a multi-document YAML file; empty documents are skipped. A document that is
 * not a Kubernetes object (no apiVersion, kind, metadata.name) is an error naming the file.
 */
export function parseManifests(text: string, file: string): Manifest[] {
  const manifests: Manifest[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    if (document.errors.length > 0) {
      throw new CadenceError('invalid-input', {
        field: 'manifests',
        detail: `${file}: document ${index + 1} is not valid YAML: ${document.errors[0]!.message}`,
      });
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    if (
      !isObject(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isObject(value.metadata) ||
      typeof value.metadata.name !== 'string'
    ) {
      throw new CadenceError('invalid-input', {
        field: 'manifests',
        detail: `${file}: document ${index + 1} is not a Kubernetes object (apiVersion, kind, metadata.name)`,
      });
    }
    manifests.push(value as Manifest);
  });
  return manifests;
}

const isDeployment = (manifest: Manifest) =>
  manifest.kind === 'Deployment' && manifest.apiVersion.startsWith('apps/');

/** Label values are at most 63 characters of `[A-Za-z0-9._-]`, starting and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned || 'unknown';
}

/** The containers of a pod spec (init containers too), so each gets its image and env. */
function containersOf(podSpec: Json): Json[] {
  return ['initContainers', 'containers'].flatMap((key) =>
    Array.isArray(podSpec[key]) ? (podSpec[key] as unknown[]).filter(isObject) : [],
  );
}

/** The untagged images (no tag, no digest) of the Deployments: the ones the deployer tags. */
export function untaggedImages(manifests: readonly Manifest[]): string[] {
  const images = new Set<string>();
  for (const manifest of manifests.filter(isDeployment)) {
    const podSpec = (manifest.spec as Json | undefined)?.template as Json | undefined;
    const spec = podSpec?.spec;
    if (!isObject(spec)) continue;
    for (const container of containersOf(spec)) {
      if (typeof container.image === 'string' && isUntagged(container.image)) {
        images.add(container.image);
      }
    }
  }
  return [...images].sort();
}

/** Every image the Deployments run once rewritten, tagged or not. */
export function deploymentImages(manifests: readonly Manifest[]): string[] {
  const images = new Set<string>();
  for (const manifest of manifests.filter(isDeployment)) {
    const spec = ((manifest.spec as Json | undefined)?.template as Json | undefined)?.spec;
    if (!isObject(spec)) continue;
    for (const container of containersOf(spec)) {
      if (typeof container.image === 'string') images.add(container.image);
    }
  }
  return [...images].sort();
}

export interface RewriteOptions {
  track: Track;
  /** The version deployed: a label value and the CADENCE_VERSION env. */
  version: string;
  /** The namespace objects without one are applied in. */
  namespace: string;
  /** The tag given to each untagged image, by image repository (`localhost:5000/web`). */
  imageTags: Readonly<Record<string, string>>;
  /** Replicas of a canary Deployment. */
  canaryReplicas: number;
}

function setEnv(container: Json, name: string, value: string): void {
  const env = Array.isArray(container.env) ? (container.env as unknown[]).filter(isObject) : [];
  container.env = [...env.filter((entry) => entry.name !== name), { name, value }];
}

function rewriteDeployment(source: Manifest, options: RewriteOptions): Manifest {
  const manifest = structuredClone(source);
  const version = labelValue(options.version);
  const { track } = options;
  if (track !== 'stable') {
    const suffix = track === 'canary' ? CANARY_SUFFIX : BASELINE_SUFFIX;
    manifest.metadata.name = `${manifest.metadata.name}${suffix}`;
  }
  manifest.metadata.labels = {
    ...manifest.metadata.labels,
    [TRACK_LABEL]: track,
    [VERSION_LABEL]: version,
  };
  const spec: Json = isObject(manifest.spec) ? manifest.spec : {};
  manifest.spec = spec;
  if (track !== 'stable') {
    spec.replicas = options.canaryReplicas;
    // The canary is a new Deployment, so it gets a selector of its own. Stable keeps the
    // manifest's (and, once live, the live one: see keepLiveSelectors): a Deployment's
    // selector is immutable, so adding `track` to it would mean delete and recreate, downtime.
    // Tracks live in the pod labels; stable's ReplicaSets select by pod-template-hash too.
    const selector: Json = isObject(spec.selector) ? spec.selector : {};
    spec.selector = selector;
    selector.matchLabels = {
      ...(isObject(selector.matchLabels) ? selector.matchLabels : {}),
      [TRACK_LABEL]: track,
    };
  }
  const template: Json = isObject(spec.template) ? spec.template : {};
  spec.template = template;
  const metadata: Json = isObject(template.metadata) ? template.metadata : {};
  template.metadata = metadata;
  metadata.labels = {
    ...(isObject(metadata.labels) ? metadata.labels : {}),
    [TRACK_LABEL]: track,
    [VERSION_LABEL]: version,
  };
  const podSpec = isObject(template.spec) ? template.spec : {};
  for (const container of containersOf(podSpec)) {
    if (typeof container.image === 'string' && isUntagged(container.image)) {
      const tag = options.imageTags[parseImage(container.image).repository];
      if (tag === undefined) {
        throw new CadenceError('invalid-input', {
          field: 'tag',
          detail: `no image tag known for ${container.image}`,
        });
      }
      container.image = `${container.image}:${tag}`;
    }
    setEnv(container, TRACK_ENV, track);
    setEnv(container, VERSION_ENV, options.version);
  }
  return manifest;
}

/** Services select both tracks, so a selector on the track or version is dropped. */
function rewriteService(source: Manifest): Manifest {
  const manifest = structuredClone(source);
  const spec = manifest.spec;
  if (isObject(spec) && isObject(spec.selector)) {
    const selector = { ...spec.selector };
    delete selector[TRACK_LABEL];
    delete selector[VERSION_LABEL];
    spec.selector = selector;
  }
  return manifest;
}

function withNamespace(manifest: Manifest, namespace: string): Manifest {
  if (manifest.metadata.namespace || manifest.kind === 'Namespace') return manifest;
  return { ...manifest, metadata: { ...manifest.metadata, namespace } };
}

/**
 * The objects to apply for one track. Stable: every manifest, Deployments labelled
 * `track=stable` with the version, Services selecting both tracks. Canary: only the Deployments,
 * copied with a `-canary` name, the canary replica count and `track=canary`. Baseline: the same
with `-baseline` and `track=baseline` (stable's version, judged against the canary).
 *
 * @example rewriteManifests(manifests, { track: 'canary', version: 'main-025838f', … })
 */
export function rewriteManifests(
  manifests: readonly Manifest[],
  options: RewriteOptions,
): Manifest[] {
  const selected = options.track !== 'stable' ? manifests.filter(isDeployment) : [...manifests];
  return selected.map((manifest) => {
    const rewritten = isDeployment(manifest)
      ? rewriteDeployment(manifest, options)
      : manifest.kind === 'Service' && manifest.apiVersion === 'v1'
        ? rewriteService(manifest)
        : structuredClone(manifest);
    return withNamespace(rewritten, options.namespace);
  });
}

/**
 * Each Deployment that already runs keeps the selector it runs with (immutable in Kubernetes):
 * a Deployment created with kubectl (`selector: {app: web}`) or by an earlier Cadence (with
 * `track` in it) is updated in place, never recreated. `live` is the live selector by
 * `namespace/name`; Deployments not in it keep the rewrite's.
 */
export function keepLiveSelectors(
  objects: readonly Manifest[],
  live: ReadonlyMap<string, unknown>,
): Manifest[] {
  return objects.map((object) => {
    const selector = live.get(`${object.metadata.namespace ?? ''}/${object.metadata.name}`);
    if (!isDeployment(object) || !isObject(selector) || !isObject(object.spec)) return object;
    return { ...object, spec: { ...object.spec, selector: structuredClone(selector) } };
  });
}

/** An object's identity, the way the cluster knows it. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export function objectRef(manifest: Manifest): ObjectRef {
  return {
    apiVersion: manifest.apiVersion,
    kind: manifest.kind,
    namespace: manifest.metadata.namespace ?? '',
    name: manifest.metadata.name,
  };
}
