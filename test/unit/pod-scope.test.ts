/**
 * Which pods say something about the Deployment as it is now: those of its current ReplicaSet (the
 * highest revision among the ReplicaSets it controls) that still run. The pure rules behind the
 * Kubernetes activities, the classifier's evidence and verification.
 */
import type { CoreV1Event, V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { concernsTarget, currentReplicaSet, eventTime, ignoredBecause } from '../../activities/kubernetes';
import { consideredPods, describePodScope, type PodFacts } from '../../domain/diagnosis';

const deployment: V1Deployment = { metadata: { name: 'torghut-ws', uid: 'dep-1' } };
const rs = (hash: string, revision: number, owner = 'dep-1'): V1ReplicaSet => ({
  metadata: {
    name: `torghut-ws-${hash}`,
    uid: `rs-${hash}`,
    labels: { app: 'torghut-ws', 'pod-template-hash': hash },
    annotations: { 'deployment.kubernetes.io/revision': String(revision) },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'torghut-ws', uid: owner, controller: true }],
  },
});
const pod = (hash: string, extra: { deleting?: boolean; phase?: string; reason?: string } = {}): V1Pod => ({
  metadata: {
    name: `torghut-ws-${hash}-x`,
    labels: { app: 'torghut-ws', 'pod-template-hash': hash },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `torghut-ws-${hash}`, uid: `rs-${hash}`, controller: true }],
    ...(extra.deleting ? { deletionTimestamp: new Date() } : {}),
  },
  status: { phase: extra.phase ?? 'Running', ...(extra.reason ? { reason: extra.reason } : {}) },
});

describe('the current ReplicaSet', () => {
  it('is the highest revision among the ReplicaSets the Deployment controls (a rollback re-numbers the old one)', () => {
    const { owned, current } = currentReplicaSet(deployment, [rs('aaa', 3), rs('bbb', 5), rs('ccc', 9, 'another-deployment')]);
    expect(owned.map((r) => r.metadata?.name)).toEqual(['torghut-ws-aaa', 'torghut-ws-bbb']);
    expect(current).toEqual({ name: 'torghut-ws-bbb', podTemplateHash: 'bbb', revision: 5 });
  });

  it('is unknown without ReplicaSets of its own', () => {
    expect(currentReplicaSet(deployment, [rs('ccc', 1, 'other')]).current).toBeNull();
  });
});

describe('pods left out, and why', () => {
  const scope = { replicaSet: { name: 'torghut-ws-bbb', podTemplateHash: 'bbb', revision: 5 } };
  it.each([
    ['a running pod of the current ReplicaSet', pod('bbb'), undefined],
    ['an old ReplicaSet\'s pod, still running (rolling update)', pod('aaa'), 'old ReplicaSet torghut-ws-aaa'],
    ['an old ReplicaSet\'s pod, Terminating', pod('aaa', { deleting: true }), 'old ReplicaSet torghut-ws-aaa, Terminating'],
    ['an Evicted pod', pod('bbb', { phase: 'Failed', reason: 'Evicted' }), 'Failed (Evicted)'],
    ['a Completed pod', pod('bbb', { phase: 'Succeeded' }), 'Completed'],
  ])('%s → %s', (_what, p, reason) => {
    expect(ignoredBecause(p, scope)).toBe(reason);
  });

  it('with the current ReplicaSet unknown, only finished and terminating pods are left out', () => {
    expect(ignoredBecause(pod('aaa'), { replicaSet: null })).toBeUndefined();
    expect(ignoredBecause(pod('aaa', { deleting: true }), { replicaSet: null })).toBe('Terminating');
  });

  it('the evidence names the ReplicaSet, counts what was considered and lists what was not', () => {
    const pods: PodFacts[] = [
      { name: 'torghut-ws-bbb-x', phase: 'Running', ready: true, restarts: 0 },
      { name: 'torghut-ws-aaa-y', phase: 'Running', ready: false, restarts: 0, ignored: 'old ReplicaSet torghut-ws-aaa, Terminating' },
    ];
    expect(consideredPods(pods).map((p) => p.name)).toEqual(['torghut-ws-bbb-x']);
    expect(describePodScope(scope, pods)).toBe(
      '1 pod of the current ReplicaSet torghut-ws-bbb (revision 5) considered; 1 pod ignored (torghut-ws-aaa-y: old ReplicaSet torghut-ws-aaa, Terminating)',
    );
    expect(describePodScope({ replicaSet: null, fallback: 'its ReplicaSets could not be read: 403' }, pods.slice(0, 1))).toBe(
      '1 pod considered: current ReplicaSet unknown (its ReplicaSets could not be read: 403), every running pod of the selector counts',
    );
  });
});

describe('events of the target', () => {
  const objects = {
    deployment: 'torghut-ws',
    deploymentUid: 'dep-1',
    replicaSets: new Map([['torghut-ws-bbb', 'rs-bbb']]),
    pods: new Map([['torghut-ws-bbb-x', 'pod-1']]),
  };
  const event = (kind: string, name: string, uid?: string): CoreV1Event => ({ metadata: {}, involvedObject: { kind, name, ...(uid ? { uid } : {}) } });

  it('match by name and, where both know it, by uid; pods of the Deployment\'s ReplicaSets that are gone still count', () => {
    expect(concernsTarget(event('Deployment', 'torghut-ws', 'dep-1'), objects)).toBe(true);
    expect(concernsTarget(event('Deployment', 'torghut-ws', 'dep-0'), objects)).toBe(false);
    expect(concernsTarget(event('ReplicaSet', 'torghut-ws-bbb', 'rs-bbb'), objects)).toBe(true);
    expect(concernsTarget(event('ReplicaSet', 'torghut-ws-zzz'), objects)).toBe(false);
    expect(concernsTarget(event('Pod', 'torghut-ws-bbb-x', 'pod-0'), objects)).toBe(false);
    expect(concernsTarget(event('Pod', 'torghut-ws-bbb-gone'), objects)).toBe(true);
    expect(concernsTarget(event('Pod', 'torghut-ws-other-y'), objects)).toBe(false);
  });

  it('an events.k8s.io/v1 series is dated by its last observation, in one sortable format', () => {
    const series = { ...event('Pod', 'p'), eventTime: new Date('2026-02-09T13:00:00Z'), series: { count: 4, lastObservedTime: '2026-02-09T14:00:00.123456Z' as unknown as Date } };
    expect(eventTime(series)).toBe('2026-02-09T14:00:00.123Z');
    expect(eventTime({ ...event('Pod', 'p'), lastTimestamp: new Date('2026-02-09T12:00:00Z') })).toBe('2026-02-09T12:00:00.000Z');
  });
});
