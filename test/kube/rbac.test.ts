/**
 * The shipped RBAC, enforced by the real API server: the worker's ServiceAccount (deploy/kubernetes/
 * rbac.yaml applied as it is) can diagnose, and every write the product does not need is refused
 * with 403 — including the emergency restart until rbac-emergency.yaml grants it, and then only for
 * the one Deployment.
 */
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities } from '../../activities/kubernetes';
import { applyShippedRbac, closeSeeded, EMERGENCY_RBAC_FILE, eventually, seeded, workerKubeConfig, type SeededNamespace } from '../support/kube';

afterAll(closeSeeded);

const forbidden = { code: 403 };

describe('the worker ServiceAccount with deploy/kubernetes/rbac.yaml', () => {
  let s: SeededNamespace;
  let worker: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let pod: string;
  beforeAll(async () => {
    s = await seeded('alpaca-406');
    worker = await workerKubeConfig(s.admin, s.namespace);
    core = worker.makeApiClient(CoreV1Api);
    apps = worker.makeApiClient(AppsV1Api);
    pod = (await core.listNamespacedPod({ namespace: s.namespace })).items[0]!.metadata!.name!;
  });

  it('reads what the diagnosis needs, including the ReplicaSets', async () => {
    const kube = createKubernetesActivities(worker);
    expect((await kube.getDeploymentFacts(s.target)).podScope?.replicaSet?.revision).toBe(1);
    expect(await apps.listNamespacedReplicaSet({ namespace: s.namespace })).toMatchObject({ items: [expect.anything()] });
  });

  it('may not delete a pod, create a pod, or create an event', async () => {
    await expect(core.deleteNamespacedPod({ name: pod, namespace: s.namespace })).rejects.toMatchObject(forbidden);
    await expect(
      core.createNamespacedPod({ namespace: s.namespace, body: { metadata: { name: 'intruder' }, spec: { containers: [{ name: 'x', image: 'busybox' }] } } }),
    ).rejects.toMatchObject(forbidden);
    await expect(
      core.createNamespacedEvent({ namespace: s.namespace, body: { metadata: { name: 'x' }, involvedObject: { kind: 'Pod', name: pod, namespace: s.namespace }, reason: 'X', message: 'x' } }),
    ).rejects.toMatchObject(forbidden);
  });

  it('may not update, patch, scale or delete the Deployment: the emergency restart is refused (NotAllowedError)', async () => {
    const live = await apps.readNamespacedDeployment({ name: 'torghut-ws', namespace: s.namespace });
    await expect(apps.replaceNamespacedDeployment({ name: 'torghut-ws', namespace: s.namespace, body: live })).rejects.toMatchObject(forbidden);
    await expect(
      apps.patchNamespacedDeployment(
        { name: 'torghut-ws', namespace: s.namespace, body: { spec: { replicas: 2 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    ).rejects.toMatchObject(forbidden);
    await expect(
      apps.patchNamespacedDeploymentScale({ name: 'torghut-ws', namespace: s.namespace, body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    ).rejects.toMatchObject(forbidden);
    await expect(apps.deleteNamespacedDeployment({ name: 'torghut-ws', namespace: s.namespace })).rejects.toMatchObject(forbidden);
    await expect(createKubernetesActivities(worker).patchRestartedAt(s.target, '2026-02-09T14:30:00Z')).rejects.toMatchObject({
      type: 'NotAllowedError',
      nonRetryable: true,
      message: expect.stringContaining('not allowed (403)'),
    });
  });

  it('may not change the ConfigMap, list Secrets, or read another namespace', async () => {
    await expect(
      core.patchNamespacedConfigMap({ name: 'torghut-ws', namespace: s.namespace, body: { data: { KAFKA_BOOTSTRAP: 'evil:9092' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    ).rejects.toMatchObject(forbidden);
    await expect(core.listNamespacedSecret({ namespace: s.namespace })).rejects.toMatchObject(forbidden);
    await expect(core.listNamespacedPod({ namespace: 'kube-system' })).rejects.toMatchObject(forbidden);
  });

  // The Role still grants `get` on Secret/torghut-ws (read as metadata only). A sibling change
  // replaces that check by the KafkaUser's status and removes the rule; then this test passes and
  // `.fails` must go. Verified by deleting the rule locally: the read is then refused with 403.
  it('may not read the Kafka Secret (its values) at all', async () => {
    await expect(core.readNamespacedSecret({ name: 'torghut-ws', namespace: s.namespace })).rejects.toMatchObject(forbidden);
  });
});

describe('the opt-in emergency Role (deploy/kubernetes/components/emergency/rbac-emergency.yaml)', () => {
  it('allows the emergency restart of torghut-ws — a real rollout — and nothing else', async () => {
    const s = await seeded('alpaca-406');
    const worker = await workerKubeConfig(s.admin, s.namespace);
    const kube = createKubernetesActivities(worker);
    await expect(kube.patchRestartedAt(s.target, '2026-02-09T14:30:00Z')).rejects.toMatchObject({ type: 'NotAllowedError' });

    await applyShippedRbac(s.admin, s.namespace, EMERGENCY_RBAC_FILE);
    const status = await eventually('the emergency Role to take effect', () =>
      kube.patchRestartedAt(s.target, '2026-02-09T14:30:00Z', 1).catch((err: { type?: string }) => {
        if (err.type === 'NotAllowedError') return undefined;
        throw err;
      }),
    );
    expect(status).toMatchObject({ restartedAt: '2026-02-09T14:30:00Z', generation: 2 });
    const rollout = await eventually('the rollout to complete', async () => {
      const r = await kube.rolloutStatus(s.target);
      return r.complete ? r : undefined;
    });
    expect(rollout.podScope?.replicaSet?.revision).toBe(2);
    expect((await kube.probePods(s.target)).map((p) => p.status)).toEqual([200, 200]);

    const apps = worker.makeApiClient(AppsV1Api);
    const live = await apps.readNamespacedDeployment({ name: 'torghut-ws', namespace: s.namespace });
    await expect(apps.replaceNamespacedDeployment({ name: 'torghut-ws', namespace: s.namespace, body: live })).rejects.toMatchObject(forbidden);
    await expect(
      apps.patchNamespacedDeployment({ name: 'another-app', namespace: s.namespace, body: { spec: { replicas: 0 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    ).rejects.toMatchObject(forbidden);
  });
});
