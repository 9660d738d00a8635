import { createHash, randomUUID } from 'node:crypto';
import {
  applyMerge,
  clone,
  deepEqual,
  describePath,
  fieldPaths,
  fieldsV1,
  isObject,
  pruneEmpty,
  removeField,
  valueAt,
  type ApplyConflict,
  type FieldManagerEntry,
  type JsonObject,
} from './patches.js';
import {
  apiVersionOf,
  qualifiedName,
  resourceKinds,
  type ApiGroup,
  type ResourceKind,
} from './resources.js';

/**
 * The objects of the test API server: one global resourceVersion counter, a history of changes
 * that watches replay from (compactable, so an old resourceVersion gets 410 Gone), field
 * ownership for server-side apply, defaults and the validation Cadence's manifests meet.
 */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

/** An error answered as a Kubernetes `Status`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  status(): JsonObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details as JsonObject,
      code: this.code,
    };
  }
}

export function notFound(kind: ResourceKind, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(kind)} "${name}" not found`, {
    name,
    ...(kind.group ? { group: kind.group } : {}),
    kind: kind.plural,
  });
}

function invalid(kind: ResourceKind, name: string, causes: StatusCause[]): ApiError {
  const reasons = causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ');
  return new ApiError(422, 'Invalid', `${kind.kind} "${name}" is invalid: ${reasons}`, {
    name,
    ...(kind.group ? { group: kind.group } : {}),
    kind: kind.kind,
    causes: causes.map((cause) => ({ reason: cause.reason ?? 'FieldValueInvalid', ...cause })),
  });
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  resourceVersion: number;
  kind: ResourceKind;
  type: WatchEventType;
  object: JsonObject;
}

export interface Selectors {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`); throws a 400 when malformed. */
export function parseLabelSelector(selector: string): Requirement[] {
  const requirements: Requirement[] = [];
  const parts = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  const label = /^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/;
  const bad = (part: string) =>
    new ApiError(400, 'BadRequest', `unable to parse requirement: ${JSON.stringify(part)}`);
  for (const raw of parts) {
    const part = raw.trim().replace(/^,/, '').trim();
    if (part === '') continue;
    let match: RegExpExecArray | null;
    if ((match = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      const [, key, op, list] = match;
      if (!label.test(key!)) throw bad(part);
      const values = list!.split(',').map((value) => value.trim());
      requirements.push((labels) =>
        op === 'in'
          ? labels[key!] !== undefined && values.includes(labels[key!]!)
          : labels[key!] === undefined || !values.includes(labels[key!]!),
      );
    } else if ((match = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(part))) {
      const [, key, op, value] = match;
      if (!label.test(key!) || (value !== '' && !label.test(value!))) throw bad(part);
      requirements.push((labels) =>
        op === '!=' ? labels[key!] !== value : labels[key!] === value,
      );
    } else if ((match = /^!\s*(\S+)$/.exec(part))) {
      const key = match[1]!;
      if (!label.test(key)) throw bad(part);
      requirements.push((labels) => labels[key] === undefined);
    } else if (label.test(part)) {
      requirements.push((labels) => labels[part] !== undefined);
    } else {
      throw bad(part);
    }
  }
  return requirements;
}

function fieldFilter(selector: string): (object: JsonObject) => boolean {
  const tests = selector
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const match = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
      if (!match) throw new ApiError(400, 'BadRequest', `invalid field selector: ${part}`);
      const [, field, op, value] = match;
      if (field !== 'metadata.name' && field !== 'metadata.namespace') {
        throw new ApiError(400, 'BadRequest', `field label not supported: ${field ?? ''}`);
      }
      const key = field.slice('metadata.'.length);
      return (object: JsonObject) => {
        const actual = (object.metadata as JsonObject)[key];
        return op === '!=' ? actual !== value : actual === value;
      };
    });
  return (object) => tests.every((test) => test(object));
}

