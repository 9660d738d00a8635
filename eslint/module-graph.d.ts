export function relativeSpecifiers(text: string): string[];
export function importTarget(
  srcDir: string,
  file: string,
  specifier: string,
): { module: string; isIndex: boolean } | undefined;
export function moduleOf(srcDir: string, file: string): string | undefined;
export function moduleEdges(srcDir: string): Map<string, string[]>;
export function pathBetween(
  edges: Map<string, string[]>,
  from: string,
  to: string,
): string[] | undefined;
export function edgeList(edges: Map<string, string[]>): string;
export const EDGES_START: string;
export const EDGES_END: string;
