/**
 * Events as a real API server keeps them: listed in name order and in pages of at most 500, some
 * written through events.k8s.io/v1 (a `series` with `count` and `lastObservedTime`, an `eventTime`,
 * no `lastTimestamp`), and some about an object of the same name that is not ours (another uid).
 * The diagnosis pages through all of them, keeps the target's own, and orders them by time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes';
import { createEvents, createSeriesEvents, legacyEvent, seriesEvent } from '../../devstack/real-cluster/scenario-events';
import { CoreV1Api } from '@kubernetes/client-node';
import { closeSeeded, seeded, workerKubeConfig, type SeededNamespace } from '../support/kube';

afterAll(closeSeeded);

describe('events on the real API server', () => {
  let s: SeededNamespace;
  let kube: KubernetesActivities;
  let pod: { name: string; uid: string };
  beforeAll(async () => {
    s = await seeded('alpaca-406');
    kube = createKubernetesActivities(await workerKubeConfig(s.admin, s.namespace));
    const first = (await s.admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: s.namespace })).items[0]!;
    pod = { name: first.metadata!.name!, uid: first.metadata!.uid! };
  });

  it('more than 500 events in the namespace: the target\'s, listed after 520 others by name, are found and ordered by time', async () => {
    const now = new Date();
    const noise = Array.from({ length: 520 }, (_, i) =>
      legacyEvent(s.namespace, { kind: 'Pod', name: `aaa-batch-job-${String(i).padStart(3, '0')}`, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }, { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', count: 1, secondsAgo: 1 }, now),
    );
    for (let i = 0; i < noise.length; i += 40) await createEvents(s.admin, s.namespace, noise.slice(i, i + 40));
    await createEvents(s.admin, s.namespace, [
      legacyEvent(s.namespace, { kind: 'Pod', ...pod }, { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container torghut-ws', count: 7, secondsAgo: 0 }, now),
    ]);
    const all = await s.admin.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: s.namespace, limit: 500 });
    expect(all.items).toHaveLength(500);
    expect(all.metadata?._continue).toBeTruthy();

    const events = await kube.listEvents(s.target);
    expect(events[0]).toMatchObject({ reason: 'BackOff', object: `Pod/${pod.name}`, count: 7 });
    expect(events).toContainEqual(expect.objectContaining({ reason: 'Unhealthy', count: 143 }));
    expect(events.some((e) => e.object.startsWith('Pod/aaa-batch-job-'))).toBe(false);
    const times = events.map((e) => e.lastTimestamp!);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('an events.k8s.io/v1 event counts by series.count and dates by series.lastObservedTime', async () => {
    const now = new Date(Date.now() + 5000);
    await createSeriesEvents(s.admin, s.namespace, [
      seriesEvent(s.namespace, { kind: 'Pod', ...pod }, { type: 'Warning', reason: 'Unhealthy', note: 'Liveness probe failed: HTTP probe failed with statuscode: 500', count: 42, secondsAgo: 0, firstSecondsAgo: 600 }, now),
    ]);
    const [newest] = await kube.listEvents(s.target);
    expect(newest).toEqual({
      type: 'Warning',
      reason: 'Unhealthy',
      message: 'Liveness probe failed: HTTP probe failed with statuscode: 500',
      object: `Pod/${pod.name}`,
      count: 42,
      // MicroTime round-trips to the millisecond; no lastTimestamp was ever written.
      lastTimestamp: now.toISOString(),
    });
  });

  it('events about another object of the same name (another uid) are not the target\'s', async () => {
    const later = new Date(Date.now() + 60_000);
    const stranger = '11111111-2222-4333-8444-555555555555';
    await createEvents(s.admin, s.namespace, [
      legacyEvent(s.namespace, { kind: 'Deployment', name: 'torghut-ws', uid: stranger }, { type: 'Warning', reason: 'StaleDeployment', message: 'from a deleted torghut-ws', count: 1, secondsAgo: 0 }, later),
      legacyEvent(s.namespace, { kind: 'Pod', name: pod.name, uid: stranger }, { type: 'Warning', reason: 'StalePod', message: 'from a deleted pod of that name', count: 1, secondsAgo: 0 }, later),
      legacyEvent(s.namespace, { kind: 'Deployment', name: 'torghut-ws', uid: s.deploymentUid }, { type: 'Normal', reason: 'Ours', message: 'about the live Deployment', count: 1, secondsAgo: 0 }, later),
    ]);
    const events = await kube.listEvents(s.target);
    expect(events.map((e) => e.reason)).not.toContain('StaleDeployment');
    expect(events.map((e) => e.reason)).not.toContain('StalePod');
    expect(events[0]).toMatchObject({ reason: 'Ours', object: 'Deployment/torghut-ws' });
  });
});
