/**
 * Puts a scenario into a namespace of the real test control plane, as the cluster would look after
 * the last Argo CD sync: the namespace, the pods' ServiceAccount, the ConfigMap, the KafkaUser with
 * its operator status and its Secret (fake data) when the scenario has them, and the Deployment —
 * the GitOps manifest itself (sim/github.ts's deployment.yaml, its namespace rewritten) with the
 * scenario's replicas and restartedAt, server-side applied by `argocd-controller`. The real
 * Deployment and ReplicaSet controllers create the ReplicaSet and pods; a test kubelet (sim/kubelet)
 * plays them; then the scenario's events are written about the real objects and uids (through
 * core/v1 or events.k8s.io/v1, as the scenario says). Resolves once
 * the pods and the Deployment's status show the scenario's state.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { INSTANCE_LABEL, TRACKING_ID_ANNOTATION, trackingIdOf } from '../../domain/argo-ownership';
import { RESTARTED_AT_ANNOTATION } from '../../domain/diagnosis';
import { TORGHUT_DEPLOYMENT_PATH, torghutGitOpsTree } from '../../sim/github';
import { TestKubelet } from '../../sim/kubelet/kubelet';
import type { PodNetworkClient } from '../../sim/kubelet/pod-network';
import { kafkaUserOf, type Scenario } from '../../sim/scenario';
import { createKafkaUser, ensureKafkaUserCrd } from './kafka-user';
import { applyObjects, parseManifests } from './manifests';
import { createEvents, createSeriesEvents, legacyEvent, seriesEvent, type ObjectRef } from './scenario-events';

/** The field manager of everything the (simulated) Argo CD applies. */
export const ARGO_FIELD_MANAGER = 'argocd-controller';

export interface SeedOptions {
  namespace: string;
  network: PodNetworkClient;
  servingCert: { certFile: string; keyFile: string };
  /** How long deleted pods stay Terminating (test kubelet); default 500 ms. */
  terminationMs?: number;
  /** How long new pods stay Pending once bound (test kubelet); default 0. */
  startDelayMs?: number;
  /** Changes to the Deployment manifest before it is applied (e.g. a RollingUpdate strategy). */
  adjustDeployment?: (deployment: V1Deployment) => V1Deployment;
}

