import picomatch from 'picomatch';
import { CadenceError } from '../problem/index.js';

/** One line of the routing table (config `routes:`). */
export interface Route {
  /** CloudEvent type, exact or a glob (`dev.knative.apiserver.resource.*`, `{a,b}`). */
  type: string;
  /** Optional CloudEvent source, exact or glob. */
  source?: string | undefined;
  /** Transformers to run, in order; one event may feed several. */
  transformers: string[];
}

export interface RoutingTable {
  /** The transformer names that apply to an event, each once, in table order. */
  match(event: { type: string; source: string }): string[];
}

// `*` matches any run of characters, dots and slashes included: types are dotted and sources
// are URIs, and one simple rule for both is easier to predict than path-segment globbing.
const globOptions = { dot: true, nonegate: true } as const;

function compileGlob(pattern: string): (value: string) => boolean {
  // Slashes would split a picomatch glob into segments that `*` cannot cross; escape them away.
  const matcher = picomatch(pattern.replaceAll('/', '\u0001'), globOptions);
  return (value) => matcher(value.replaceAll('/', '\u0001'));
}

/**
 * Compiles the routing table, refusing a route that names a transformer that does not exist
 * (a config error at start-up, never a silent drop at run time).
 */
export function compileRoutingTable(
  routes: Route[],
  knownTransformers: Iterable<string>,
): RoutingTable {
  const known = new Set(knownTransformers);
  const compiled = routes.map((route, index) => {
    for (const name of route.transformers) {
      if (!known.has(name)) {
        throw new CadenceError('config-invalid', {
          field: `routes[${index}].transformers`,
          detail: `unknown transformer ${JSON.stringify(name)}; known: ${[...known].sort().join(', ')}`,
        });
      }
    }
    return {
      type: compileGlob(route.type),
      source: route.source === undefined ? undefined : compileGlob(route.source),
      transformers: route.transformers,
    };
  });
  return {
    match(event) {
      const names = new Set<string>();
      for (const route of compiled) {
        if (!route.type(event.type)) continue;
        if (route.source && !route.source(event.source)) continue;
        for (const name of route.transformers) names.add(name);
      }
      return [...names];
    },
  };
}