/** A predicate for list and watch: label and field selectors together. */
export function selectorFilter(selectors: Selectors): (object: JsonObject) => boolean {
  const labels = selectors.labelSelector ? parseLabelSelector(selectors.labelSelector) : [];
  const fields = selectors.fieldSelector ? fieldFilter(selectors.fieldSelector) : () => true;
  return (object) => {
    const objectLabels = ((object.metadata as JsonObject).labels ?? {}) as Record<string, string>;
    return labels.every((requirement) => requirement(objectLabels)) && fields(object);
  };
}

export interface WriteOptions {
  dryRun?: boolean;
  /** The field manager: `fieldManager`, else the client's name from its User-Agent. */
  manager: string;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function metadataOf(object: JsonObject): JsonObject {
  if (!isObject(object.metadata)) object.metadata = {};
  return object.metadata as JsonObject;
}

function imagePullPolicy(image: string): string {
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  return !lastPart.includes(':') || lastPart.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

function defaultPodSpec(spec: JsonObject): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const container of (spec.containers as JsonObject[] | undefined) ?? []) {
    if (typeof container.image === 'string') {
      container.imagePullPolicy ??= imagePullPolicy(container.image);
    }
    container.terminationMessagePath ??= '/dev/termination-log';
    container.terminationMessagePolicy ??= 'File';
    container.resources ??= {};
  }
}

export class ObjectStore {
  private revision = 1000;
  private readonly objects = new Map<string, JsonObject>();
  private readonly managers = new Map<string, FieldManagerEntry[]>();
  private history: Change[] = [];
  /** Changes at or below this resourceVersion are no longer replayable (410 Gone). */
  private compactedTo = 0;
  private readonly listeners = new Set<(change: Change) => void>();
  private serviceIps = 0;

