/**
 * What the simulator never produced: a real `rollout restart` on the real Deployment controller,
 * with the pods of the old ReplicaSet still listed under `app=torghut-ws` — Running beside the new
 * pod during a rolling update, Terminating after it, Evicted and Completed ones kept until garbage
 * collection. Diagnosis and verification look only at the current ReplicaSet's running pods and
 * say which ones they left out; before, verification probed the old pod (`/readyz → unreachable`)
 * and failed every successful restart, and the log tail read the old pod first.
 */
import { CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createClassifyActivities } from '../../activities/classify';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes';
import { createVerifyActivities } from '../../activities/verify';
import { collectDiagnosis } from '../../domain/collect-diagnosis';
import type { PodFacts } from '../../domain/diagnosis';
import { closeSeeded, eventually, seeded, workerKubeConfig, type SeededNamespace } from '../support/kube';

afterAll(closeSeeded);

const rollingUpdate = (d: V1Deployment): V1Deployment => ({
  ...d,
  spec: { ...d.spec!, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
});

/** Every pod carrying the Deployment's label, as `kubectl get pods -l app=torghut-ws` lists them. */
async function labelled(s: SeededNamespace) {
  const core = s.admin.makeApiClient(CoreV1Api);
  return (await core.listNamespacedPod({ namespace: s.namespace, labelSelector: 'app=torghut-ws' })).items;
}

async function diagnoseAndClassify(kube: KubernetesActivities, s: SeededNamespace) {
  const diagnosis = await collectDiagnosis({ ...kube, readGitOpsFacts: () => Promise.resolve(null) }, s.runbook);
  const classification = await createClassifyActivities({ runbooks: [s.runbook] }).classifyIncident(diagnosis, { runbookId: s.runbook.id, expectedReplicas: 1, kafkaUser: 'torghut-ws', readinessPath: '/readyz' });
  return { diagnosis, classification };
}

const names = (pods: PodFacts[]) => pods.map((p) => p.name);

describe('a rolling restart on the real Deployment controller (RollingUpdate, maxSurge 1)', () => {
  it('during: the new ReplicaSet\'s pod is the one diagnosed while the old pod still runs; after: the Terminating old pod is ignored and verification passes', async () => {
    const s = await seeded('alpaca-406', { adjustDeployment: rollingUpdate, terminationMs: 60_000 });
    const kube = createKubernetesActivities(await workerKubeConfig(s.admin, s.namespace));
    const [oldPod] = await labelled(s);
    const oldName = oldPod!.metadata!.name!;

    // The new pod "pulls its image" for a while: the rollout is half way.
    s.kubelet.timing.startDelayMs = 8000;
    await createKubernetesActivities(s.admin).patchRestartedAt(s.target, '2026-02-09T14:30:00Z');
    const during = await eventually('a second ReplicaSet with a pod beside the old one', async () => {
      const pods = await kube.listPods(s.target);
      const halfWay = pods.length === 2 && pods[0]!.phase === 'Pending' && !pods[1]!.ignored?.includes('Terminating');
      return halfWay && (await kube.getDeploymentFacts(s.target)).podScope?.replicaSet?.revision === 2 ? pods : undefined;
    });
    expect(during[0]).toMatchObject({ phase: 'Pending', ready: false });
    expect(during[0]!.ignored).toBeUndefined();
    expect(during[1]).toMatchObject({ name: oldName, phase: 'Running', ignored: expect.stringMatching(/^old ReplicaSet torghut-ws-\w+$/) });
    expect((await kube.probePods(s.target)).map((p) => p.pod)).not.toContain(oldName);
    // The log tail is the new pod's (not yet readable), never the old pod's.
    await expect(kube.tailLogs(s.target)).rejects.toMatchObject({ message: expect.stringContaining(during[0]!.name) });

    // The new pod becomes Ready, the controller scales the old ReplicaSet down: the old pod terminates.
    const after = await eventually('the old pod Terminating beside a Ready new pod', async () => {
      const pods = await kube.listPods(s.target);
      return pods[0]?.ready && pods.some((p) => p.name === oldName && p.ignored?.includes('Terminating')) ? pods : undefined;
    });
    const raw = await labelled(s);
    expect(raw).toHaveLength(2);
    expect(raw.find((p) => p.metadata?.name === oldName)?.metadata?.deletionTimestamp).toBeDefined();
    expect(after[1]!.ignored).toMatch(/^old ReplicaSet torghut-ws-\w+, Terminating$/);

    expect((await kube.probePods(s.target)).map((p) => [p.pod, p.path, p.status])).toEqual([
      [after[0]!.name, '/healthz', 200],
      [after[0]!.name, '/readyz', 200],
    ]);
    const logs = await kube.tailLogs(s.target);
    expect(logs.pod).toBe(after[0]!.name);
    expect(logs.lines.some((l) => l.includes('"msg":"authenticated"'))).toBe(true);

    const verification = await createVerifyActivities(kube).verifyRestart({ target: s.target, restartedAt: '2026-02-09T14:30:00Z', timeoutMs: 20_000, pollIntervalMs: 250 });
    expect(verification).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^rollout complete and \/readyz 200 on every new pod: 1 pod of ReplicaSet torghut-ws-\w+; 1 old or finished pod ignored$/),
    });
    const { classification } = await diagnoseAndClassify(kube, s);
    expect(classification.class).toBe('healthy');
    expect(classification.evidence.map((e) => e.text)).toContainEqual(
      expect.stringMatching(new RegExp(`^1 pod of the current ReplicaSet torghut-ws-\\w+ \\(revision 2\\) considered; 1 pod ignored \\(${oldName}: old ReplicaSet torghut-ws-\\w+, Terminating\\)$`)),
    );
  });
});

