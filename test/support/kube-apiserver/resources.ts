/**
 * The resource kinds the test API server serves, and the discovery documents kubectl and
 * @kubernetes/client-node read to find them (legacy shapes: kubectl 1.27+ asks for aggregated
 * discovery first and falls back to these when the response's Content-Type is plain JSON).
 */

/** The core group (''), apps, and the custom resources' groups (generic storage). */
export type ApiGroup = '' | 'apps' | 'gateway.networking.k8s.io';

export interface ResourceKind {
  group: ApiGroup;
  version: 'v1';
  /** Plural, as in the URL. */
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Whether a change of `spec` bumps `metadata.generation`. */
  hasGeneration: boolean;
  subresources: string[];
}

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const resourceKinds: readonly ResourceKind[] = [
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    hasGeneration: false,
    subresources: ['status'],
  },
  {
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    hasGeneration: false,
    subresources: ['status'],
  },
  {
    group: '',
    version: 'v1',
    plural: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    hasGeneration: false,
    subresources: ['status'],
  },
  {
    group: '',
    version: 'v1',
    plural: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    hasGeneration: false,
    subresources: [],
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    hasGeneration: true,
    subresources: ['status', 'scale'],
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    hasGeneration: true,
    subresources: ['status', 'scale'],
  },
  // A custom resource (Gateway API, standard channel): stored as given, no controller, no
  // schema; enough for Cadence's traffic steps, which server-side apply its backendRefs weights.
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    singular: 'httproute',
    kind: 'HTTPRoute',
    namespaced: true,
    shortNames: [],
    hasGeneration: true,
    subresources: ['status'],
  },
];

/** The named groups served under /apis, in discovery order. */
export const namedGroups = ['apps', 'gateway.networking.k8s.io'] as const;

export function apiVersionOf(kind: ResourceKind): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

/** `deployments.apps`, `pods`: how Kubernetes names a resource in error messages. */
export function qualifiedName(kind: ResourceKind): string {
  return kind.group ? `${kind.plural}.${kind.group}` : kind.plural;
}

export function findKind(group: string, plural: string): ResourceKind | undefined {
  return resourceKinds.find((kind) => kind.group === group && kind.plural === plural);
}

export function kindByName(apiVersion: string, kindName: string): ResourceKind | undefined {
  return resourceKinds.find((kind) => apiVersionOf(kind) === apiVersion && kind.kind === kindName);
}

/** `GET /api/v1` or `GET /apis/apps/v1`. */
export function resourceList(group: ApiGroup): Record<string, unknown> {
  const kinds = resourceKinds.filter((kind) => kind.group === group);
  const resources = kinds.flatMap((kind) => [
    {
      name: kind.plural,
      singularName: kind.singular,
      namespaced: kind.namespaced,
      kind: kind.kind,
      verbs: kind.plural === 'namespaces' ? verbs.filter((v) => v !== 'deletecollection') : verbs,
      shortNames: kind.shortNames,
      ...(kind.group === 'apps' ? { categories: ['all'] } : {}),
      ...(kind.kind === 'HTTPRoute' ? { categories: ['gateway-api'] } : {}),
      ...(['pods', 'services'].includes(kind.plural) ? { categories: ['all'] } : {}),
    },
    ...kind.subresources.map((sub) => ({
      name: `${kind.plural}/${sub}`,
      singularName: '',
      namespaced: kind.namespaced,
      ...(sub === 'scale'
        ? { group: 'autoscaling', version: 'v1', kind: 'Scale' }
        : { kind: kind.kind }),
      verbs: ['get', 'patch', 'update'],
    })),
  ]);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/v1` : 'v1',
    resources,
  };
}

export const versionInfo = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-cadence-test',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(name: string) {
  return {
    name,
    versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
    preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
  };
}

export const apiGroupList = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: namedGroups.map(apiGroup),
};

/** `GET /apis/<group>`, or undefined for a group not served. */
export function namedApiGroup(name: string): Record<string, unknown> | undefined {
  return (namedGroups as readonly string[]).includes(name)
    ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(name) }
    : undefined;
}
