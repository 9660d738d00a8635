import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  observeRollout,
  rolloutPhase,
  rolloutProgress,
  type ReplicaCounts,
  type RolloutPhase,
} from '../../src/rollouts/rollout-phase.js';

const settled: ReplicaCounts = {
  generation: 2,
  observedGeneration: 2,
  desired: 3,
  replicas: 3,
  updated: 3,
  ready: 3,
  available: 3,
};

describe('rolloutPhase', () => {
  const cases: [string, Partial<ReplicaCounts>, RolloutPhase][] = [
    ['all replicas updated and available', {}, 'complete'],
    ['controller has not observed the new generation', { observedGeneration: 1 }, 'progressing'],
    ['observedGeneration ahead of generation still counts', { observedGeneration: 3 }, 'complete'],
    ['some replicas not yet updated', { updated: 2 }, 'progressing'],
    ['old pods still running', { replicas: 4 }, 'progressing'],
    ['updated but not all available', { available: 2 }, 'progressing'],
    ['deadline exceeded', { updated: 1, progressingReason: 'ProgressDeadlineExceeded' }, 'failed'],
    [
      'deadline exceeded of an earlier generation',
      { observedGeneration: 1, progressingReason: 'ProgressDeadlineExceeded' },
      'progressing',
    ],
    [
      'ReplicaSetUpdated while rolling',
      { updated: 1, progressingReason: 'ReplicaSetUpdated' },
      'progressing',
    ],
    [
      'NewReplicaSetAvailable when done',
      { progressingReason: 'NewReplicaSetAvailable' },
      'complete',
    ],
    ['scaled to zero', { desired: 0, replicas: 0, updated: 0, ready: 0, available: 0 }, 'complete'],
    [
      'never observed (new Deployment)',
      { generation: 1, observedGeneration: 0, updated: 0 },
      'progressing',
    ],
  ];
  for (const [name, change, phase] of cases) {
    it(`${name} → ${phase}`, () => assert.equal(rolloutPhase({ ...settled, ...change }), phase));
  }
});

describe('rolloutProgress', () => {
  const cases: [number, number, number][] = [
    [0, 4, 0],
    [1, 4, 0.25],
    [4, 4, 1],
    [5, 4, 1],
    [0, 0, 1],
  ];
  for (const [updated, desired, progress] of cases) {
    it(`${updated}/${desired} → ${progress}`, () =>
      assert.equal(rolloutProgress({ updated, desired }), progress));
  }
});

describe('observeRollout', () => {
  const deployment = (extra: Record<string, unknown> = {}) => ({
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      generation: 4,
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: {
      replicas: 4,
      template: { spec: { containers: [{ image: 'web:2' }, { image: 'sidecar:1' }] } },
    },
    status: {
      observedGeneration: 4,
      replicas: 4,
      updatedReplicas: 2,
      availableReplicas: 3,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
    },
    ...extra,
  });

  it('reads revision, images and progress', () => {
    const observation = observeRollout(deployment())!;
    assert.equal(observation.revision, '3');
    assert.deepEqual(observation.images, ['web:2', 'sidecar:1']);
    assert.equal(observation.progress, 0.5);
    assert.equal(observation.phase, 'progressing');
    assert.equal(observation.observed, true);
  });

  it("tells a Deployment Cadence's deployer applied by its field manager", () => {
    assert.equal(observeRollout(deployment())!.reportedByDeployer, false);
    const applied = deployment();
    Object.assign(applied.metadata, {
      managedFields: [
        { manager: 'kube-controller-manager', operation: 'Update' },
        { manager: 'cadence', operation: 'Apply' },
      ],
    });
    assert.equal(observeRollout(applied)!.reportedByDeployer, true);
  });

  it('falls back to the generation when there is no revision annotation', () => {
    const raw = deployment();
    raw.metadata.annotations = {} as typeof raw.metadata.annotations;
    assert.equal(observeRollout(raw)!.revision, '4');
  });

  it('reports the reason and message of a failed rollout', () => {
    const observation = observeRollout(
      deployment({
        status: {
          observedGeneration: 4,
          updatedReplicas: 1,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "web-abc" has timed out progressing.',
            },
          ],
        },
      }),
    )!;
    assert.equal(observation.phase, 'failed');
    assert.equal(observation.reason, 'ProgressDeadlineExceeded');
    assert.match(observation.message!, /timed out/);
  });

  it('is undefined for an object that is not a Deployment', () => {
    assert.equal(observeRollout({ metadata: { name: 'x' } }), undefined);
    assert.equal(observeRollout('nope'), undefined);
  });
});

describe('observeRollout on client-node typed objects', () => {
  it('reads conditions whose times are Dates (list results), as strings (watch events)', () => {
    const at = new Date('2026-03-04T10:00:00.000Z');
    const typed = observeRollout({
      metadata: { name: 'web', namespace: 'shop', uid: 'u', generation: 1 },
      spec: { replicas: 1 },
      status: {
        observedGeneration: 1,
        replicas: 1,
        updatedReplicas: 1,
        availableReplicas: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            lastTransitionTime: at,
          },
        ],
      },
    });
    assert.equal(typed?.phase, 'complete');
    assert.equal(typed?.conditions[0]?.lastTransitionTime, '2026-03-04T10:00:00Z');
  });
});
