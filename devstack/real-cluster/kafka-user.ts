/**
 * A minimal Strimzi `KafkaUser` (kafka.strimzi.io/v1beta2) for the test bed: the CRD with an open
 * schema and a status subresource, and the torghut-ws user whose status the User Operator would
 * write — `conditions[Ready]`, `username`, and `secret`, the name of the Secret holding its
 * credentials. Procedure C starts from "the KafkaUser secret exists", and a real cluster answers that
 * from this object; no operator runs here, so the test bed writes the status itself.
 */
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';

export const KAFKA_USER = { group: 'kafka.strimzi.io', version: 'v1beta2', plural: 'kafkausers', kind: 'KafkaUser' } as const;

export const kafkaUserCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${KAFKA_USER.plural}.${KAFKA_USER.group}`, labels: { app: 'strimzi', 'strimzi.io/crd-install': 'true' } },
  spec: {
    group: KAFKA_USER.group,
    names: { kind: KAFKA_USER.kind, listKind: 'KafkaUserList', plural: KAFKA_USER.plural, singular: 'kafkauser', shortNames: ['ku'], categories: ['strimzi'] },
    scope: 'Namespaced',
    versions: [
      {
        name: KAFKA_USER.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
};

/** Creates the CRD when it is missing and waits until the API server serves it. */
export async function ensureKafkaUserCrd(kc: KubeConfig, timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const name = kafkaUserCrd.metadata!.name!;
  try {
    await api.createCustomResourceDefinition({ body: kafkaUserCrd });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not established within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface KafkaUserState {
  name: string;
  namespace: string;
  /** The Secret the operator reports in status.secret. */
  secretName: string;
  ready: boolean;
  /** Strimzi's NotReady condition (the exception's class and message), when not ready. */
  reason?: string;
  message?: string;
}

/** Creates the KafkaUser and writes its operator status; returns its uid. */
export async function createKafkaUser(kc: KubeConfig, user: KafkaUserState): Promise<string> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = KAFKA_USER;
  const created = (await api.createNamespacedCustomObject({
    group,
    version,
    plural,
    namespace: user.namespace,
    body: {
      apiVersion: `${group}/${version}`,
      kind: KAFKA_USER.kind,
      metadata: { name: user.name, labels: { 'strimzi.io/cluster': 'kafka' } },
      spec: {
        authentication: { type: 'scram-sha-512' },
        authorization: {
          type: 'simple',
          acls: [{ resource: { type: 'topic', name: 'torghut.', patternType: 'prefix' }, operations: ['Write', 'Describe', 'Create'] }],
        },
      },
    },
  })) as { metadata: { uid: string; generation?: number } };
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await api.patchNamespacedCustomObjectStatus(
    {
      group,
      version,
      plural,
      namespace: user.namespace,
      name: user.name,
      body: {
        status: {
          observedGeneration: created.metadata.generation ?? 1,
          username: user.name,
          secret: user.secretName,
          conditions: user.ready
            ? [{ type: 'Ready', status: 'True', lastTransitionTime: now }]
            : [
                {
                  type: 'NotReady',
                  status: 'True',
                  reason: user.reason ?? 'InvalidResourceException',
                  message: user.message ?? 'Authentication type is not supported',
                  lastTransitionTime: now,
                },
              ],
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  return created.metadata.uid;
}
