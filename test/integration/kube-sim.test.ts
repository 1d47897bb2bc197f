/**
 * The Kubernetes activities against the simulated API server, through the real
 * `@kubernetes/client-node` and an ordinary kubeconfig: every scenario an on-call engineer meets,
 * the API failures they map to, the secrets that must never leave, and the restart that cures (or not).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKubernetesActivities, type KubernetesActivities } from '../../activities/kubernetes';
import { createVerifyActivities } from '../../activities/verify';
import { diagnosisTarget } from '../../domain/collect-diagnosis';
import { loadRunbookConfig } from '../../config/load-runbook';
import { describePodScope, type DiagnosisTarget } from '../../domain/diagnosis';
import { kubeconfigFor, startKubeSim, writeKubeconfig, type KubeSim } from '../../sim/kube-api';
import { apiDrop, apiError, apiHang, apiTooManyRequests } from '../../sim/kube-faults';
import { listScenarios, loadScenario, parseScenario, type Scenario, type ScenarioInput } from '../../sim/scenario';
import { diagnosisRead, DIAGNOSIS_READS, requestAttributes, roleAllows, shippedRoleRules } from '../support/kube-rbac';

/** The torghut-ws scenarios: the others are other services' (quote-api), diagnosed by their own runbooks. */
const SCENARIOS = (await Promise.all((await listScenarios()).map(async (name) => [name, (await loadScenario(name)).deployment.name] as const)))
  .filter(([, deployment]) => deployment === 'torghut-ws')
  .map(([name]) => name);
let target: DiagnosisTarget;
const running: KubeSim[] = [];

