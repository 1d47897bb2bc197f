/**
 * Every Kubernetes activity against the real kube-apiserver, once with the admin's token and once as
 * the worker's ServiceAccount with deploy/kubernetes/rbac.yaml applied as it is: deployment facts,
 * pods, events, log tail (through the API server to the test kubelet's endpoint), probes through
 * pods/proxy into the pod network, the Kafka credential check, the ConfigMap, rollout status, and the
 * named failures of a wrong name, a wrong token and a server that is gone.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes';
import { clusterAccessOf, tokenKubeconfigYaml } from '../../devstack/control-plane/kubeconfig';
import { freePort } from '../../devstack/tools';
import { loadScenario, parseScenario } from '../../sim/scenario';
import { closeSeeded, seeded, workerKubeConfig, type SeededNamespace } from '../support/kube';

afterAll(closeSeeded);

describe.each([
  ['the admin', (s: SeededNamespace) => Promise.resolve(s.admin)],
  ['the worker ServiceAccount (shipped RBAC)', (s: SeededNamespace) => workerKubeConfig(s.admin, s.namespace)],
])('a 406 incident on the real API server, read as %s', (_who, kubeConfigOf) => {
  let s: SeededNamespace;
  let kube: KubernetesActivities;
  beforeAll(async () => {
    s = await seeded('alpaca-406');
    kube = createKubernetesActivities(await kubeConfigOf(s));
  });

  it('deployment facts: replicas, not ready, the restartedAt annotation, the current ReplicaSet', async () => {
    const facts = await kube.getDeploymentFacts(s.target);
    expect(facts).toMatchObject({ name: 'torghut-ws', namespace: s.namespace, replicas: 1, readyReplicas: 0, updatedReplicas: 1, generation: 1, observedGeneration: 1 });
    expect(facts.templateAnnotations['kubectl.kubernetes.io/restartedAt']).toBe('2026-01-01T09:14:00Z');
    expect(facts.conditions).toContainEqual(expect.objectContaining({ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }));
    expect(facts.podScope?.replicaSet).toMatchObject({ name: expect.stringMatching(/^torghut-ws-[a-z0-9]+$/), revision: 1 });
  });

  it('pods: the one pod, Running and not Ready, on the test kubelet\'s Node, started two hours ago', async () => {
    const pods = await kube.listPods(s.target);
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatchObject({ phase: 'Running', ready: false, restarts: 0, nodeName: s.kubelet.nodeName });
    expect(pods[0]!.ageSeconds).toBeGreaterThanOrEqual(7260);
    expect(pods[0]!.ignored).toBeUndefined();
  });

  it('events: the scenario\'s and the controllers\' own, about the target only, newest first', async () => {
    const events = await kube.listEvents(s.target);
    expect(events[0]).toMatchObject({ type: 'Normal', reason: expect.stringMatching(/SuccessfulCreate|ScalingReplicaSet/) });
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Unhealthy', count: 143, object: expect.stringMatching(/^Pod\/torghut-ws-/) }));
    expect(events).toContainEqual(expect.objectContaining({ reason: 'ScalingReplicaSet', object: 'Deployment/torghut-ws', message: expect.stringMatching(/Scaled up replica set torghut-ws-\w+ (from 0 )?to 1/) }));
    const times = events.map((e) => e.lastTimestamp!);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('log tail: pods/log through the API server to the kubelet endpoint, the 406 frame in, the Alpaca secret redacted', async () => {
    const logs = await kube.tailLogs(s.target);
    expect(logs.pod).toMatch(/^torghut-ws-/);
    expect(logs.lines.some((l) => l.includes('{"T":"error","code":406,"msg":"connection limit exceeded"}'))).toBe(true);
    expect(logs.lines.some((l) => l.includes('"secret":"[REDACTED]"'))).toBe(true);
    for (const secret of s.scenario.secretsInLogs) expect(JSON.stringify(logs)).not.toContain(secret);
    expect(logs.truncated).toBe(false);
  });

  it('probes: pods/proxy reaches the pod address in the pod network: /healthz 200, /readyz 503 with its error_class', async () => {
    const probes = await kube.probePods(s.target);
    expect(probes.map((p) => [p.path, p.status])).toEqual([['/healthz', 200], ['/readyz', 503]]);
    expect(JSON.parse(probes[1]!.body)).toMatchObject({ error_class: 'alpaca_406_second_connection', gates: { alpaca_ws: false } });
  });

  it('Kafka credentials: the KafkaUser is Ready and names its Secret; nothing of the Secret is read', async () => {
    const credentials = await kube.checkKafkaCredentials(s.target);
    expect(credentials.kafkaUser).toMatchObject({ name: 'torghut-ws', found: true, ready: 'True', secret: 'torghut-ws', username: 'torghut-ws' });
    expect(credentials.missingSecrets).toEqual([]);
    expect(JSON.stringify(credentials)).not.toContain(Buffer.from('agentruns-fake-password').toString('base64'));
  });

  it('ConfigMap and rollout status', async () => {
    expect(await kube.getConfigMapValue(s.target, 'KAFKA_BOOTSTRAP')).toBe('kafka-kafka-bootstrap.kafka:9092');
    expect(await kube.getConfigMapValue(s.target, 'NOPE')).toBeNull();
    expect(await kube.rolloutStatus(s.target)).toMatchObject({ complete: false, replicas: 1, updatedReplicas: 1, availableReplicas: 0, restartedAt: '2026-01-01T09:14:00Z' });
  });
});

describe('the Strimzi KafkaUser of the test bed', () => {
  it('carries the operator\'s status (Ready, username, the Secret it wrote); a scenario without the Secret has a NotReady KafkaUser', async () => {
    const present = await seeded('kafka-auth');
    const api = present.admin.makeApiClient(CustomObjectsApi);
    const user = (await api.getNamespacedCustomObject({ group: 'kafka.strimzi.io', version: 'v1beta2', plural: 'kafkausers', namespace: present.namespace, name: 'torghut-ws' })) as {
      status?: { conditions?: Array<{ type: string; status: string }>; secret?: string; username?: string };
    };
    expect(user.status).toMatchObject({ secret: 'torghut-ws', username: 'torghut-ws', conditions: [{ type: 'Ready', status: 'True' }] });
    const missing = await seeded('kafka-secret-missing');
    const credentials = await createKubernetesActivities(missing.admin).checkKafkaCredentials(missing.target);
    expect(credentials.kafkaUser).toMatchObject({ name: 'torghut-ws', found: true, ready: 'False' });
  });
});

describe('log limits, probe failures and API failures on the real server', () => {
  it('tailLines and limitBytes are honoured end to end; a cut line is dropped and reported', async () => {
    const s = await seeded('alpaca-406');
    const kube = createKubernetesActivities(s.admin);
    const few = await kube.tailLogs({ ...s.target, logTailLines: 3 });
    expect(few.lines).toHaveLength(3);
    expect(few.lines[2]).toContain('alpaca stream rejected');
    const cut = await kube.tailLogs({ ...s.target, logLimitBytes: 300 });
    expect(cut.truncated).toBe(true);
    expect(cut.lines.join('\n').length).toBeLessThan(300);
  });

  it('a pod whose port refuses connections is unreachable (status null, the API server\'s proxy error); a hung /readyz is bounded', async () => {
    const base = await loadScenario('unknown');
    const refused = await seeded(parseScenario({ ...base, readiness: { unreachable: true }, liveness: { unreachable: true } }));
    const kube = createKubernetesActivities(refused.admin);
    const probes = await kube.probePods(refused.target);
    expect(probes.map((p) => p.status)).toEqual([null, null]);
    expect(probes[0]!.error).toMatch(/connect: connection refused|error trying to reach service/);

    const hung = await seeded(parseScenario({ ...base, readiness: { status: 200, body: 'late', delayMs: 5000 } }));
    const started = Date.now();
    const slow = await createKubernetesActivities(hung.admin).probePods({ ...hung.target, probeTimeoutMs: 700 });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(slow.find((p) => p.path === '/readyz')).toMatchObject({ status: null, error: 'timed out after 700ms' });
  });

  it('direct probes (health.directBaseUrl) reach the pod address itself, without the API server', async () => {
    const s = await seeded('kafka-metadata');
    const [pod] = (await s.admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: s.namespace })).items;
    const direct = { ...s.target, health: { ...s.target.health, directBaseUrl: `http://${pod!.status!.podIP!}:8080` } };
    const probes = await createKubernetesActivities(s.admin).probePods(direct);
    expect(probes.map((p) => [p.path, p.status])).toEqual([['/healthz', 200], ['/readyz', 503]]);
    expect(JSON.parse(probes[1]!.body)).toMatchObject({ error_class: 'kafka_metadata' });
  });

  it('a wrong name is a non-retryable NotFoundError; a bad token NotAllowedError; a server that is gone a retryable UpstreamError', async () => {
    const s = await seeded('healthy');
    const kube = createKubernetesActivities(s.admin);
    await expect(kube.getDeploymentFacts({ ...s.target, deployment: 'nope' })).rejects.toMatchObject({ type: 'NotFoundError', nonRetryable: true, message: expect.stringContaining('deployments.apps "nope" not found') });

    const access = clusterAccessOf(s.admin);
    const stranger = new KubeConfig();
    stranger.loadFromString(tokenKubeconfigYaml(access, 'stranger', 'not-a-token'));
    await expect(createKubernetesActivities(stranger).getDeploymentFacts(s.target)).rejects.toMatchObject({ type: 'NotAllowedError', nonRetryable: true });

    const gone = new KubeConfig();
    gone.loadFromString(tokenKubeconfigYaml({ ...access, server: `https://127.0.0.1:${await freePort()}` }, 'admin', 'x'));
    await expect(createKubernetesActivities(gone).getDeploymentFacts(s.target)).rejects.toMatchObject({ type: 'UpstreamError', nonRetryable: false });
  });
});