describe('Evicted and Completed pods stay listed (nothing garbage-collects them)', () => {
  it('an Evicted and a Completed pod of the broken ReplicaSet: the diagnosis reads the replacement; after the restart both are ignored and verification passes', async () => {
    const s = await seeded('alpaca-406');
    const kube = createKubernetesActivities(await workerKubeConfig(s.admin, s.namespace));
    const first = (await kube.listPods(s.target))[0]!.name;
    await s.kubelet.evict(first);
    const second = await eventually('a replacement for the evicted pod', async () => {
      const pods = await kube.listPods(s.target);
      return pods[0] && pods[0].name !== first && pods[0].phase === 'Running' ? pods[0].name : undefined;
    });
    await s.kubelet.complete(second);
    const third = await eventually('a replacement for the completed pod', async () => {
      const pods = await kube.listPods(s.target);
      return pods[0] && ![first, second].includes(pods[0].name) && pods[0].phase === 'Running' ? pods[0].name : undefined;
    });

    const before = await diagnoseAndClassify(kube, s);
    expect(before.classification.class).toBe('alpaca_406_second_connection');
    const pods = before.diagnosis.pods.ok ? before.diagnosis.pods.value : [];
    expect(names(pods)[0]).toBe(third);
    expect(Object.fromEntries(pods.map((p) => [p.name, p.ignored]))).toEqual({ [third]: undefined, [second]: 'Completed', [first]: 'Failed (Evicted)' });
    expect(before.diagnosis.logs.ok && before.diagnosis.logs.value.pod).toBe(third);
    // One pod, not three: no "3 pods found (expected 1)" note suggesting a replica drift.
    expect(before.classification.notes.join('\n')).not.toMatch(/pods found \(expected 1\)/);

    await createKubernetesActivities(s.admin).patchRestartedAt(s.target, '2026-02-09T14:30:00Z');
    const verification = await createVerifyActivities(kube).verifyRestart({ target: s.target, restartedAt: '2026-02-09T14:30:00Z', timeoutMs: 30_000, pollIntervalMs: 250 });
    expect(verification).toMatchObject({ ok: true, detail: expect.stringMatching(/1 pod of ReplicaSet torghut-ws-\w+; 2 old or finished pods ignored$/) });
    expect(await labelled(s)).toHaveLength(3);
    const after = await kube.listPods(s.target);
    expect(after[0]!.ignored).toBeUndefined();
    expect(Object.fromEntries(after.slice(1).map((p) => [p.name, p.ignored]))).toEqual({
      [second]: expect.stringMatching(/^old ReplicaSet .*, Completed$/),
      [first]: expect.stringMatching(/^old ReplicaSet .*, Failed \(Evicted\)$/),
    });
  });
});