beforeAll(async () => {
  target = diagnosisTarget(await loadRunbookConfig());
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function environment(scenario: string | Scenario): Promise<{ sim: KubeSim; kube: KubernetesActivities; scenario: Scenario }> {
  const loaded = typeof scenario === 'string' ? await loadScenario(scenario) : scenario;
  const sim = await startKubeSim(loaded);
  running.push(sim);
  return { sim, kube: createKubernetesActivities(kubeconfigFor(sim)), scenario: loaded };
}

/** A scenario derived from a shipped one, for the odd situation no file needs. */
async function variant(name: string, change: Partial<ScenarioInput>): Promise<Scenario> {
  const base = await loadScenario(name);
  return parseScenario({ ...base, ...change });
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error & { type?: string; nonRetryable?: boolean } };
async function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/** Every read-only activity, the way the diagnosis fans them out. */
async function diagnose(kube: KubernetesActivities, t: DiagnosisTarget = target) {
  const [deployment, pods, events, logs, probes, credentials, bootstrap, rollout] = await Promise.all([
    settle(kube.getDeploymentFacts(t)),
    settle(kube.listPods(t)),
    settle(kube.listEvents(t)),
    settle(kube.tailLogs(t)),
    settle(kube.probePods(t)),
    settle(kube.checkKafkaCredentials(t)),
    settle(kube.getConfigMapValue(t, 'KAFKA_BOOTSTRAP')),
    settle(kube.rolloutStatus(t)),
  ]);
  return { deployment, pods, events, logs, probes, credentials, bootstrap, rollout };
}

function value<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

const readiness = (probes: Array<{ path: string; status: number | null }>): Array<number | null> =>
  probes.filter((p) => p.path === '/readyz').map((p) => p.status);

function expectNoSecretValues(result: unknown, scenario: Scenario): void {
  const text = JSON.stringify(result);
  for (const secret of scenario.secretsInLogs) expect(text).not.toContain(secret);
}

/** No request touched secrets, and every request the API server saw is a read the shipped Role grants. */
function expectOnlyGrantedReads(sim: KubeSim): void {
  const rules = shippedRoleRules();
  const api = sim.requests.filter((r) => r.target === 'api');
  expect(api.filter((r) => /\/secrets(\/|$)/.test(r.path))).toEqual([]);
  for (const r of api) {
    const attributes = requestAttributes(r.method, r.path, r.query);
    expect(attributes, `${r.method} ${r.path}`).toBeDefined();
    expect(diagnosisRead(attributes!), `${r.method} ${r.path} is not a read the diagnosis is known to make`).toBeDefined();
    expect(roleAllows(rules, attributes!), `${r.method} ${r.path} is not granted by the shipped Role`).toBe(true);
  }
}

describe('diagnosis of every scenario through client-node and a kubeconfig', () => {
  it.each(SCENARIOS)('%s: facts are collected, nothing is written, no Secret is asked for', async (name) => {
    const { sim, kube, scenario } = await environment(name);
    const result = await diagnose(kube);

    const facts = value(result.deployment);
    expect(facts).toMatchObject({ name: 'torghut-ws', namespace: 'torghut', replicas: scenario.deployment.replicas, generation: scenario.deployment.generation });
    expect(value(result.pods)).toHaveLength(scenario.deployment.replicas);
    expect(readiness(value(result.probes))).toHaveLength(scenario.deployment.replicas);
    expect(sim.writes()).toEqual([]);
    expectNoSecretValues(result, scenario);
    expectOnlyGrantedReads(sim);
  });

  it('every read listed for the Role is one the diagnosis really makes (the list is not stale)', async () => {
    const seen = new Set<string>();
    for (const name of SCENARIOS) {
      const { sim, kube } = await environment(name);
      await diagnose(kube);
      for (const r of sim.requests.filter((request) => request.target === 'api')) {
        const read = diagnosisRead(requestAttributes(r.method, r.path, r.query)!);
        if (read) seen.add(JSON.stringify(read));
      }
    }
    expect([...seen].sort()).toEqual(DIAGNOSIS_READS.map((read) => JSON.stringify(read)).sort());
  });

  it('the kubeconfig helper also works as a KUBECONFIG file', async () => {
    const { sim } = await environment('healthy');
    const dir = await mkdtemp(join(tmpdir(), 'kube-sim-'));
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(await writeKubeconfig(sim, dir));
      const facts = await createKubernetesActivities(kc).getDeploymentFacts(target);
      expect(facts.readyReplicas).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('what the on-call engineer sees per situation', () => {
  it('406 on the single replica: /readyz 503 body is a result, the 406 frame is in the redacted logs', async () => {
    const { kube, scenario } = await environment('alpaca-406');
    const probes = await kube.probePods(target);
    const ready = probes.find((p) => p.path === '/readyz')!;
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ error_class: 'alpaca_406_second_connection', gates: { alpaca_ws: false, kafka: true } });
    expect(probes.find((p) => p.path === '/healthz')).toMatchObject({ status: 200, body: 'ok' });

    const logs = await kube.tailLogs(target);
    expect(logs.lines.some((l) => l.includes('{"T":"error","code":406,"msg":"connection limit exceeded"}'))).toBe(true);
    expect(logs.lines.some((l) => l.includes('"secret":"[REDACTED]"'))).toBe(true);
    expectNoSecretValues(logs, scenario);
  });

  it('406 with two replicas: replicas 2 is reported and the logs come from the pod that is not ready', async () => {
    const { kube } = await environment('alpaca-406-two-replicas');
    const facts = await kube.getDeploymentFacts(target);
    expect(facts).toMatchObject({ replicas: 2, readyReplicas: 1 });
    const pods = await kube.listPods(target);
    expect(pods.map((p) => p.ready)).toEqual([false, true]);
    const logs = await kube.tailLogs(target);
    expect(logs.pod).toBe(pods[0]!.name);
    const probes = await kube.probePods(target);
    expect(readiness(probes).sort()).toEqual([200, 503]);
    const events = await kube.listEvents(target);
    expect(events.some((e) => e.reason === 'ScalingReplicaSet' && /to 2 from 1/.test(e.message))).toBe(true);
  });

  it('events are the target\'s own, newest first, capped by eventsLimit', async () => {
    const { kube } = await environment('alpaca-406-two-replicas');
    const events = await kube.listEvents(target);
    expect(events.map((e) => e.object.split('/')[0])).toEqual(expect.arrayContaining(['Pod', 'Deployment']));
    const times = events.map((e) => e.lastTimestamp!);
    expect([...times].sort().reverse()).toEqual(times);
    expect(await kube.listEvents({ ...target, eventsLimit: 1 })).toHaveLength(1);
  });

  it('readiness with no body comes back as 503 and empty; a malformed body comes back verbatim', async () => {
    const missing = await environment('readyz-missing');
    expect((await missing.kube.probePods(target)).find((p) => p.path === '/readyz')).toMatchObject({ status: 503, body: '' });
    const malformed = await environment('readyz-malformed');
    const probe = (await malformed.kube.probePods(target)).find((p) => p.path === '/readyz')!;
    expect(probe.status).toBe(503);
    expect(probe.body).toBe((malformed.scenario.readiness as { body: string }).body);
    expect(() => JSON.parse(probe.body) as unknown).toThrow();
  });

  it('Kafka auth: the JAAS password in the logs is redacted, the KafkaUser is Ready and names Secret torghut-ws', async () => {
    const { kube, scenario } = await environment('kafka-auth');
    const logs = await kube.tailLogs(target);
    expect(logs.lines.some((l) => l.includes('SaslAuthenticationException'))).toBe(true);
    expect(logs.lines.some((l) => l.includes('password="[REDACTED]"'))).toBe(true);
    expectNoSecretValues(logs, scenario);
    expect(await kube.checkKafkaCredentials(target)).toEqual({
      kafkaUser: { name: 'torghut-ws', found: true, ready: 'True', secret: 'torghut-ws', username: 'torghut-ws' },
      expectedSecret: 'torghut-ws',
      missingSecrets: [],
    });
  });

  it('Kafka Secret missing: the KafkaUser is NotReady with Strimzi\'s reason, reported as a finding, not an error', async () => {
    const { kube } = await environment('kafka-secret-missing');
    expect(await kube.checkKafkaCredentials(target)).toEqual({
      kafkaUser: {
        name: 'torghut-ws',
        found: true,
        ready: 'False',
        reason: 'InvalidResourceException',
        message: 'Secret torghut-ws-password with requested user password does not exist.',
        username: 'torghut-ws',
      },
      expectedSecret: 'torghut-ws',
      missingSecrets: [],
    });
  });

  it('Kafka Secret missing, restarted anyway: the new pod cannot create its container; the check and the events name the Secret', async () => {
    const { sim, kube } = await environment('kafka-secret-missing');
    sim.restartRollout('2026-02-09T14:30:00Z');
    const [pod] = await kube.listPods(target);
    expect(pod).toMatchObject({ phase: 'Pending', ready: false });
    const credentials = await kube.checkKafkaCredentials(target);
    expect(credentials.missingSecrets).toEqual([
      { secret: 'torghut-ws', object: `Pod/${pod!.name}`, container: 'torghut-ws', reason: 'CreateContainerConfigError', message: 'secret "torghut-ws" not found' },
    ]);
    const events = await kube.listEvents(target);
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Failed', object: `Pod/${pod!.name}`, message: 'Error: secret "torghut-ws" not found' }));
    await expect(kube.tailLogs(target)).rejects.toMatchObject({ message: expect.stringContaining('waiting to start: CreateContainerConfigError') });
    expect(readiness(await kube.probePods(target))).toEqual([null]);
  });

  it('KafkaUser deleted: absent, not an error; Strimzi not installed: a clear NotFoundError, so the source degrades', async () => {
    const deleted = await environment(await variant('kafka-auth', { kafkaUser: { state: 'absent' } }));
    expect((await deleted.kube.checkKafkaCredentials(target)).kafkaUser).toEqual({ name: 'torghut-ws', found: false, ready: 'Unknown' });

    const noStrimzi = await environment(await variant('kafka-auth', { kafkaUser: { crdInstalled: false } }));
    await expect(noStrimzi.kube.checkKafkaCredentials(target)).rejects.toMatchObject({
      type: 'NotFoundError',
      nonRetryable: true,
      message: 'the API server does not serve kafkausers.kafka.strimzi.io/v1beta2: is Strimzi installed?',
    });
  });

  it('Kafka metadata: the live KAFKA_BOOTSTRAP is read; an absent ConfigMap or key is null', async () => {
    const { kube } = await environment('kafka-metadata');
    expect(await kube.getConfigMapValue(target, 'KAFKA_BOOTSTRAP')).toBe('kafka-kafka-bootstrap.kafka:9093');
    expect(await kube.getConfigMapValue(target, 'NOT_THERE')).toBeNull();
    const gone = await environment(await variant('kafka-metadata', { configMap: { present: false } }));
    expect(await gone.kube.getConfigMapValue(target, 'KAFKA_BOOTSTRAP')).toBeNull();
  });
});

describe('API failures become named failures', () => {
  it('events 500, logs 403, KafkaUser 403: exactly those calls fail, the rest of the diagnosis works', async () => {
    const { kube, sim } = await environment('api-errors');
    const result = await diagnose(kube);
    expect(result.events).toMatchObject({ ok: false, error: { type: 'UpstreamError', nonRetryable: false } });
    expect(result.logs).toMatchObject({ ok: false, error: { type: 'NotAllowedError', nonRetryable: true } });
    expect(result.credentials).toMatchObject({ ok: false, error: { type: 'NotAllowedError', nonRetryable: true } });
    expect(!result.logs.ok && result.logs.error.message).toMatch(/pods\/log .* is forbidden/);
    expect(!result.credentials.ok && result.credentials.error.message).toMatch(/kafkausers\.kafka\.strimzi\.io "torghut-ws" is forbidden/);
    for (const ok of [result.deployment, result.pods, result.probes, result.bootstrap, result.rollout]) expect(ok.ok).toBe(true);
    expect(readiness(value(result.probes))).toEqual([503]);
    expect(sim.writes()).toEqual([]);
  });

  it('a wrong deployment name is a non-retryable NotFoundError carrying the API message', async () => {
    const { kube } = await environment('healthy');
    await expect(kube.getDeploymentFacts({ ...target, deployment: 'torghut-wss' })).rejects.toMatchObject({
      type: 'NotFoundError',
      nonRetryable: true,
      message: expect.stringContaining('deployments.apps "torghut-wss" not found'),
    });
  });

  it('an API server that answers 503 for the deployment is a retryable UpstreamError', async () => {
    const { kube } = await environment(await variant('alpaca-406', { faults: { deployment: 503 } }));
    await expect(kube.rolloutStatus(target)).rejects.toMatchObject({ type: 'UpstreamError', nonRetryable: false });
  });

  it('a wrong token is NotAllowedError; an API server that is gone is a retryable UpstreamError', async () => {
    const { sim } = await environment('healthy');
    const intruder = createKubernetesActivities(kubeconfigFor({ url: sim.url, token: 'not-the-token' }));
    await expect(intruder.listPods(target)).rejects.toMatchObject({ type: 'NotAllowedError' });
    const kube = createKubernetesActivities(kubeconfigFor(sim));
    await sim.close();
    await expect(kube.getDeploymentFacts(target)).rejects.toMatchObject({ type: 'UpstreamError', nonRetryable: false });
  });

  it('no pods to read logs from is a NotFoundError', async () => {
    const { kube } = await environment(await variant('alpaca-406', { deployment: { replicas: 0 } }));
    await expect(kube.tailLogs(target)).rejects.toMatchObject({ type: 'NotFoundError', message: expect.stringContaining('no pods match app=torghut-ws') });
  });
});

describe('log tail limits behave like the real API', () => {
  it('the simulated API cuts tailLines by line and limitBytes by byte', async () => {
    const { sim, scenario } = await environment('alpaca-406');
    const core = kubeconfigFor(sim).makeApiClient(CoreV1Api);
    const [pod] = (await core.listNamespacedPod({ namespace: 'torghut', labelSelector: 'app=torghut-ws' })).items;
    const name = pod!.metadata!.name!;
    const tail = await core.readNamespacedPodLog({ name, namespace: 'torghut', container: 'torghut-ws', tailLines: 3 });
    expect(tail).toBe(scenario.logs.slice(-3).map((l) => `${l}\n`).join(''));
    const cut = await core.readNamespacedPodLog({ name, namespace: 'torghut', container: 'torghut-ws', limitBytes: 100 });
    expect(Buffer.byteLength(cut)).toBe(100);
    expect(cut).toBe(scenario.logs.join('\n').slice(0, 100));
    await expect(core.readNamespacedPodLog({ name, namespace: 'torghut', container: 'sidecar' })).rejects.toMatchObject({ code: 400 });
  });

  it('tailLogs returns the last logTailLines lines, redacted', async () => {
    const { kube, scenario } = await environment('alpaca-406');
    const logs = await kube.tailLogs({ ...target, logTailLines: 5 });
    expect(logs.lines).toHaveLength(5);
    expect(logs.lines[4]).toBe(scenario.logs.at(-1));
    expect(logs.truncated).toBe(false);
  });

  it('tailLogs stops at logLimitBytes, drops the cut line and says it truncated', async () => {
    const { kube, scenario } = await environment('alpaca-406');
    const logs = await kube.tailLogs({ ...target, logLimitBytes: 1024 });
    expect(logs.truncated).toBe(true);
    expect(Buffer.byteLength(logs.lines.map((l) => `${l}\n`).join(''))).toBeLessThanOrEqual(1024);
    expect(logs.lines.length).toBeGreaterThan(2);
    for (const [i, line] of logs.lines.entries()) {
      if (!line.includes('[REDACTED]')) expect(line).toBe(scenario.logs[i]);
    }
  });
});

describe('secrets: no access at all', () => {
  it('the API server refuses every Secret request with the 403 the shipped Role gives, so a regression that reads one fails', async () => {
    const { sim } = await environment('kafka-auth');
    const core = kubeconfigFor(sim).makeApiClient(CoreV1Api);
    const refusal = async (call: Promise<unknown>) => {
      const err: unknown = await call.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ApiException);
      const { code, body } = err as ApiException<string>;
      return { code, status: JSON.parse(body) as Record<string, unknown> };
    };
    const sa = 'User "system:serviceaccount:agentruns:agentruns"';
    expect(await refusal(core.readNamespacedSecret({ name: 'torghut-ws', namespace: 'torghut' }))).toEqual({
      code: 403,
      status: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `secrets "torghut-ws" is forbidden: ${sa} cannot get resource "secrets" in API group "" in the namespace "torghut"`,
        reason: 'Forbidden',
        details: { name: 'torghut-ws', kind: 'secrets' },
        code: 403,
      },
    });
    expect((await refusal(core.listNamespacedSecret({ namespace: 'torghut' }))).status.message).toBe(
      `secrets is forbidden: ${sa} cannot list resource "secrets" in API group "" in the namespace "torghut"`,
    );
    expect((await refusal(core.listSecretForAllNamespaces())).status.message).toBe(`secrets is forbidden: ${sa} cannot list resource "secrets" in API group "" at the cluster scope`);
    expect((await refusal(core.deleteNamespacedSecret({ name: 'torghut-ws', namespace: 'torghut' }))).status.message).toMatch(/cannot delete resource "secrets"/);
    expect(sim.requests.filter((r) => r.path.includes('/secrets')).map((r) => r.status)).toEqual([403, 403, 403, 403]);
  });
});

describe('API faults: every call bounded by its deadline and its activity', () => {
  const bounded = async (requestTimeoutMs: number) => {
    const { sim } = await environment('alpaca-406');
    return { sim, kube: createKubernetesActivities(kubeconfigFor(sim), { requestTimeoutMs }) };
  };
  const apiRequests = (sim: KubeSim, path: RegExp) => sim.requests.filter((r) => r.target === 'api' && path.test(r.path));

  it('a hung pods/log read gives up at its deadline: a retryable UpstreamError naming the read, the connection closed, nothing more sent', async () => {
    const { sim, kube } = await bounded(500);
    sim.failNext(apiHang('pods/log'));
    const err = await kube.tailLogs(target).then(() => undefined, (e: unknown) => e as Error & { type?: string; nonRetryable?: boolean });
    expect(err).toMatchObject({ type: 'UpstreamError', nonRetryable: false, message: expect.stringMatching(/^read log of pod torghut\/torghut-ws-\S+: no answer within 500 ms \(request aborted\)$/) });
    await expect.poll(() => sim.inFlight(), { timeout: 2_000, interval: 20 }).toEqual([]);
    const [hung, ...more] = apiRequests(sim, /\/log$/);
    expect(more).toEqual([]);
    expect(hung).toMatchObject({ fault: 'hung' });
    // The client closed the connection at its deadline (not whenever the server might have answered);
    // the sim sees the request after the deadline started, so the lower bound only says "not at once".
    expect(hung!.abandonedAt! - hung!.at).toBeGreaterThanOrEqual(250);
    expect(hung!.abandonedAt! - hung!.at).toBeLessThan(3_000);
    expect(sim.requests.filter((r) => r.at > hung!.abandonedAt!)).toEqual([]);
  });

  it('cancelled with its activity (worker shutdown, attempt given up): the hung request is aborted at once, nothing more is sent', async () => {
    const { sim, kube } = await bounded(60_000);
    sim.failNext(apiHang('deployments'));
    const env = new MockActivityEnvironment();
    const running = env.run(kube.getDeploymentFacts, target).then(() => undefined, (e: unknown) => e);
    // The Deployment and its ReplicaSets are read at once; the ReplicaSets answer, the Deployment hangs.
    await expect.poll(() => apiRequests(sim, /\/deployments\/|\/replicasets$/).map((r) => (r.path.endsWith('/replicasets') ? `replicasets ${r.status}` : 'deployment')).sort(), { timeout: 5_000, interval: 20 }).toEqual(['deployment', 'replicasets 200']);
    const cancelledAt = Date.now();
    env.cancel('CANCELLED');
    expect(await running).toBeInstanceOf(CancelledFailure);
    await expect.poll(() => sim.inFlight(), { timeout: 2_000, interval: 20 }).toEqual([]);
    const [hung] = apiRequests(sim, /\/deployments\//);
    expect(hung!.abandonedAt! - cancelledAt).toBeLessThan(1_000);
    // An abandoned attempt sends nothing more (no second ReplicaSet list, no retry of its own).
    expect(sim.requests.filter((r) => r.at > cancelledAt)).toEqual([]);
  });

  it('429 with Retry-After → RateLimitedError retried after the API server\'s own delay', async () => {
    const { sim, kube } = await bounded(5_000);
    sim.failNext(apiTooManyRequests('events', 7));
    const err = await kube.listEvents(target).then(() => undefined, (e: unknown) => e as Error & { type?: string; nonRetryable?: boolean; nextRetryDelay?: unknown });
    expect(err).toMatchObject({ type: 'RateLimitedError', nonRetryable: false, nextRetryDelay: 7_000 });
    expect(err!.message).toMatch(/^list events in torghut: rate limited \(HTTP 429\), retry after 7 s/);
  });

  it('a dropped connection → retryable UpstreamError; 403 on a resource → NotAllowedError, not retried', async () => {
    const { sim, kube } = await bounded(5_000);
    sim.failNext(apiDrop('replicasets'));
    sim.failNext(apiError('kafkausers', 403));
    await expect(kube.rolloutStatus(target)).resolves.toMatchObject({ podScope: { replicaSet: null, fallback: expect.stringMatching(/^its ReplicaSets could not be read: list replicasets .*: unreachable/) } });
    await expect(kube.checkKafkaCredentials(target)).rejects.toMatchObject({ type: 'NotAllowedError', nonRetryable: true, message: expect.stringMatching(/^read kafkausers\.kafka\.strimzi\.io torghut\/torghut-ws: not allowed \(403\)/) });
    expect(apiRequests(sim, /replicasets/).map((r) => r.fault)).toEqual(['dropped']);
    expect(sim.inFlight()).toEqual([]);
  });
});

describe('probes', () => {
  it('a hung /readyz is bounded by probeTimeoutMs and reported as unreachable, not thrown', async () => {
    const hung = await variant('alpaca-406', { readiness: { status: 503, body: '', delayMs: 10_000 } });
    const { kube } = await environment(hung);
    const started = Date.now();
    const probes = await kube.probePods({ ...target, probeTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(probes.find((p) => p.path === '/readyz')).toMatchObject({ status: null, error: expect.stringMatching(/timed out/) });
    expect(probes.find((p) => p.path === '/healthz')).toMatchObject({ status: 200 });
  });

  it('a port that refuses connections is status null with the proxy error', async () => {
    const { kube } = await environment(await variant('alpaca-406', { readiness: { unreachable: true } }));
    const probe = (await kube.probePods(target)).find((p) => p.path === '/readyz')!;
    expect(probe).toMatchObject({ status: null, body: '' });
    expect(probe.error).toMatch(/connection refused/);
  });

  it('a wrong health port is unreachable through the proxy', async () => {
    const { kube } = await environment('healthy');
    const probes = await kube.probePods({ ...target, health: { ...target.health, port: 9090 } });
    expect(probes.map((p) => p.status)).toEqual([null, null]);
  });

  it('probes go straight to directBaseUrl when configured, without the API server', async () => {
    const { sim, kube } = await environment('alpaca-406');
    const probes = await kube.probePods({ ...target, health: { ...target.health, directBaseUrl: sim.podBaseUrl } });
    expect(probes.map((p) => [p.path, p.status])).toEqual([['/healthz', 200], ['/readyz', 503]]);
    expect(sim.requests.filter((r) => r.target === 'api')).toEqual([]);
  });
});

describe('restarts', () => {
  it('emergency restart on 406: new pods, restartedAt set, /readyz 200, rollout complete', async () => {
    const { sim, kube } = await environment('alpaca-406');
    const before = await kube.listPods(target);
    const status = await kube.patchRestartedAt(target, '2026-02-09T14:30:00Z');
    expect(status).toMatchObject({ restartedAt: '2026-02-09T14:30:00Z', generation: 15, observedGeneration: 15 });
    const after = await kube.listPods(target);
    expect(after.map((p) => p.name)).not.toEqual(before.map((p) => p.name));
    expect(after.every((p) => p.ready && p.restarts === 0)).toBe(true);
    expect(readiness(await kube.probePods(target))).toEqual([200]);
    expect(await kube.rolloutStatus(target)).toMatchObject({ complete: true, readyReplicas: 1 });
    expect(sim.writes()).toEqual([expect.objectContaining({ method: 'PATCH', contentType: 'application/strategic-merge-patch+json', status: 200 })]);
  });

  it('the same restartedAt patched twice rolls the pods once', async () => {
    const { sim, kube } = await environment('alpaca-406');
    await kube.patchRestartedAt(target, '2026-02-09T14:30:00Z');
    const pods = (await kube.listPods(target)).map((p) => p.name);
    const again = await kube.patchRestartedAt(target, '2026-02-09T14:30:00Z');
    expect(again.generation).toBe(15);
    expect((await kube.listPods(target)).map((p) => p.name)).toEqual(pods);
    expect(sim.snapshot().rollouts).toBe(1);
  });

  it('emergency restart with expectedReplicas on drifted replicas (procedure A step 1): one patch resets replicas to 1 and rolls new pods', async () => {
    const { sim, kube } = await environment('alpaca-406-two-replicas');
    const before = await kube.listPods(target);
    expect(before).toHaveLength(2);
    const status = await kube.patchRestartedAt(target, '2026-02-09T14:30:00Z', 1);
    expect(status).toMatchObject({ replicas: 1, restartedAt: '2026-02-09T14:30:00Z', generation: 16, observedGeneration: 16 });
    const after = await kube.listPods(target);
    expect(after).toHaveLength(1);
    expect(before.map((p) => p.name)).not.toContain(after[0]!.name);
    expect(after[0]).toMatchObject({ ready: true, restarts: 0 });
    expect(readiness(await kube.probePods(target))).toEqual([200]);
    expect(await kube.rolloutStatus(target)).toMatchObject({ complete: true, replicas: 1, readyReplicas: 1 });
    // One write, one rollout: the reset and the bump travel in the same strategic merge patch.
    expect(sim.writes()).toEqual([expect.objectContaining({ method: 'PATCH', contentType: 'application/strategic-merge-patch+json', status: 200 })]);
    expect(sim.snapshot()).toMatchObject({ replicas: 1, rollouts: 1, cured: true });
  });

  it('emergency restart with expectedReplicas when replicas did not drift: only the annotation changes', async () => {
    const { sim, kube } = await environment('alpaca-406');
    const status = await kube.patchRestartedAt(target, '2026-02-09T14:30:00Z', 1);
    expect(status).toMatchObject({ replicas: 1, generation: 15, restartedAt: '2026-02-09T14:30:00Z' });
    expect(sim.snapshot()).toMatchObject({ replicas: 1, rollouts: 1 });
    await expect(kube.patchRestartedAt(target, '2026-02-09T14:31:00Z', -1)).rejects.toMatchObject({ type: 'InputError' });
    expect(sim.writes()).toHaveLength(1);
  });

  it('a restart that does not cure (unknown): new pods, /readyz still 503, rollout never completes', async () => {
    const { kube } = await environment('unknown');
    const before = await kube.listPods(target);
    await kube.patchRestartedAt(target, '2026-02-09T14:30:00Z');
    const after = await kube.listPods(target);
    expect(after[0]!.name).not.toBe(before[0]!.name);
    expect(readiness(await kube.probePods(target))).toEqual([503]);
    expect(await kube.rolloutStatus(target)).toMatchObject({ complete: false, availableReplicas: 0 });
  });

  it('Argo applying the bumped manifest rolls the pods like the direct restart', async () => {
    const { sim, kube } = await environment('alpaca-406');
    sim.applyDeployment({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'torghut-ws', namespace: 'torghut' },
      spec: { replicas: 1, template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-02-09T14:35:00Z' } } } },
    });
    expect(await kube.rolloutStatus(target)).toMatchObject({ complete: true, restartedAt: '2026-02-09T14:35:00Z' });
    expect(readiness(await kube.probePods(target))).toEqual([200]);
  });

  it('two replicas: a bump alone does not cure; replicas back to 1 with a bump does', async () => {
    const { sim, kube } = await environment('alpaca-406-two-replicas');
    const manifest = (replicas: number, restartedAt: string) => ({
      kind: 'Deployment',
      metadata: { name: 'torghut-ws' },
      spec: { replicas, template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': restartedAt } } } },
    });
    sim.applyDeployment(manifest(2, '2026-02-09T14:30:00Z'));
    expect(readiness(await kube.probePods(target)).sort()).toEqual([200, 503]);
    sim.applyDeployment(manifest(1, '2026-02-09T14:40:00Z'));
    expect(await kube.getDeploymentFacts(target)).toMatchObject({ replicas: 1, readyReplicas: 1 });
    expect(readiness(await kube.probePods(target))).toEqual([200]);
  });

  it('flapping: the restart cures for two readiness checks, then /readyz is 503 again', async () => {
    const { sim, kube } = await environment('flapping');
    sim.restartRollout('2026-02-09T14:30:00Z');
    const seen = [];
    for (let i = 0; i < 4; i += 1) seen.push(...readiness(await kube.probePods(target)));
    expect(seen).toEqual([200, 200, 503, 503]);
    expect((await kube.listPods(target))[0]).toMatchObject({ ready: false, restarts: 1 });
    expect((await kube.tailLogs(target)).lines.some((l) => l.includes('"code":406'))).toBe(true);
  });
});

describe('pods of an old ReplicaSet, as a real cluster lists them', () => {
  it('a Terminating and an Evicted pod of the previous ReplicaSet are listed as ignored, never probed or tailed', async () => {
    const { kube } = await environment(await variant('alpaca-406', { oldPods: ['Terminating', 'Evicted'] }));
    const facts = await kube.getDeploymentFacts(target);
    expect(facts.podScope?.replicaSet).toMatchObject({ revision: 14, name: expect.stringMatching(/^torghut-ws-/) });
    const pods = await kube.listPods(target);
    expect(pods).toHaveLength(3);
    const [current, ...old] = pods;
    expect(current).toMatchObject({ replicaSet: facts.podScope!.replicaSet!.name, ready: false });
    expect(current!.ignored).toBeUndefined();
    expect(old.map((p) => p.ignored).sort()).toEqual([
      expect.stringMatching(/^old ReplicaSet torghut-ws-\w+, Failed \(Evicted\)$/),
      expect.stringMatching(/^old ReplicaSet torghut-ws-\w+, Terminating$/),
    ]);
    expect((await kube.probePods(target)).map((p) => p.pod)).toEqual([current!.name, current!.name]);
    expect((await kube.tailLogs(target)).pod).toBe(current!.name);
    expect(describePodScope(facts.podScope, pods)).toMatch(/^1 pod of the current ReplicaSet torghut-ws-\w+ \(revision 14\) considered; 2 pods ignored/);
  });

  it('healthy pods beside old ones: the rollout status names the current ReplicaSet and verification passes', async () => {
    const { kube } = await environment(await variant('healthy', { oldPods: ['Completed', 'Terminating'] }));
    const rollout = await kube.rolloutStatus(target);
    expect(rollout.podScope?.replicaSet?.name).toMatch(/^torghut-ws-/);
    const verify = createVerifyActivities(kube);
    const result = await verify.verifyRestart({ target, restartedAt: rollout.restartedAt!, timeoutMs: 1000, pollIntervalMs: 100 });
    expect(result).toMatchObject({ ok: true, detail: expect.stringMatching(/200 on every new pod: 1 pod of ReplicaSet torghut-ws-\w+; 2 old or finished pods ignored$/) });
  });

  it('without access to ReplicaSets every running pod of the selector counts, and the facts say why', async () => {
    const { kube } = await environment(await variant('alpaca-406', { oldPods: ['Evicted'], faults: { replicasets: 403 } }));
    const facts = await kube.getDeploymentFacts(target);
    expect(facts.podScope).toEqual({ replicaSet: null, fallback: expect.stringMatching(/ReplicaSets could not be read: .*not allowed \(403\)/) });
    const pods = await kube.listPods(target);
    expect(pods.map((p) => p.ignored)).toEqual([undefined, 'Failed (Evicted)']);
  });
});

describe('the simulator rejects what the real API server rejects', () => {
  const call = (sim: KubeSim, path: string, init: RequestInit = {}, token = sim.token) =>
    fetch(`${sim.url}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  const deployment = '/apis/apps/v1/namespaces/torghut/deployments/torghut-ws';

  it('answers 401, 404, 405 with real-shaped Status objects', async () => {
    const { sim } = await environment('healthy');
    const unauthorized = await call(sim, deployment, {}, 'nope');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const unknown = await call(sim, '/apis/apps/v1/namespaces/torghut/statefulsets/torghut-ws');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    const wrongMethod = await call(sim, deployment, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({ reason: 'MethodNotAllowed', code: 405 });
  });

  it('rejects malformed, unsupported and out-of-scope patches without changing anything', async () => {
    const { sim } = await environment('alpaca-406');
    const patch = (contentType: string, body: string) => call(sim, deployment, { method: 'PATCH', headers: { 'Content-Type': contentType }, body });
    expect((await patch('application/merge-patch+json', '{"spec": {')).status).toBe(400);
    expect((await patch('application/json-patch+json', '{"op":"add"}')).status).toBe(400);
    expect((await patch('application/json', '{}')).status).toBe(415);
    const image = await patch('application/merge-patch+json', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'x', image: 'y' }] } } } }));
    expect(image.status).toBe(422);
    expect((await patch('application/json-patch+json', JSON.stringify([{ op: 'replace', path: '/spec/nope/x', value: 1 }]))).status).toBe(422);
    expect(sim.snapshot().rollouts).toBe(0);
  });

  it('applies client-node\'s default JSON patch and a merge patch; a restartedAt change rolls the pods', async () => {
    const { sim } = await environment('alpaca-406');
    const jsonPatch = [{ op: 'replace', path: '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt', value: '2026-02-09T15:00:00Z' }];
    const first = await call(sim, deployment, { method: 'PATCH', headers: { 'Content-Type': 'application/json-patch+json' }, body: JSON.stringify(jsonPatch) });
    expect(first.status).toBe(200);
    expect(sim.snapshot()).toMatchObject({ rollouts: 1, cured: true, templateAnnotations: { 'kubectl.kubernetes.io/restartedAt': '2026-02-09T15:00:00Z' } });
    const scale = await call(sim, deployment, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{"spec":{"replicas":2}}' });
    expect(scale.status).toBe(200);
    expect(sim.snapshot()).toMatchObject({ replicas: 2, rollouts: 1 });
    expect(sim.snapshot().pods).toHaveLength(2);
  });

  it('filters events by fieldSelector and pages with limit/continue', async () => {
    const { sim } = await environment('alpaca-406-two-replicas');
    const byName = await call(sim, '/api/v1/namespaces/torghut/events?fieldSelector=involvedObject.name%3Dtorghut-ws,involvedObject.kind%3DDeployment');
    const items = ((await byName.json()) as { items: Array<{ involvedObject: { kind: string } }> }).items;
    expect(items.map((e) => e.involvedObject.kind)).toEqual(['Deployment']);
    const first = (await (await call(sim, '/api/v1/namespaces/torghut/events?limit=2')).json()) as { items: unknown[]; metadata: { continue?: string } };
    expect(first.items).toHaveLength(2);
    const rest = (await (await call(sim, `/api/v1/namespaces/torghut/events?limit=2&continue=${first.metadata.continue!}`)).json()) as { items: unknown[] };
    expect(rest.items).toHaveLength(1);
    expect((await call(sim, '/api/v1/namespaces/torghut/events?fieldSelector=spec.foo%3Dbar')).status).toBe(400);
  });
});
