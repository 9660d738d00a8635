/**
 * HTTPRoute rules at a canary weight (pure). The route's backendRefs to the service become
 * `<service>-stable` (weight 100 − w) and `<service>-canary` (weight w); with a header route, a
 * rule per weighted rule sends matching requests to the canary alone. Weight 0 is the route
 * without the canary. The functions read any earlier rewrite back, so applying one over another
 * (a restart, a second replica, a rollback after a step) converges to the same rules.
 */

export type JsonObject = Record<string, unknown>;

export interface BackendRef extends JsonObject {
  name: string;
  kind?: string;
  group?: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface RouteRule extends JsonObject {
  matches?: JsonObject[];
  backendRefs?: BackendRef[];
}

export interface HeaderRoute {
  name: string;
  value: string;
  type: 'Exact' | 'RegularExpression';
}

export interface TrafficNames {
  /** The Service the user's route named. */
  service: string;
  stable: string;
  canary: string;
}

export const trafficNames = (service: string): TrafficNames => ({
  service,
  stable: `${service}-stable`,
  canary: `${service}-canary`,
});

const isService = (ref: BackendRef) =>
  (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === '' && ref.namespace === undefined;

const names = (ref: BackendRef, name: string) => isService(ref) && ref.name === name;

/** A rule this module added for the header route: it sends to the canary alone. */
const isHeaderRule = (rule: RouteRule, n: TrafficNames) =>
  (rule.backendRefs ?? []).length > 0 &&
  (rule.backendRefs ?? []).every((ref) => names(ref, n.canary));

/** The rules without the canary: weight 0, every ref to the service through `-stable`. */
export function rulesWithoutCanary(rules: readonly RouteRule[], n: TrafficNames): RouteRule[] {
  return rules
    .filter((rule) => !isHeaderRule(rule, n))
    .map((rule) => {
      if (!rule.backendRefs) return rule;
      const refs = rule.backendRefs
        .filter((ref) => !names(ref, n.canary))
        .map((ref) => {
          if (!names(ref, n.service) && !names(ref, n.stable)) return ref;
          const rest: BackendRef = { ...ref, name: n.stable };
          delete rest.weight;
          return rest;
        });
      return { ...rule, backendRefs: refs };
    });
}

/** Whether the rules send anything to the service (else the route is not the service's). */
export function routesTo(rules: readonly RouteRule[], n: TrafficNames): boolean {
  return rules.some((rule) =>
    (rule.backendRefs ?? []).some(
      (ref) => names(ref, n.service) || names(ref, n.stable) || names(ref, n.canary),
    ),
  );
}

function withHeader(match: JsonObject, header: HeaderRoute): JsonObject {
  const headers = Array.isArray(match.headers) ? (match.headers as JsonObject[]) : [];
  return {
    ...match,
    headers: [...headers, { type: header.type, name: header.name, value: header.value }],
  };
}

/**
 * The rules with the canary at `weight` percent (0–100).
 *
 * @example weightedRules([{ backendRefs: [{ name: 'web', port: 80 }] }], trafficNames('web'), 5)
 * // → [{ backendRefs: [{ name: 'web-stable', port: 80, weight: 95 }, { name: 'web-canary', port: 80, weight: 5 }] }]
 */
export function weightedRules(
  rules: readonly RouteRule[],
  n: TrafficNames,
  weight: number,
  header?: HeaderRoute,
): RouteRule[] {
  const base = rulesWithoutCanary(rules, n);
  if (weight <= 0) return base;
  const result: RouteRule[] = [];
  for (const rule of base) {
    const stable = rule.backendRefs?.find((ref) => names(ref, n.stable));
    if (!stable) {
      result.push(rule);
      continue;
    }
    const canary: BackendRef = { ...stable, name: n.canary };
    if (header) {
      const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
      // Before the weighted rule: Gateway API gives the rule with more header matches precedence
      // anyway, and the order keeps the intent readable.
      result.push({
        ...rule,
        matches: matches.map((match) => withHeader(match, header)),
        backendRefs: [canary],
      });
    }
    result.push({
      ...rule,
      backendRefs: rule.backendRefs!.flatMap((ref) =>
        ref === stable
          ? [
              { ...stable, weight: 100 - weight },
              { ...canary, weight },
            ]
          : [ref],
      ),
    });
  }
  return result;
}

/** The canary's weight the rules give (0 without a canary ref), to report and to test. */
export function canaryWeight(rules: readonly RouteRule[], n: TrafficNames): number {
  for (const rule of rules) {
    if (isHeaderRule(rule, n)) continue;
    const canary = rule.backendRefs?.find((ref) => names(ref, n.canary));
    if (canary) return canary.weight ?? 1;
  }
  return 0;
}

/**
 * A track's Service: the user's Service (ports, selector) selecting one track only — the
 * user's own Service selects both tracks (the deployer strips `track` from it).
 */
export function trackService(
  live: JsonObject,
  name: string,
  track: 'stable' | 'canary',
  namespace: string,
): JsonObject {
  const spec = (live.spec ?? {}) as { ports?: JsonObject[]; selector?: Record<string, string> };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'cadence', track },
    },
    spec: {
      // A cluster IP service whatever the original was: only the route sends to it.
      ports: (spec.ports ?? []).map(({ nodePort: _nodePort, ...port }) => port),
      selector: { ...spec.selector, track },
    },
  };
}
