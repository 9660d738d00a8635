/**
 * Rewrites the module edge list in docs/architecture.md from the imports in src/ (the test in
 * test/architecture fails when the page and the code disagree).
 *   node --import tsx scripts/module-edges.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositorySrc } from '../eslint/module-boundaries.js';
import { EDGES_END, EDGES_START, edgeList, moduleEdges } from '../eslint/module-graph.js';

const page = join(repositorySrc, '../docs/architecture.md');
const text = readFileSync(page, 'utf8');
const start = text.indexOf(EDGES_START);
const end = text.indexOf(EDGES_END);
if (start < 0 || end < start) throw new Error(`${page}: no ${EDGES_START.trim()} … block`);
const edges = edgeList(moduleEdges(repositorySrc));
writeFileSync(page, text.slice(0, start + EDGES_START.length) + edges + text.slice(end));
process.stdout.write(edges);
