import { namedGroups, resourceKinds } from './resources.js';

/**
 * Just enough OpenAPI v3 for kubectl's field-validation check. Before `apply`/`create`, kubectl
 * (≥ 1.27) asks whether the server takes the `fieldValidation` query parameter for the object's
 * kind: it reads `/openapi/v3`, then the group-version's document, and looks for a PATCH
 * operation tagged `x-kubernetes-group-version-kind` whose path declares that parameter. When it
 * does, kubectl validates nothing itself and sends `fieldValidation=Strict`. A 404 there makes
 * kubectl refuse ("failed to download openapi") unless given `--validate=false`; so the server
 * answers with these documents, which declare no schemas.
 * https://github.com/kubernetes/kubernetes/blob/v1.32.0/staging/src/k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go
 */

const HASH = '0123456789ABCDEF';

function groupVersionPath(group: string): string {
  return group ? `apis/${group}/v1` : 'api/v1';
}

export function openapiRoot(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const group of ['', ...namedGroups]) {
    paths[groupVersionPath(group)] = {
      serverRelativeURL: `/openapi/v3/${groupVersionPath(group)}?hash=${HASH}`,
    };
  }
  return { paths };
}

/** The document of `api/v1` or `apis/apps/v1`, or undefined for any other path. */
export function openapiGroupVersion(path: string): Record<string, unknown> | undefined {
  const group =
    path === 'api/v1' ? '' : namedGroups.find((candidate) => path === `apis/${candidate}/v1`);
  if (group === undefined) return undefined;
  const paths: Record<string, unknown> = {};
  for (const kind of resourceKinds.filter((candidate) => candidate.group === group)) {
    const base = `/${groupVersionPath(group)}${kind.namespaced ? '/namespaces/{namespace}' : ''}/${kind.plural}/{name}`;
    // Query parameters are the operation's, path parameters the path's, as Kubernetes lays them out.
    paths[base] = {
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } },
        ...(kind.namespaced
          ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }]
          : []),
      ],
      patch: {
        operationId: `patch${kind.kind}`,
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
          name,
          in: 'query',
          schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
        })),
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group, version: 'v1', kind: kind.kind },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: { schemas: {} },
  };
}