  constructor() {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      this.create(
        this.kind('', 'namespaces'),
        undefined,
        { metadata: { name } },
        { manager: 'kube-apiserver' },
      );
    }
  }

  kind(group: ApiGroup, plural: string): ResourceKind {
    return resourceKinds.find((kind) => kind.group === group && kind.plural === plural)!;
  }

  get resourceVersion(): number {
    return this.revision;
  }

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes after `resourceVersion`, or undefined when that resourceVersion was compacted. */
  changesSince(resourceVersion: number): Change[] | undefined {
    if (resourceVersion < this.compactedTo) return undefined;
    return this.history.filter((change) => change.resourceVersion > resourceVersion);
  }

  /** Forgets the history: a watch from any earlier resourceVersion now gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedTo = this.revision;
  }

  private key(kind: ResourceKind, namespace: string | undefined, name: string): string {
    return `${kind.group}/${kind.plural}/${kind.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  /** The live object with its managedFields, or a 404. */
  get(kind: ResourceKind, namespace: string | undefined, name: string): JsonObject {
    const found = this.objects.get(this.key(kind, namespace, name));
    if (!found) throw notFound(kind, name);
    return clone(found);
  }

  find(kind: ResourceKind, namespace: string | undefined, name: string): JsonObject | undefined {
    const found = this.objects.get(this.key(kind, namespace, name));
    return found ? clone(found) : undefined;
  }

  list(kind: ResourceKind, namespace: string | undefined, selectors: Selectors = {}): JsonObject[] {
    const matches = selectorFilter(selectors);
    const prefix = `${kind.group}/${kind.plural}/${kind.namespaced && namespace ? `${namespace}/` : ''}`;
    return [...this.objects.entries()]
      .filter(([key, object]) => key.startsWith(prefix) && matches(object))
      .map(([, object]) => clone(object))
      .sort((a, b) =>
        `${(a.metadata as JsonObject).namespace ?? ''}/${(a.metadata as JsonObject).name}`.localeCompare(
          `${(b.metadata as JsonObject).namespace ?? ''}/${(b.metadata as JsonObject).name}`,
        ),
      );
  }

  private record(kind: ResourceKind, type: WatchEventType, object: JsonObject): void {
    const change = { resourceVersion: this.revision, kind, type, object: clone(object) };
    this.history.push(change);
    if (this.history.length > 10_000) this.history.shift();
    for (const listener of this.listeners) listener(change);
  }

  private requireNamespace(kind: ResourceKind, namespace: string | undefined): void {
    if (!kind.namespaced) return;
    if (
      !namespace ||
      !this.objects.has(this.key(this.kind('', 'namespaces'), undefined, namespace))
    ) {
      throw notFound(this.kind('', 'namespaces'), namespace ?? '');
    }
  }

  /** Defaults and validation, the parts of admission Cadence's objects meet. */
  private admit(kind: ResourceKind, object: JsonObject, previous: JsonObject | undefined): void {
    const metadata = metadataOf(object);
    const name = String(metadata.name ?? '');
    const causes: StatusCause[] = [];
    if (!name) {
      causes.push({
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      });
    } else if (!dnsSubdomain.test(name) || name.length > 253) {
      causes.push({
        field: 'metadata.name',
        message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
      });
    }
    const spec = isObject(object.spec) ? object.spec : undefined;
    if (kind.kind === 'Deployment' || kind.kind === 'ReplicaSet') {
      if (!spec) {
        causes.push({ reason: 'FieldValueRequired', field: 'spec', message: 'Required value' });
      } else {
        const matchLabels = (isObject(spec.selector) ? spec.selector.matchLabels : undefined) as
          Record<string, string> | undefined;
        const template = isObject(spec.template) ? spec.template : {};
        const templateLabels = ((template.metadata as JsonObject | undefined)?.labels ??
          {}) as Record<string, string>;
        if (!matchLabels || Object.keys(matchLabels).length === 0) {
          causes.push({
            reason: 'FieldValueRequired',
            field: 'spec.selector',
            message: 'Required value',
          });
        } else if (
          !Object.entries(matchLabels).every(([key, value]) => templateLabels[key] === value)
        ) {
          causes.push({
            field: 'spec.template.metadata.labels',
            message: `Invalid value: ${JSON.stringify(templateLabels)}: \`selector\` does not match template \`labels\``,
          });
        }
        if (previous && !deepEqual((previous.spec as JsonObject).selector, spec.selector)) {
          causes.push({ field: 'spec.selector', message: 'Invalid value: field is immutable' });
        }
        const podSpec = isObject(template.spec) ? template.spec : {};
        const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
        if (containers.length === 0) {
          causes.push({
            reason: 'FieldValueRequired',
            field: 'spec.template.spec.containers',
            message: 'Required value',
          });
        }
        containers.forEach((container, index) => {
          if (!isObject(container) || typeof container.image !== 'string' || !container.image) {
            causes.push({
              reason: 'FieldValueRequired',
              field: `spec.template.spec.containers[${index}].image`,
              message: 'Required value',
            });
          }
        });
        spec.replicas ??= 1;
        spec.revisionHistoryLimit ??= 10;
        if (kind.kind === 'Deployment') {
          spec.progressDeadlineSeconds ??= 600;
          spec.strategy ??= {
            type: 'RollingUpdate',
            rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
          };
        }
        if (isObject(template.spec)) defaultPodSpec(template.spec);
      }
    }
    if (kind.kind === 'Service') {
      const ports = spec && Array.isArray(spec.ports) ? spec.ports : [];
      if (!spec || ports.length === 0) {
        causes.push({
          reason: 'FieldValueRequired',
          field: 'spec.ports',
          message: 'Required value',
        });
      } else {
        spec.type ??= 'ClusterIP';
        spec.sessionAffinity ??= 'None';
        const previousIp = (previous?.spec as JsonObject | undefined)?.clusterIP;
        spec.clusterIP ??=
          previousIp ??
          `10.96.${Math.floor(++this.serviceIps / 250)}.${(this.serviceIps % 250) + 1}`;
        spec.clusterIPs ??= [spec.clusterIP];
        for (const port of ports) {
          if (isObject(port)) {
            port.protocol ??= 'TCP';
            port.targetPort ??= port.port ?? null;
          }
        }
      }
    }
    if (kind.kind === 'Pod') {
      if (spec) defaultPodSpec(spec);
    }
    if (kind.kind === 'Namespace') {
      object.spec ??= { finalizers: ['kubernetes'] };
      object.status ??= { phase: 'Active' };
      metadata.labels = {
        ...((metadata.labels as JsonObject | undefined) ?? {}),
        'kubernetes.io/metadata.name': name,
      };
    }
    if (causes.length > 0) throw invalid(kind, name, causes);
  }

  private renderManagedFields(uid: string, object: JsonObject): void {
    const entries = this.managers.get(uid) ?? [];
    metadataOf(object).managedFields = entries
      .filter((entry) => entry.paths.size > 0)
      .map((entry) => ({
        manager: entry.manager,
        operation: entry.operation,
        apiVersion: entry.apiVersion,
        time: entry.time,
        fieldsType: 'FieldsV1',
        fieldsV1: fieldsV1(entry.paths),
      }));
  }

  /** Stores a new object (POST, or server-side apply of a missing one). */
  create(
    kind: ResourceKind,
    namespace: string | undefined,
    body: JsonObject,
    options: WriteOptions & { operation?: 'Apply' | 'Update' },
  ): JsonObject {
    const object = clone(body);
    const metadata = metadataOf(object);
    if (!metadata.name && typeof metadata.generateName === 'string') {
      metadata.name = `${metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    if (kind.namespaced) metadata.namespace ??= namespace ?? 'default';
    if (kind.namespaced && namespace && metadata.namespace !== namespace) {
      throw new ApiError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    this.requireNamespace(kind, metadata.namespace as string | undefined);
    object.apiVersion = apiVersionOf(kind);
    object.kind = kind.kind;
    this.admit(kind, object, undefined);
    const name = String(metadata.name);
    const key = this.key(kind, metadata.namespace as string | undefined, name);
    if (this.objects.has(key)) {
      throw new ApiError(409, 'AlreadyExists', `${qualifiedName(kind)} "${name}" already exists`, {
        name,
        ...(kind.group ? { group: kind.group } : {}),
        kind: kind.plural,
      });
    }
    const uid = randomUUID();
    metadata.uid = uid;
    metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (kind.hasGeneration) metadata.generation = 1;
    delete metadata.resourceVersion;
    if (options.dryRun) {
      metadata.resourceVersion = String(this.revision);
      return object;
    }
    const paths = fieldPaths(body);
    this.managers.set(uid, [
      {
        manager: options.manager,
        operation: options.operation ?? 'Update',
        apiVersion: apiVersionOf(kind),
        time: metadata.creationTimestamp as string,
        paths,
      },
    ]);
    this.renderManagedFields(uid, object);
    metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, object);
    this.record(kind, 'ADDED', object);
    return clone(object);
  }

  /**
   * Replaces an object's content (PUT, the patch types, status writes). A `metadata.resourceVersion`
   * in the body must match the live one (optimistic concurrency), as in Kubernetes.
   */
  update(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    body: JsonObject,
    options: WriteOptions & { subresource?: 'status' | undefined; managedPaths?: Set<string> },
  ): JsonObject {
    const live = this.get(kind, namespace, name);
    const liveMetadata = live.metadata as JsonObject;
    const next = clone(body);
    const metadata = metadataOf(next);
    if (metadata.name !== undefined && metadata.name !== name) {
      throw new ApiError(
        400,
        'BadRequest',
        'the name of the object does not match the name on the URL',
      );
    }
    if (
      metadata.resourceVersion !== undefined &&
      metadata.resourceVersion !== '' &&
      metadata.resourceVersion !== liveMetadata.resourceVersion
    ) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedName(kind)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, ...(kind.group ? { group: kind.group } : {}), kind: kind.plural },
      );
    }
    if (options.subresource === 'status') {
      // A status write changes only status; a main-resource write never changes status.
      const status = next.status;
      Object.assign(next, clone(live));
      next.status = status ?? null;
    } else if (live.status !== undefined) {
      next.status = live.status;
    }
    for (const field of ['uid', 'creationTimestamp', 'namespace', 'generation'] as const) {
      if (liveMetadata[field] !== undefined) metadataOf(next)[field] = liveMetadata[field]!;
    }
    metadataOf(next).name = name;
    next.apiVersion = apiVersionOf(kind);
    next.kind = kind.kind;
    this.admit(kind, next, live);
    const uid = String(liveMetadata.uid);
    const nextMetadata = metadataOf(next);
    if (kind.hasGeneration && !deepEqual(live.spec, next.spec)) {
      nextMetadata.generation = Number(liveMetadata.generation ?? 0) + 1;
    }
    const comparable = (object: JsonObject) => {
      const copy = clone(object);
      delete metadataOf(copy).managedFields;
      return copy;
    };
    const entries = (this.managers.get(uid) ?? []).map((entry) => ({
      ...entry,
      paths: new Set(entry.paths),
    }));
    if (options.subresource !== 'status') {
      const before = fieldPaths(live);
      const after = fieldPaths(next);
      const changed = options.managedPaths
        ? [...options.managedPaths]
        : [...after].filter(
            (path) => !before.has(path) || !deepEqual(valueAt(live, path), valueAt(next, path)),
          );
      const gone = [...before].filter((path) => !after.has(path));
      if (!options.managedPaths && (changed.length > 0 || gone.length > 0)) {
        for (const entry of entries) {
          for (const path of [...changed, ...gone]) entry.paths.delete(path);
        }
        let own = entries.find(
          (entry) => entry.manager === options.manager && entry.operation === 'Update',
        );
        if (!own) {
          own = {
            manager: options.manager,
            operation: 'Update',
            apiVersion: apiVersionOf(kind),
            time: '',
            paths: new Set(),
          };
          entries.push(own);
        }
        for (const path of changed) own.paths.add(path);
        own.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      }
    }
    if (options.dryRun) {
      nextMetadata.resourceVersion = liveMetadata.resourceVersion!;
      return deepEqual(comparable(live), comparable(next)) ? live : next;
    }
    this.managers.set(uid, entries);
    this.renderManagedFields(uid, next);
    nextMetadata.resourceVersion = liveMetadata.resourceVersion!;
    // A write that changes nothing does not bump resourceVersion, as in Kubernetes.
    if (deepEqual(live, next)) return live;
    nextMetadata.resourceVersion = String(++this.revision);
    this.objects.set(this.key(kind, namespace, name), next);
    this.record(kind, 'MODIFIED', next);
    return clone(next);
  }

  /** Server-side apply (`application/apply-patch+yaml`). */
  apply(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    applied: JsonObject,
    options: WriteOptions & { force: boolean },
  ): JsonObject {
    const metadata = metadataOf(applied);
    if (metadata.name !== undefined && metadata.name !== name) {
      throw new ApiError(
        400,
        'BadRequest',
        'the name of the object does not match the name on the URL',
      );
    }
    if (applied.apiVersion !== apiVersionOf(kind) || applied.kind !== kind.kind) {
      throw new ApiError(
        400,
        'BadRequest',
        `the apiVersion and kind of the applied object must be ${apiVersionOf(kind)} ${kind.kind}`,
      );
    }
    const paths = fieldPaths(applied);
    const live = this.find(kind, namespace, name);
    if (!live) {
      return this.create(
        kind,
        namespace,
        { ...applied, metadata: { ...metadata, name } },
        {
          ...options,
          operation: 'Apply',
        },
      );
    }
    const uid = String((live.metadata as JsonObject).uid);
    const entries = (this.managers.get(uid) ?? []).map((entry) => ({
      ...entry,
      paths: new Set(entry.paths),
    }));
    const conflicts: ApplyConflict[] = [];
    for (const entry of entries) {
      if (entry.manager === options.manager && entry.operation === 'Apply') continue;
      for (const path of paths) {
        // A keyed list item's own node (`.`) records that it exists; only its fields conflict.
        if (path.endsWith(',"."]')) continue;
        if (entry.paths.has(path) && !deepEqual(valueAt(live, path), valueAt(applied, path))) {
          if (options.force) entry.paths.delete(path);
          else
            conflicts.push({
              manager: entry.manager,
              apiVersion: entry.apiVersion,
              field: describePath(path),
            });
        }
      }
    }
    if (conflicts.length > 0) {
      const summary = conflicts
        .map((conflict) => `conflict with "${conflict.manager}": ${conflict.field}`)
        .join('\n- ');
      throw new ApiError(
        409,
        'Conflict',
        conflicts.length === 1
          ? `Apply failed with 1 conflict: ${summary}`
          : `Apply failed with ${conflicts.length} conflicts: ${summary}`,
        {
          causes: conflicts.map((conflict) => ({
            reason: 'FieldManagerConflict',
            message: `conflict with "${conflict.manager}" using ${conflict.apiVersion}`,
            field: conflict.field,
          })),
        },
      );
    }
    let own = entries.find(
      (entry) => entry.manager === options.manager && entry.operation === 'Apply',
    );
    const previous = own?.paths ?? new Set<string>();
    const next = clone(live) as JsonObject;
    const ownedByOthers = new Set(
      entries.filter((entry) => entry !== own).flatMap((entry) => [...entry.paths]),
    );
    // Fields this manager applied before and dropped now are removed, unless someone else owns them.
    const dropped = [...previous].filter((path) => !paths.has(path) && !ownedByOthers.has(path));
    for (const path of dropped.sort().reverse()) removeField(next, path);
    if (dropped.length > 0) pruneEmpty(next, new Set(['metadata', 'spec', 'status', 'data']));
    const merged = applyMerge(next, { ...applied, metadata: { ...metadata, name } }) as JsonObject;
    const mergedMetadata = metadataOf(merged);
    mergedMetadata.resourceVersion = (live.metadata as JsonObject).resourceVersion!;
    if (!own) {
      own = {
        manager: options.manager,
        operation: 'Apply',
        apiVersion: apiVersionOf(kind),
        time: '',
        paths,
      };
      entries.push(own);
    }
    const changedOwnership =
      own.paths !== paths &&
      (own.paths.size !== paths.size || [...paths].some((path) => !own!.paths.has(path)));
    const changedFields = !deepEqual(
      { ...live, metadata: { ...(live.metadata as JsonObject), managedFields: null } },
      { ...merged, metadata: { ...mergedMetadata, managedFields: null } },
    );
    const tookOver = entries.some(
      (entry, index) => entry.paths.size !== (this.managers.get(uid)?.[index]?.paths.size ?? -1),
    );
    if (!changedFields && !changedOwnership && !tookOver && own.paths === paths) {
      // A new manager applying values that are already there becomes a co-owner.
      own.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    } else if (!changedFields && !changedOwnership && !tookOver) {
      return live;
    } else {
      own.paths = paths;
      own.time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    }
    if (!options.dryRun) this.managers.set(uid, entries);
    return this.update(kind, namespace, name, merged, { ...options, managedPaths: paths });
  }

  /** Deletes an object and, unless orphaned, what it owns (ownerReferences), as the GC would. */
  delete(
    kind: ResourceKind,
    namespace: string | undefined,
    name: string,
    options: { dryRun?: boolean; propagation?: string },
  ): JsonObject {
    const live = this.get(kind, namespace, name);
    if (options.dryRun) return live;
    const uid = String((live.metadata as JsonObject).uid);
    if (kind.kind === 'Namespace') {
      for (const contained of resourceKinds.filter((candidate) => candidate.namespaced)) {
        for (const object of this.list(contained, name)) {
          this.delete(contained, name, String((object.metadata as JsonObject).name), {});
        }
      }
    }
    this.objects.delete(this.key(kind, namespace, name));
    this.managers.delete(uid);
    (live.metadata as JsonObject).resourceVersion = String(++this.revision);
    this.record(kind, 'DELETED', live);
    if (options.propagation !== 'Orphan') {
      for (const dependentKind of resourceKinds.filter((candidate) => candidate.namespaced)) {
        for (const object of this.list(dependentKind, namespace)) {
          const owners = ((object.metadata as JsonObject).ownerReferences ?? []) as JsonObject[];
          if (owners.some((owner) => owner.uid === uid)) {
            this.delete(dependentKind, namespace, String((object.metadata as JsonObject).name), {});
          }
        }
      }
    }
    return live;
  }
}

/** A short stable hash, like the `pod-template-hash` label. */
export function templateHash(template: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(template))
    .digest('hex')
    .slice(0, 10)
    .replace(/[0-9]/g, (digit) => 'bcdfghjklm'[Number(digit)]!);
}
