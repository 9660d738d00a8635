/**
 * What Cadence asks of the Kubernetes API, read from its source, and what a set of RBAC rules
 * grants: the manifests' and the Helm chart's tests compare the two, so a role never grants a
 * verb nobody calls and a new client call fails until its permission is granted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));

/** A permission as `group/resource:verb`, e.g. `apps/deployments:list` (`/services:patch`). */
export type Permission = string;

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface ResourceKind {
  apiGroup: string;
  resource: string;
}

/** The kinds the deployer applies in the shipped roles (a service's manifests hold these). */
export const DEPLOY_KINDS: ResourceKind[] = [
  { apiGroup: 'apps', resource: 'deployments' },
  { apiGroup: '', resource: 'services' },
  { apiGroup: '', resource: 'configmaps' },
  // Traffic steps: the weights of a service's Gateway API route.
  { apiGroup: 'gateway.networking.k8s.io', resource: 'httproutes' },
];

/**
 * Every @kubernetes/client-node call Cadence makes, and what it needs. `watch`: the rollout
 * watcher; `deploy`: the deployer. Server-side apply is a PATCH that Kubernetes authorizes as
 * `create` too when the object is new (kubernetes.io/docs/reference/using-api/api-concepts/
 * #patch-and-apply); only canary Deployments are ever deleted (canary-operation.ts, promote-rollback.ts: `state.canary.objects`), and only
 * Deployments are read (deploy-validation.ts: `withLiveSelectors`).
 */
export const CLIENT_CALLS: Record<
  string,
  { role: 'watch' | 'deploy'; needs: (kinds: ResourceKind[]) => Permission[] }
> = {
  'AppsV1Api.listNamespacedDeployment': { role: 'watch', needs: () => ['apps/deployments:list'] },
  'AppsV1Api.listDeploymentForAllNamespaces': {
    role: 'watch',
    needs: () => ['apps/deployments:list'],
  },
  // Reference-mode ApiServerSource events name a Deployment: Cadence reads it to see the rollout.
  'AppsV1Api.readNamespacedDeployment': { role: 'watch', needs: () => ['apps/deployments:get'] },
  makeInformer: { role: 'watch', needs: () => ['apps/deployments:list', 'apps/deployments:watch'] },
  'KubernetesObjectApi.patch': {
    role: 'deploy',
    needs: (kinds) =>
      kinds.flatMap((k) => [
        `${k.apiGroup}/${k.resource}:create`,
        `${k.apiGroup}/${k.resource}:patch`,
      ]),
  },
  // Canaries are removed: their Deployments and, with traffic steps, their `-canary` Service.
  'KubernetesObjectApi.delete': {
    role: 'deploy',
    needs: () => ['apps/deployments:delete', '/services:delete'],
  },
  // The deployer reads a live Deployment's selector (immutable) before rewriting it; traffic
  // steps read the service's Service (its ports and selector) and its HTTPRoute (the rules).
  'KubernetesObjectApi.read': {
    role: 'deploy',
    needs: () => [
      'apps/deployments:get',
      '/services:get',
      'gateway.networking.k8s.io/httproutes:get',
    ],
  },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/**
 * The client calls in src/, as `ApiClass.method` (or `makeInformer`): in every file importing
 * @kubernetes/client-node, the variables made by `makeApiClient` and the methods called on them.
 */
export function clientCallsInSource(): Set<string> {
  const calls = new Set<string>();
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes("from '@kubernetes/client-node'")) continue;
    const clients = new Map<string, string>();
    for (const m of text.matchAll(/(\w+)\s*=\s*(?:\w+\.)?makeApiClient\((\w+)\)/g))
      clients.set(m[1]!, m[2]!);
    for (const m of text.matchAll(/(\w+)\s*=\s*(\w+)\.makeApiClient\(/g))
      if (m[2] !== 'kubeConfig' && m[2] !== 'config') clients.set(m[1]!, m[2]!);
    for (const [variable, api] of clients)
      for (const m of text.matchAll(new RegExp(`\\b${variable}\\.(\\w+)\\(`, 'g')))
        calls.add(`${api}.${m[1]!}`);
    if (/\bmakeInformer\b\s*(<[^>]*>)?\(/.test(text)) calls.add('makeInformer');
  }
  return calls;
}

/** What a role needs: `watch` (the rollout watcher) and, when it deploys, `deploy` too. */
export function requiredPermissions(
  roles: ('watch' | 'deploy')[],
  kinds: ResourceKind[] = DEPLOY_KINDS,
): Set<Permission> {
  return new Set(
    [...clientCallsInSource()].flatMap((call) => {
      const known = CLIENT_CALLS[call];
      if (!known) throw new Error(`${call}: add it to CLIENT_CALLS with the permission it needs`);
      return roles.includes(known.role) ? known.needs(kinds) : [];
    }),
  );
}

/** Every `group/resource:verb` a list of rules grants (no wildcards expected: they fail). */
export function grantedPermissions(rules: Rule[]): Set<Permission> {
  const granted = new Set<Permission>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs) granted.add(`${group}/${resource}:${verb}`);
  return granted;
}

export const sorted = (set: Set<string>): string[] => [...set].sort();
