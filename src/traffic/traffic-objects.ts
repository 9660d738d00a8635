import { CadenceError } from '../problem/index.js';
import {
  routesTo,
  trackService,
  trafficNames,
  weightedRules,
  type JsonObject,
  type RouteRule,
} from './http-route.js';
import type { TrafficStrategy } from './schema.js';

export const HTTP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';

export interface LiveRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/** How the objects are read from the cluster (the deployer's cluster). */
export type ReadLive = (ref: LiveRef) => Promise<JsonObject | undefined>;

/**
 * What to server-side apply so the canary gets `weight` percent of the route's requests: the
 * `-stable` Service, the `-canary` one (unless the weight is 0) and the HTTPRoute with its
 * rules rewritten (the rest of its spec as it is live). Refused, naming the config field, when
 * the Service or the route is missing or the route does not send to the Service.
 */
export async function trafficObjects(
  read: ReadLive,
  strategy: TrafficStrategy,
  service: string,
  namespace: string,
  weight: number,
): Promise<JsonObject[]> {
  const names = trafficNames(strategy.service ?? service);
  const live = await read({ apiVersion: 'v1', kind: 'Service', name: names.service, namespace });
  if (!live) {
    throw new CadenceError('conflict', {
      field: 'strategy.service',
      detail: `Service ${namespace}/${names.service} does not exist; deploy the service first`,
    });
  }
  const route = await read({
    apiVersion: HTTP_ROUTE_API_VERSION,
    kind: 'HTTPRoute',
    name: strategy.httpRoute,
    namespace,
  });
  if (!route) {
    throw new CadenceError('conflict', {
      field: 'strategy.httpRoute',
      detail: `HTTPRoute ${namespace}/${strategy.httpRoute} does not exist; create it (with a backendRef to Service ${names.service}) in your manifests or with kubectl`,
    });
  }
  const spec = (route.spec ?? {}) as JsonObject & { rules?: RouteRule[] };
  if (!routesTo(spec.rules ?? [], names)) {
    throw new CadenceError('conflict', {
      field: 'strategy.httpRoute',
      detail: `HTTPRoute ${namespace}/${strategy.httpRoute} has no backendRef to Service ${names.service}`,
    });
  }
  return [
    trackService(live, names.stable, 'stable', namespace),
    ...(weight > 0 ? [trackService(live, names.canary, 'canary', namespace)] : []),
    {
      apiVersion: HTTP_ROUTE_API_VERSION,
      kind: 'HTTPRoute',
      metadata: { name: strategy.httpRoute, namespace },
      spec: {
        ...spec,
        rules: weightedRules(spec.rules ?? [], names, weight, strategy.headerRoute),
      },
    },
  ];
}
