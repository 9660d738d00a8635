// Lint rules that keep src/'s modules apart: another module is reached only through its
// index.ts, and no import closes a cycle between modules. (eslint-plugin-import-x needs
// unrs-resolver's install script and native binaries; dependency-cruiser 18 needs Node 22, above
// this project's floor; both rules are small over module-graph.js.)
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTarget, moduleEdges, moduleOf, pathBetween } from './module-graph.js';

/** The src/ folder a linted file is in, if it is in one. */
function srcDirOf(file) {
  const at = file.lastIndexOf(`${sep}src${sep}`);
  return at < 0 ? undefined : file.slice(0, at + 4);
}

function importVisitor(context, check) {
  const file = context.filename;
  const srcDir = srcDirOf(file);
  const own = srcDir && moduleOf(srcDir, file);
  if (!own) return {};
  const visit = (node) => {
    const specifier = node.source?.value;
    if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
    const target = importTarget(srcDir, file, specifier);
    if (target && target.module !== own) check(node, { srcDir, own, target, specifier });
  };
  return { ImportDeclaration: visit, ExportNamedDeclaration: visit, ExportAllDeclaration: visit };
}

const throughIndex = {
  meta: {
    type: 'problem',
    docs: { description: 'Reach another module only through its index.ts (what it exports).' },
    messages: {
      inner: "Import '{{module}}' through '{{index}}', not its inner file '{{specifier}}'.",
    },
    schema: [],
  },
  create(context) {
    return importVisitor(context, (node, { target, specifier }) => {
      if (target.isIndex) return;
      const up = specifier.slice(0, specifier.lastIndexOf(`${target.module}/`));
      context.report({
        node: node.source,
        messageId: 'inner',
        data: { module: target.module, index: `${up}${target.module}/index.js`, specifier },
      });
    });
  },
};

// One graph per src/ folder and lint run: reading every file once, not once per file linted.
const graphs = new Map();

const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'No import may make a cycle between modules.' },
    messages: { cycle: 'Importing {{to}} makes a cycle between modules: {{path}}.' },
    schema: [],
  },
  create(context) {
    return importVisitor(context, (node, { srcDir, own, target }) => {
      if (!graphs.has(srcDir)) graphs.set(srcDir, moduleEdges(srcDir));
      const back = pathBetween(graphs.get(srcDir), target.module, own);
      if (back) {
        context.report({
          node: node.source,
          messageId: 'cycle',
          data: { to: target.module, path: [own, ...back].join(' → ') },
        });
      }
    });
  },
};

export const moduleBoundaries = {
  meta: { name: 'cadence-module-boundaries' },
  rules: { 'through-index': throughIndex, 'no-cycle': noCycle },
};

/** The repository's src/ folder, for scripts. */
export const repositorySrc = join(dirname(dirname(fileURLToPath(import.meta.url))), 'src');
