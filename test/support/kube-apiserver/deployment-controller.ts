import { randomUUID } from 'node:crypto';
import type { ObjectStore } from './object-store.js';
import { templateHash } from './object-store.js';
import { clone, deepEqual, isObject, type JsonObject } from './patches.js';

/**
 * A simulated Deployment controller. A Deployment whose pod template changed gets a ReplicaSet
 * for the new template (named `<deployment>-<pod-template-hash>`, revision annotation bumped);
 * then, one step per tick, a pod of the new revision is created (ready at once) and one of the
 * old ones deleted, and the Deployment's status follows as the real controller writes it
 * (observedGeneration, replicas, updated/ready/available/unavailableReplicas, Progressing and
 * Available conditions). A rollout marked to fail gets one new pod that never becomes ready and
 * then Progressing=False, reason ProgressDeadlineExceeded, as when the deadline passes.
 */

const REVISION = 'deployment.kubernetes.io/revision';
/** Set this annotation on a Deployment's metadata to make its next rollout fail. */
export const FAIL_ROLLOUT_ANNOTATION = 'kube-apiserver.test/fail-rollout';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const manager = { manager: 'kube-controller-manager' };

interface RolloutMark {
  failing: boolean;
}

export class DeploymentController {
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private readonly failNext = new Set<string>();
  /** Rollouts marked failing, by Deployment uid + template hash. */
  private readonly marks = new Map<string, RolloutMark>();

  constructor(
    private readonly store: ObjectStore,
    private stepIntervalMs: number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      if (!this.paused) this.step();
    }, this.stepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  setStepInterval(ms: number): void {
    this.stepIntervalMs = ms;
    if (this.timer) {
      this.stop();
      this.start();
    }
  }

  /** Marks the next rollout of a Deployment to stall with ProgressDeadlineExceeded. */
  failNextRollout(namespace: string, name: string): void {
    this.failNext.add(`${namespace}/${name}`);
  }

  /**
   * Lets a rollout stalled past its deadline go on (its pods pull at last): the stalled pod
   * becomes ready and the rollout proceeds step by step to NewReplicaSetAvailable, as a real
   * Deployment does when progress resumes after ProgressDeadlineExceeded. False when none stalls.
   */
  completeStalledRollout(namespace: string, name: string): boolean {
    const deployment = this.store
      .list(this.store.kind('apps', 'deployments'), namespace)
      .find((candidate) => (candidate.metadata as JsonObject).name === name);
    if (!deployment) return false;
    const metadata = deployment.metadata as JsonObject;
    const hash = templateHash((deployment.spec as JsonObject).template as JsonObject);
    const mark = this.marks.get(`${String(metadata.uid)}/${hash}`);
    if (!mark?.failing) return false;
    mark.failing = false;
    const pods = this.store.kind('', 'pods');
    for (const pod of this.store.list(pods, namespace)) {
      const labels = ((pod.metadata as JsonObject).labels ?? {}) as JsonObject;
      if (labels['pod-template-hash'] !== hash || podReady(pod)) continue;
      const status = clone(pod.status as JsonObject);
      status.phase = 'Running';
      status.conditions = ((status.conditions ?? []) as JsonObject[]).map((condition) => ({
        ...condition,
        status: 'True',
        lastTransitionTime: now(),
      }));
      status.containerStatuses = ((status.containerStatuses ?? []) as JsonObject[]).map(
        (container) => ({
          ...container,
          ready: true,
          started: true,
          state: { running: { startedAt: now() } },
        }),
      );
      this.store.update(
        pods,
        namespace,
        String((pod.metadata as JsonObject).name),
        { ...pod, status },
        { ...manager, subresource: 'status' },
      );
    }
    return true;
  }

  /** One step of every Deployment that is not settled; returns how many changed. */
  step(): number {
    const deployments = this.store.kind('apps', 'deployments');
    let changed = 0;
    for (const deployment of this.store.list(deployments, undefined)) {
      if (this.reconcile(deployment)) changed += 1;
    }
    return changed;
  }