export interface SeededScenario {
  namespace: string;
  scenario: Scenario;
  kubelet: TestKubelet;
  /** deployment.yaml as Git holds it for this namespace (the manifest Argo CD applies). */
  deploymentManifest: string;
  deploymentUid: string;
  close(): Promise<void>;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`seed: ${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** deployment.yaml of the GitOps repo for the scenario's state, in `namespace`. */
export function gitopsDeployment(scenario: Scenario, namespace: string): { yaml: string; object: V1Deployment } {
  const restartedAt = scenario.deployment.templateAnnotations[RESTARTED_AT_ANNOTATION] ?? null;
  const manifest = torghutGitOpsTree({ replicas: scenario.deployment.replicas, restartedAt })[TORGHUT_DEPLOYMENT_PATH];
  if (!manifest) throw new Error(`the seeded GitOps tree has no ${TORGHUT_DEPLOYMENT_PATH}`);
  const yaml = manifest.replace(/^(\s+namespace:\s*)torghut\s*$/m, `$1${namespace}`);
  const object = parseManifests(yaml)[0] as V1Deployment;
  const annotations = object.spec!.template.metadata!.annotations ?? {};
  object.spec!.template.metadata!.annotations = { ...annotations, ...scenario.deployment.templateAnnotations };
  // Seeded as Argo CD applied it: marked with the scenario's application (the ownership check reads it).
  const tracking = scenario.deployment.argoTracking;
  if (tracking?.by === 'annotation') {
    const id = trackingIdOf(tracking.application, { group: 'apps', kind: 'Deployment', namespace, name: scenario.deployment.name });
    object.metadata = { ...object.metadata, annotations: { ...object.metadata?.annotations, [TRACKING_ID_ANNOTATION]: id } };
  } else if (tracking?.by === 'label') {
    object.metadata = { ...object.metadata, labels: { ...object.metadata?.labels, [INSTANCE_LABEL]: tracking.application } };
  }
  return { yaml, object };
}

export async function seedScenario(admin: KubeConfig, scenario: Scenario, options: SeedOptions): Promise<SeededScenario> {
  const core = admin.makeApiClient(CoreV1Api);
  const apps = admin.makeApiClient(AppsV1Api);
  const { namespace } = options;
  const name = scenario.deployment.name;

  await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'agentruns.test/scenario': 'true' } } } });
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  if (scenario.configMap.present) {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: scenario.configMap.name, labels: { app: name } }, data: scenario.configMap.data } });
  }
  let kafkaUserUid: string | undefined;
  const kafkaUser = kafkaUserOf(scenario);
  if (kafkaUser.crdInstalled) await ensureKafkaUserCrd(admin);
  if (kafkaUser.crdInstalled && kafkaUser.state !== 'absent') {
    kafkaUserUid = await createKafkaUser(admin, {
      name: kafkaUser.name,
      namespace,
      secretName: kafkaUser.secret,
      ready: kafkaUser.state === 'ready',
      reason: kafkaUser.reason,
      message: kafkaUser.message,
    });
  }
  if (scenario.secret.present) {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: scenario.secret.name,
          labels: { 'app.kubernetes.io/instance': name, 'strimzi.io/cluster': 'kafka', 'strimzi.io/kind': 'KafkaUser' },
          ...(kafkaUserUid
            ? { ownerReferences: [{ apiVersion: 'kafka.strimzi.io/v1beta2', kind: 'KafkaUser', name: kafkaUser.name, uid: kafkaUserUid, controller: true, blockOwnerDeletion: false }] }
            : {}),
        },
        type: 'Opaque',
        // What Strimzi's User Operator writes for SCRAM-SHA-512 (fake values: nothing reads them).
        data: Object.fromEntries(['password', 'sasl.jaas.config'].map((key) => [key, Buffer.from(`agentruns-fake-${key}`).toString('base64')])),
      },
    });
  }

  const gitops = gitopsDeployment(scenario, namespace);
  const desired = options.adjustDeployment ? options.adjustDeployment(gitops.object) : gitops.object;
  await applyObjects(admin, [desired], ARGO_FIELD_MANAGER);
  const replicas = scenario.deployment.replicas;
  const podsOf = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items.sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  const pods = await until(`${replicas} pod(s) of ${namespace}/${name}`, 30_000, async () => {
    const items = await podsOf();
    return items.length >= replicas ? items : undefined;
  });

  const kubelet = await TestKubelet.start({
    kubeConfig: admin,
    namespace,
    scenario,
    network: options.network,
    servingCert: options.servingCert,
    terminationMs: options.terminationMs,
    startDelayMs: options.startDelayMs,
  });
  try {
    const deployment = await apps.readNamespacedDeployment({ name, namespace });
    const rs = (await apps.listNamespacedReplicaSet({ namespace })).items[0];
    const refs: Record<string, ObjectRef> = {
      deployment: { kind: 'Deployment', name, uid: deployment.metadata?.uid },
      replicaset: { kind: 'ReplicaSet', name: rs?.metadata?.name ?? `${name}-unknown`, uid: rs?.metadata?.uid },
    };
    pods.forEach((pod, i) => (refs[`pod/${i}`] = { kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid }));
    refs.pod = refs['pod/0'] ?? { kind: 'Pod', name: `${refs.replicaset!.name}-xxxxx` };
    const now = new Date();
    const resolve = (object: string): ObjectRef => {
      const known = refs[object] ?? (/^pod\/\d+$/.test(object) ? refs.pod : undefined);
      if (known) return known;
      const [kind = object, ...rest] = object.split('/');
      return { kind, name: rest.join('/'), ...(kind === 'KafkaUser' && kafkaUserUid ? { uid: kafkaUserUid } : {}) };
    };
    const message = (text: string) => text.replaceAll('{replicaset}', refs.replicaset!.name).replaceAll('{pod}', refs.pod!.name);
    const legacy = scenario.events.filter((e) => e.api === 'core/v1');
    await createEvents(admin, namespace, legacy.map((event) => legacyEvent(namespace, resolve(event.object), { ...event, message: message(event.message) }, now)));
    const newer = scenario.events.filter((e) => e.api === 'events.k8s.io/v1');
    await createSeriesEvents(
      admin,
      namespace,
      newer.map((e) => seriesEvent(namespace, resolve(e.object), { type: e.type, reason: e.reason, note: message(e.message), count: e.count, secondsAgo: e.secondsAgo, firstSecondsAgo: e.secondsAgo + (e.count - 1) * 30 }, now)),
    );

    await kubelet.settled();
    await waitForDeploymentStatus(admin, namespace, name);
    return {
      namespace,
      scenario,
      kubelet,
      deploymentManifest: gitops.yaml,
      deploymentUid: deployment.metadata!.uid!,
      close: () => kubelet.stop(),
    };
  } catch (err) {
    await kubelet.stop().catch(() => undefined);
    throw err;
  }
}

/** Waits until the Deployment controller's status agrees with the pods (ready count, observed generation). */
export async function waitForDeploymentStatus(admin: KubeConfig, namespace: string, name: string, timeoutMs = 20_000): Promise<V1Deployment> {
  const core = admin.makeApiClient(CoreV1Api);
  const apps = admin.makeApiClient(AppsV1Api);
  return until(`the status of deployment ${namespace}/${name}`, timeoutMs, async () => {
    const deployment = await apps.readNamespacedDeployment({ name, namespace });
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items;
    const ready = pods.filter(
      (p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    const s = deployment.status;
    const caughtUp = (s?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) && (s?.readyReplicas ?? 0) === ready;
    return caughtUp ? deployment : undefined;
  });
}
