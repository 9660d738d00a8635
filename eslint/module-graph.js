// The module graph of src/: which module (first folder under src/) imports which. Read from the
// import and export-from statements' relative specifiers, so the lint rules, the architecture page
// and its test all see the same edges.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SPECIFIER = /(?:^|[\n;])\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** The relative specifiers a TypeScript source imports or re-exports from. */
export function relativeSpecifiers(text) {
  return [...text.matchAll(SPECIFIER)].map((match) => match[1]);
}

/** Where `specifier`, imported by `file`, lands under `srcDir`: its module and whether it is the index. */
export function importTarget(srcDir, file, specifier) {
  const target = relative(srcDir, resolve(dirname(file), specifier));
  if (target.startsWith('..')) return undefined;
  const parts = target.split(sep);
  return { module: parts[0], isIndex: parts.length === 2 && /^index\.[jt]s$/.test(parts[1]) };
}

/** The module a file under `srcDir` belongs to. */
export function moduleOf(srcDir, file) {
  const path = relative(srcDir, file);
  return path.startsWith('..') ? undefined : path.split(sep)[0];
}

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Module → the modules it imports, sorted, from every .ts file under `srcDir`. */
export function moduleEdges(srcDir) {
  const edges = new Map();
  for (const file of sources(srcDir)) {
    const from = moduleOf(srcDir, file);
    if (!edges.has(from)) edges.set(from, new Set());
    for (const specifier of relativeSpecifiers(readFileSync(file, 'utf8'))) {
      const to = importTarget(srcDir, file, specifier)?.module;
      if (to && to !== from) edges.get(from).add(to);
    }
  }
  return new Map([...edges].sort().map(([from, to]) => [from, [...to].sort()]));
}

/** A path of modules from `from` to `to` along `edges`, if there is one (breadth first). */
export function pathBetween(edges, from, to) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift();
    if (at === to) {
      const path = [];
      for (let step = to; step !== undefined; step = previous.get(step)) path.unshift(step);
      return path;
    }
    for (const next of edges.get(at) ?? []) {
      if (!previous.has(next)) {
        previous.set(next, at);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** The edges as the architecture page lists them: one line a module, `from → to, to`. */
export function edgeList(edges) {
  const width = Math.max(...[...edges.keys()].map((name) => name.length));
  return [...edges]
    .map(([from, to]) => `${from.padEnd(width)} → ${to.length > 0 ? to.join(', ') : '(nothing)'}\n`)
    .join('');
}

export const EDGES_START = '<!-- module-edges:start -->\n```\n';
export const EDGES_END = '```\n<!-- module-edges:end -->';
