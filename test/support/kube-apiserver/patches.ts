/**
 * The four PATCH types Kubernetes takes, and the field ownership server-side apply keeps.
 *
 * Strategic merge is approximated as a JSON merge patch in which lists of objects carrying a
 * merge key (`name`, ports by `containerPort` / `port`) are merged item by item, which is what
 * strategic merge does for the lists Cadence's manifests contain (containers, env, ports).
 * Field ownership is tracked as Kubernetes' fieldsV1 does, with one path per leaf field and per
 * keyed list item (`k:{"name":"web"}`); other lists are atomic (owned whole).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const clone = <T>(value: T): T => structuredClone(value);

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** The key a list's items are merged by, when every item is an object that has one. */
function mergeKeyOf(items: Json[]): string | undefined {
  for (const key of ['name', 'containerPort', 'port', 'mountPath', 'ip']) {
    if (items.length > 0 && items.every((item) => isObject(item) && item[key] !== undefined)) {
      return key;
    }
  }
  return undefined;
}

/** Strategic merge patch, approximated (see the header). */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (Array.isArray(patch)) {
    const key = mergeKeyOf(patch);
    if (!key || !Array.isArray(target) || (target.length > 0 && mergeKeyOf(target) !== key)) {
      return clone(patch);
    }
    const result = clone(target);
    for (const item of patch as JsonObject[]) {
      if (item.$patch === 'delete') {
        const at = result.findIndex((live) => (live as JsonObject)[key] === item[key]);
        if (at >= 0) result.splice(at, 1);
        continue;
      }
      const at = result.findIndex((live) => (live as JsonObject)[key] === item[key]);
      if (at >= 0) result[at] = strategicMergePatch(result[at]!, item);
      else result.push(clone(item));
    }
    return result;
  }
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key.startsWith('$setElementOrder')) continue;
    if (value === null) delete result[key];
    else result[key] = strategicMergePatch(result[key] ?? null, value);
  }
  return result;
}

export class JsonPatchError extends Error {}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(document: Json, tokens: string[]): { parent: Json; last: string } {
  let node: Json = document;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(token)]
      : isObject(node)
        ? node[token]
        : undefined;
    if (next === undefined) throw new JsonPatchError(`path /${tokens.join('/')} does not exist`);
    node = next;
  }
  return { parent: node, last: tokens[tokens.length - 1]! };
}

function getAt(document: Json, path: string): Json {
  let node: Json | undefined = document;
  for (const token of pointer(path)) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined) throw new JsonPatchError(`path ${path} does not exist`);
  }
  return node;
}

function removeAt(document: Json, path: string): Json {
  const { parent, last } = parentOf(document, pointer(path));
  if (Array.isArray(parent)) {
    const index = Number(last);
    if (!(index >= 0 && index < parent.length)) throw new JsonPatchError(`no item at ${path}`);
    return parent.splice(index, 1)[0]!;
  }
  if (!isObject(parent) || !(last in parent)) throw new JsonPatchError(`no value at ${path}`);
  const value = parent[last]!;
  delete parent[last];
  return value;
}

function addAt(document: Json, path: string, value: Json): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = parentOf(document, tokens);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!(index >= 0 && index <= parent.length)) throw new JsonPatchError(`bad index in ${path}`);
    parent.splice(index, 0, clone(value));
  } else if (isObject(parent)) {
    parent[last] = clone(value);
  } else {
    throw new JsonPatchError(`cannot add at ${path}`);
  }
  return document;
}

/** RFC 6902 JSON patch. */
export function jsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) throw new JsonPatchError('a JSON patch is a list of operations');
  let document = clone(target);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new JsonPatchError('each operation needs op and path');
    }
    const { op, path } = raw;
    switch (op) {
      case 'add':
        document = addAt(document, path, raw.value ?? null);
        break;
      case 'remove':
        removeAt(document, path);
        break;
      case 'replace':
        removeAt(document, path);
        document = addAt(document, path, raw.value ?? null);
        break;
      case 'move': {
        const value = removeAt(document, String(raw.from));
        document = addAt(document, path, value);
        break;
      }
      case 'copy':
        document = addAt(document, path, getAt(document, String(raw.from)));
        break;
      case 'test':
        if (!deepEqual(getAt(document, path), raw.value)) {
          throw new JsonPatchError(`test failed at ${path}`);
        }
        break;
      default:
        throw new JsonPatchError(`unknown operation ${op}`);
    }
  }
  return document;
}

// ---- server-side apply ----

/** One path per owned field, as a JSON array of fieldsV1 segments (`f:spec`, `k:{"name":"a"}`). */
export type FieldPath = string;

const segment = (key: string) => `f:${key}`;
const itemSegment = (key: string, value: Json) => `k:${JSON.stringify({ [key]: value })}`;