  private reconcile(deployment: JsonObject): boolean {
    const metadata = deployment.metadata as JsonObject;
    const namespace = String(metadata.namespace);
    const name = String(metadata.name);
    const spec = deployment.spec as JsonObject;
    const template = spec.template as JsonObject;
    const desired = Number(spec.replicas ?? 1);
    const hash = templateHash(template);
    const replicaSets = this.store.kind('apps', 'replicasets');
    const pods = this.store.kind('', 'pods');
    const owned = (kindList: JsonObject[], uid: unknown) =>
      kindList.filter((object) =>
        (((object.metadata as JsonObject).ownerReferences ?? []) as JsonObject[]).some(
          (owner) => owner.uid === uid,
        ),
      );
    const sets = owned(this.store.list(replicaSets, namespace), metadata.uid);
    let current = sets.find(
      (set) => ((set.metadata as JsonObject).labels as JsonObject)['pod-template-hash'] === hash,
    );
    const status = isObject(deployment.status) ? clone(deployment.status) : {};
    const generation = Number(metadata.generation ?? 1);
    const markKey = `${String(metadata.uid)}/${hash}`;

    if (!current) {
      const revisions = sets.map((set) =>
        Number(
          ((set.metadata as JsonObject).annotations as JsonObject | undefined)?.[REVISION] ?? 0,
        ),
      );
      const revision = String(Math.max(0, ...revisions) + 1);
      const annotations = (metadata.annotations ?? {}) as JsonObject;
      const failing =
        this.failNext.delete(`${namespace}/${name}`) ||
        annotations[FAIL_ROLLOUT_ANNOTATION] === 'true';
      this.marks.set(markKey, { failing });
      const labels = {
        ...(((template.metadata as JsonObject | undefined)?.labels ?? {}) as JsonObject),
        'pod-template-hash': hash,
      };
      current = this.store.create(
        replicaSets,
        namespace,
        {
          metadata: {
            name: `${name}-${hash}`,
            namespace,
            labels,
            annotations: { [REVISION]: revision },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                name,
                uid: metadata.uid!,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: {
            replicas: desired,
            selector: {
              matchLabels: {
                ...((spec.selector as JsonObject).matchLabels as JsonObject),
                'pod-template-hash': hash,
              },
            },
            template: {
              ...clone(template),
              metadata: { ...(clone(template.metadata) as JsonObject), labels },
            },
          },
        },
        manager,
      );
      this.writeDeployment(
        deployment,
        { [REVISION]: revision },
        {
          ...status,
          observedGeneration: generation,
          updatedReplicas: 0,
          conditions: conditions(
            status,
            'Progressing',
            'True',
            'ReplicaSetUpdated',
            `ReplicaSet "${name}-${hash}" is progressing.`,
          ),
        },
      );
      return true;
    }

    const mark = this.marks.get(markKey) ?? { failing: false };
    const allPods = this.store.list(pods, namespace);
    const currentUid = (current.metadata as JsonObject).uid;
    const newPods = owned(allPods, currentUid);
    const oldSets = sets.filter((set) => set !== current);
    const oldPods = oldSets.flatMap((set) => owned(allPods, (set.metadata as JsonObject).uid));
    let changed = false;

    if (mark.failing) {
      if (newPods.length === 0) {
        this.createPod(current, namespace, false);
        changed = true;
      }
    } else if (newPods.length < desired) {
      this.createPod(current, namespace, true);
      changed = true;
      if (oldPods.length > 0 && newPods.length + 1 + oldPods.length > desired) {
        this.deletePod(oldPods[0]!);
        oldPods.shift();
      }
    } else if (oldPods.length > 0) {
      this.deletePod(oldPods[0]!);
      oldPods.shift();
      changed = true;
    } else if (newPods.length > desired) {
      this.deletePod(newPods[newPods.length - 1]!);
      changed = true;
    }

    const podsNow = this.store.list(pods, namespace);
    const updated = owned(podsNow, currentUid);
    const old = oldSets.flatMap((set) => owned(podsNow, (set.metadata as JsonObject).uid));
    const ready = [...updated, ...old].filter((pod) => podReady(pod)).length;
    const total = updated.length + old.length;
    const done = !mark.failing && updated.length === desired && old.length === 0;
    const hashName = `${name}-${hash}`;
    let progressing: JsonObject[];
    if (mark.failing && newPods.length > 0) {
      progressing = conditions(
        status,
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${hashName}" has timed out progressing.`,
      );
    } else if (done) {
      progressing = conditions(
        status,
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${hashName}" has successfully progressed.`,
      );
    } else {
      progressing = conditions(
        status,
        'Progressing',
        'True',
        'ReplicaSetUpdated',
        `ReplicaSet "${hashName}" is progressing.`,
      );
    }
    const minAvailable = desired - Math.floor(desired * 0.25);
    const available = ready >= minAvailable;
    const withAvailable = mergeCondition(
      progressing,
      'Available',
      available ? 'True' : 'False',
      available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      available
        ? 'Deployment has minimum availability.'
        : 'Deployment does not have minimum availability.',
    );
    const nextStatus: JsonObject = {
      observedGeneration: generation,
      replicas: total,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(desired - ready > 0
        ? { unavailableReplicas: Math.max(0, total - ready, desired - ready) }
        : {}),
      conditions: withAvailable,
    };
    for (const set of sets) {
      const setPods = owned(podsNow, (set.metadata as JsonObject).uid);
      const setReady = setPods.filter(podReady).length;
      const setStatus = {
        observedGeneration: Number((set.metadata as JsonObject).generation ?? 1),
        replicas: setPods.length,
        readyReplicas: setReady,
        availableReplicas: setReady,
        fullyLabeledReplicas: setPods.length,
      };
      if (!deepEqual(set.status, setStatus)) {
        this.store.update(
          this.store.kind('apps', 'replicasets'),
          namespace,
          String((set.metadata as JsonObject).name),
          { ...set, status: setStatus },
          { ...manager, subresource: 'status' },
        );
      }
    }
    if (!deepEqual(withoutTimes(status), withoutTimes(nextStatus))) {
      this.writeDeployment(deployment, {}, nextStatus);
      changed = true;
    }
    return changed;
  }

  private writeDeployment(
    deployment: JsonObject,
    annotations: JsonObject,
    status: JsonObject,
  ): void {
    const metadata = deployment.metadata as JsonObject;
    const namespace = String(metadata.namespace);
    const name = String(metadata.name);
    const kind = this.store.kind('apps', 'deployments');
    let live = this.store.get(kind, namespace, name);
    if (Object.keys(annotations).length > 0) {
      const liveMetadata = live.metadata as JsonObject;
      live = this.store.update(
        kind,
        namespace,
        name,
        {
          ...live,
          metadata: {
            ...liveMetadata,
            annotations: { ...((liveMetadata.annotations ?? {}) as JsonObject), ...annotations },
          },
        },
        manager,
      );
    }
    this.store.update(
      kind,
      namespace,
      name,
      { ...live, status },
      { ...manager, subresource: 'status' },
    );
  }

  private createPod(replicaSet: JsonObject, namespace: string, ready: boolean): void {
    const metadata = replicaSet.metadata as JsonObject;
    const template = (replicaSet.spec as JsonObject).template as JsonObject;
    const containers = ((template.spec as JsonObject).containers ?? []) as JsonObject[];
    const pods = this.store.kind('', 'pods');
    const pod = this.store.create(
      pods,
      namespace,
      {
        metadata: {
          name: `${String(metadata.name)}-${randomUUID().slice(0, 5)}`,
          namespace,
          labels: clone((template.metadata as JsonObject).labels ?? {}),
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: metadata.name!,
              uid: metadata.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: clone(template.spec!),
      },
      manager,
    );
    const podMetadata = pod.metadata as JsonObject;
    this.store.update(
      pods,
      namespace,
      String(podMetadata.name),
      {
        ...pod,
        status: {
          phase: ready ? 'Running' : 'Pending',
          podIP: `10.244.0.${(Number(podMetadata.resourceVersion) % 250) + 1}`,
          startTime: now(),
          conditions: [
            { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now() },
            {
              type: 'ContainersReady',
              status: ready ? 'True' : 'False',
              lastTransitionTime: now(),
            },
          ],
          containerStatuses: containers.map((container) => ({
            name: container.name!,
            image: container.image!,
            ready,
            restartCount: 0,
            started: ready,
            state: (ready
              ? { running: { startedAt: now() } }
              : { waiting: { reason: 'ImagePullBackOff' } }) as JsonObject,
          })),
        },
      },
      { ...manager, subresource: 'status' },
    );
  }

  private deletePod(pod: JsonObject): void {
    const metadata = pod.metadata as JsonObject;
    this.store.delete(
      this.store.kind('', 'pods'),
      String(metadata.namespace),
      String(metadata.name),
      {},
    );
  }
}

function podReady(pod: JsonObject): boolean {
  const conditions = ((pod.status as JsonObject | undefined)?.conditions ?? []) as JsonObject[];
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

function withoutTimes(status: JsonObject): unknown {
  const copy = clone(status);
  for (const condition of (copy.conditions ?? []) as JsonObject[]) {
    delete condition.lastUpdateTime;
    delete condition.lastTransitionTime;
  }
  return copy;
}

function mergeCondition(
  list: JsonObject[],
  type: string,
  status: string,
  reason: string,
  message: string,
): JsonObject[] {
  const previous = list.find((condition) => condition.type === type);
  const transitioned = previous?.status !== status;
  const next: JsonObject = {
    type,
    status,
    lastUpdateTime: previous && previous.reason === reason ? previous.lastUpdateTime! : now(),
    lastTransitionTime: transitioned || !previous ? now() : previous.lastTransitionTime!,
    reason,
    message,
  };
  // Available first, then Progressing, the order the real controller keeps.
  const others = list.filter((condition) => condition.type !== type);
  return [...others, next].sort((a, b) => String(a.type).localeCompare(String(b.type)));
}

function conditions(
  status: JsonObject,
  type: string,
  value: string,
  reason: string,
  message: string,
): JsonObject[] {
  return mergeCondition(
    ((status.conditions ?? []) as JsonObject[]).map(clone),
    type,
    value,
    reason,
    message,
  );
}