/** The fields an object sets, as the field manager would own them. */
export function fieldPaths(object: JsonObject): Set<FieldPath> {
  const paths = new Set<FieldPath>();
  const walk = (value: Json, at: string[]) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) walk(child, [...at, segment(key)]);
      return;
    }
    if (Array.isArray(value)) {
      const key = mergeKeyOf(value);
      if (key) {
        for (const item of value as JsonObject[]) {
          const itemAt = [...at, itemSegment(key, item[key]!)];
          paths.add(JSON.stringify([...itemAt, '.']));
          for (const [field, child] of Object.entries(item))
            walk(child, [...itemAt, segment(field)]);
        }
        return;
      }
    }
    paths.add(JSON.stringify(at));
  };
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'status') continue;
    if (key === 'metadata' && isObject(value)) {
      for (const part of ['labels', 'annotations'] as const) {
        if (isObject(value[part])) walk(value[part], [segment('metadata'), segment(part)]);
      }
      continue;
    }
    walk(value, [segment(key)]);
  }
  return paths;
}

function step(node: Json | undefined, part: string): Json | undefined {
  if (part === '.') return node;
  if (part.startsWith('f:')) return isObject(node) ? node[part.slice(2)] : undefined;
  const [key, value] = Object.entries(JSON.parse(part.slice(2)) as JsonObject)[0]!;
  return Array.isArray(node)
    ? node.find((item) => isObject(item) && deepEqual(item[key], value))
    : undefined;
}

/** The value at a field path, or undefined. */
export function valueAt(object: Json, path: FieldPath): Json | undefined {
  let node: Json | undefined = object;
  for (const part of JSON.parse(path) as string[]) node = step(node, part);
  return node;
}

/** Removes the field (or keyed list item) at a path, if present. */
export function removeField(object: JsonObject, path: FieldPath): void {
  const parts = (JSON.parse(path) as string[]).filter((part) => part !== '.');
  let node: Json | undefined = object;
  for (const part of parts.slice(0, -1)) node = step(node, part);
  const last = parts[parts.length - 1];
  if (last === undefined || node === undefined) return;
  if (last.startsWith('f:') && isObject(node)) delete node[last.slice(2)];
  else if (Array.isArray(node)) {
    const item = step(node, last);
    const at = node.indexOf(item as Json);
    if (at >= 0) node.splice(at, 1);
  }
}

/** Merges an applied configuration into the live object: objects and keyed lists merged. */
export function applyMerge(live: Json, applied: Json): Json {
  if (Array.isArray(applied)) {
    const key = mergeKeyOf(applied);
    if (!key || !Array.isArray(live)) return clone(applied);
    const result = clone(live);
    for (const item of applied as JsonObject[]) {
      const at = result.findIndex((entry) => isObject(entry) && deepEqual(entry[key], item[key]));
      if (at >= 0) result[at] = applyMerge(result[at]!, item);
      else result.push(clone(item));
    }
    return result;
  }
  if (!isObject(applied)) return clone(applied);
  const result: JsonObject = isObject(live) ? clone(live) : {};
  for (const [key, value] of Object.entries(applied)) {
    result[key] = applyMerge(result[key] ?? null, value);
  }
  return result;
}

/** Removes empty objects left behind when owned fields were taken away. */
export function pruneEmpty(object: JsonObject, keep: ReadonlySet<string> = new Set()): void {
  for (const [key, value] of Object.entries(object)) {
    if (isObject(value)) {
      pruneEmpty(value);
      if (Object.keys(value).length === 0 && !keep.has(key)) delete object[key];
    }
  }
}

/** A manager's entry, as `metadata.managedFields` shows it. */
export interface FieldManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  paths: Set<FieldPath>;
}

/** fieldsV1 of a set of paths: nested `{ "f:spec": { "f:replicas": {} } }`. */
export function fieldsV1(paths: Iterable<FieldPath>): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const part of JSON.parse(path) as string[]) {
      node[part] ??= {};
      node = node[part] as JsonObject;
    }
  }
  return root;
}

export interface ApplyConflict {
  manager: string;
  apiVersion: string;
  /** `.spec.replicas`, `.spec.template.spec.containers[name="web"].image`. */
  field: string;
}

/** A field path as kubectl prints it in conflict messages. */
export function describePath(path: FieldPath): string {
  return (JSON.parse(path) as string[])
    .filter((part) => part !== '.')
    .map((part) => {
      if (part.startsWith('f:')) return `.${part.slice(2)}`;
      const [key, value] = Object.entries(JSON.parse(part.slice(2)) as JsonObject)[0]!;
      return `[${key}=${JSON.stringify(value)}]`;
    })
    .join('');
}
