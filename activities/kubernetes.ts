/**
 * Kubernetes activities: the read-only facts of the diagnosis (deployment, pods, events, log tail,
 * probes, Kafka credentials, configmap value, rollout status) and the one emergency write (the
 * restartedAt patch of `kubectl rollout restart`).
 *
 * Thin adapters over `@kubernetes/client-node` 1.x (object-parameter API). Client failures become the
 * named failures of ./errors (404 NotFoundError, 401/403 NotAllowedError, network/5xx UpstreamError
 * retryable). Log lines and probe bodies are redacted before they leave an activity. No Secret is
 * ever requested: the Kafka credentials are checked through the Strimzi KafkaUser's status and the
 * pods' container states (the shipped Role grants nothing on secrets). Nothing here logs what it reads.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import type { ApplicationFailure } from '@temporalio/common';
import {
  RESTARTED_AT_ANNOTATION,
  type DeploymentFacts,
  type DiagnosisTarget,
  type EventFact,
  type KafkaCredentials,
  type LogTail,
  type MissingSecret,
  type PodFacts,
  type ProbeResult,
} from '../domain/diagnosis';
import { absentKafkaUser, KAFKA_USER_RESOURCE, kafkaUserFacts, kafkaUserNotFound, missingSecretOfContainer } from '../domain/kafka-credentials';
import { redact, redactLines } from '../domain/redact';
import { failureFromStatus, namedFailure } from './errors';

/** Probe bodies are evidence, not payload: keep the first 4 KiB. */
export const PROBE_BODY_LIMIT = 4096;
/** Upper bound of events fetched from the API server before filtering to the target's objects. */
const EVENTS_FETCH_LIMIT = 500;

export interface RolloutStatus {
  observedGeneration: number;
  generation: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** The same test as `kubectl rollout status`: observed, all updated, old gone, all available. */
  complete: boolean;
  restartedAt: string | null;
}

/** The slice of a runbook config the Kubernetes activities need. */
// ---- error mapping ----------------------------------------------------------------------------

interface StatusBody {
  reason?: string;
  message?: string;
}

/** client-node puts the raw response text of a non-2xx answer in ApiException.body. */
function statusOf(body: unknown): StatusBody | undefined {
  let value: unknown = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  const isStatus = typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Status';
  return isStatus ? (value as StatusBody) : undefined;
}

/** Maps any client error to a named failure; the message keeps the API's reason, never headers. */
export function kubeFailure(err: unknown, what: string): ApplicationFailure {
  if (err instanceof ApiException) {
    const status = statusOf(err.body);
    const detail = status?.message ? `${status.reason ?? 'Failure'}: ${status.message}` : `HTTP ${err.code}`;
    return failureFromStatus(err.code, what, new Error(redact(detail)));
  }
  if (isApplicationFailure(err)) return err;
  return failureFromStatus(undefined, what, new Error(redact(err instanceof Error ? err.message : String(err))));
}

function isApplicationFailure(err: unknown): err is ApplicationFailure {
  return err instanceof Error && err.name === 'ApplicationFailure';
}

async function kube<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kubeFailure(err, what);
  }
}

const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

// ---- mapping of API objects to domain facts ---------------------------------------------------

const toIso = (value: Date | string | undefined): string | undefined =>
  value === undefined ? undefined : value instanceof Date ? value.toISOString() : value;

export function deploymentFacts(d: V1Deployment): DeploymentFacts {
  return {
    name: d.metadata?.name ?? '',
    namespace: d.metadata?.namespace ?? '',
    generation: d.metadata?.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
    replicas: d.spec?.replicas ?? 1,
    readyReplicas: d.status?.readyReplicas ?? 0,
    updatedReplicas: d.status?.updatedReplicas ?? 0,
    availableReplicas: d.status?.availableReplicas ?? 0,
    templateAnnotations: { ...(d.spec?.template.metadata?.annotations ?? {}) },
    conditions: (d.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: redact(c.message) } : {}),
    })),
  };
}

export function rolloutStatusOf(d: V1Deployment): RolloutStatus {
  const generation = d.metadata?.generation ?? 0;
  const observedGeneration = d.status?.observedGeneration ?? 0;
  const replicas = d.spec?.replicas ?? 1;
  const current = d.status?.replicas ?? 0;
  const updatedReplicas = d.status?.updatedReplicas ?? 0;
  const availableReplicas = d.status?.availableReplicas ?? 0;
  return {
    observedGeneration,
    generation,
    replicas,
    updatedReplicas,
    readyReplicas: d.status?.readyReplicas ?? 0,
    availableReplicas,
    complete: observedGeneration >= generation && updatedReplicas >= replicas && current <= updatedReplicas && availableReplicas >= updatedReplicas,
    restartedAt: d.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] ?? null,
  };
}

export function podFacts(pod: V1Pod, now: Date): PodFacts {
  const startedAt = toIso(pod.status?.startTime);
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
    ...(startedAt ? { startedAt, ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(startedAt)) / 1000)) } : {}),
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
  };
}

const eventTime = (e: CoreV1Event): string | undefined =>
  toIso(e.lastTimestamp) ?? toIso(e.eventTime) ?? toIso(e.firstTimestamp) ?? toIso(e.metadata.creationTimestamp);

function eventFact(e: CoreV1Event): EventFact {
  const at = eventTime(e);
  return {
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: redact(e.message ?? ''),
    object: `${e.involvedObject.kind ?? '?'}/${e.involvedObject.name ?? '?'}`,
    count: e.count ?? 1,
    ...(at ? { lastTimestamp: at } : {}),
  };
}

/** Events about the Deployment, its ReplicaSets (`name-hash`) and their pods (`name-hash-id`). */
function concernsTarget(e: CoreV1Event, deployment: string, podNames: Set<string>): boolean {
  const { kind, name = '' } = e.involvedObject;
  if (kind === 'Deployment') return name === deployment;
  if (kind === 'ReplicaSet') return name.startsWith(`${deployment}-`);
  if (kind === 'Pod') return podNames.has(name) || name.startsWith(`${deployment}-`);
  return false;
}

/** Ready pods after not-ready ones; newest first inside each group. */
function byInterest(a: PodFacts, b: PodFacts): number {
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  return (b.startedAt ?? '').localeCompare(a.startedAt ?? '');
}

/** Containers (init containers too) of a pod that wait because a Secret is not found. */
export function missingSecretsOfPod(pod: V1Pod): MissingSecret[] {
  const name = pod.metadata?.name ?? '';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.flatMap((c) => missingSecretOfContainer(name, c.name, c.state?.waiting) ?? []);
}

/** Splits a log tail; a cut at limitBytes leaves a partial last line, which is dropped. */
export function splitLogTail(text: string, limitBytes: number): { lines: string[]; truncated: boolean } {
  const truncated = Buffer.byteLength(text, 'utf8') >= limitBytes;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else if (truncated) lines.pop();
  return { lines, truncated };
}

// ---- probes -------------------------------------------------------------------------------------

interface RawAnswer {
  status: number;
  body: string;
}

/** Reads at most `limit` bytes of a response, then stops reading. */
function readLimited(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        res.destroy();
        resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
      }
    });
    res.on('end', () => resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8')));
    res.on('error', reject);
  });
}

class ProbeTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms}ms`);
    this.name = 'ProbeTimeout';
  }
}

/** GET through the API server with the kubeconfig's credentials and TLS settings (any status is an answer). */
async function apiServerGet(kc: KubeConfig, path: string, timeoutMs: number): Promise<RawAnswer> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw namedFailure('InputError', 'kubeconfig has no current cluster');
  const url = new URL(path, server.endsWith('/') ? server : `${server}/`);
  const options: RequestOptions & Record<string, unknown> = { method: 'GET', headers: { Accept: '*/*' } };
  await kc.applyToHTTPSOptions(options);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res) => {
      readLimited(res, PROBE_BODY_LIMIT).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new ProbeTimeout(timeoutMs)));
    req.on('error', reject);
    req.end();
  });
}

/** GET a direct URL (Service or pod address) with fetch, bounded by the probe timeout. */
async function directGet(url: string, timeoutMs: number): Promise<RawAnswer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, body: Buffer.from(text, 'utf8').subarray(0, PROBE_BODY_LIMIT).toString('utf8') };
}

const proxyPath = (t: DiagnosisTarget, pod: string, path: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(pod)}:${t.health.port}/proxy${path}`;

/**
 * Turns an answer into a probe result. The API server's own failures (a `Status` object) are told
 * apart from the pod's answer: 401/403 means we may not probe at all (an error), anything else means
 * the pod could not be reached (status null).
 */
function probeResult(pod: string, path: string, answer: RawAnswer, viaProxy: boolean): ProbeResult {
  const status = viaProxy ? statusOf(answer.body) : undefined;
  if (status && (answer.status === 401 || answer.status === 403)) {
    throw failureFromStatus(answer.status, `probe ${path} of pod ${pod}`, new Error(redact(status.message ?? '')));
  }
  if (status && answer.status >= 400) {
    return { pod, path, status: null, body: '', error: redact(`${status.reason ?? 'Failure'}: ${status.message ?? ''}`) };
  }
  return { pod, path, status: answer.status, body: redact(answer.body) };
}

function probeError(pod: string, path: string, err: unknown): ProbeResult {
  if (isApplicationFailure(err)) throw err;
  const cause = err instanceof Error ? ((err as Error & { cause?: unknown }).cause ?? err) : err;
  const message = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : cause instanceof Error ? cause.message : String(cause);
  return { pod, path, status: null, body: '', error: redact(message) };
}

// ---- the activities ---------------------------------------------------------------------------

export interface KubernetesActivityOptions {
  now?: () => Date;
}

export function createKubernetesActivities(kc: KubeConfig, options: KubernetesActivityOptions = {}) {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const now = options.now ?? (() => new Date());
  const deploymentName = (t: DiagnosisTarget): string => `deployment ${t.namespace}/${t.deployment}`;

  const readDeployment = (t: DiagnosisTarget): Promise<V1Deployment> =>
    kube(`read ${deploymentName(t)}`, () => apps.readNamespacedDeployment({ name: t.deployment, namespace: t.namespace }));

  async function getDeploymentFacts(t: DiagnosisTarget): Promise<DeploymentFacts> {
    return deploymentFacts(await readDeployment(t));
  }

  /** Pods of the target, not-ready first, newest first. */
  async function listPods(t: DiagnosisTarget): Promise<PodFacts[]> {
    const list = await kube(`list pods ${t.namespace}/${t.podSelector}`, () =>
      core.listNamespacedPod({ namespace: t.namespace, labelSelector: t.podSelector }),
    );
    const at = now();
    return list.items.map((pod) => podFacts(pod, at)).sort(byInterest);
  }

  /** Events of the deployment, its ReplicaSets and pods; newest first, at most eventsLimit. */
  async function listEvents(t: DiagnosisTarget): Promise<EventFact[]> {
    const pods = await listPods(t);
    const list = await kube(`list events in ${t.namespace}`, () =>
      core.listNamespacedEvent({ namespace: t.namespace, limit: EVENTS_FETCH_LIMIT }),
    );
    const podNames = new Set(pods.map((p) => p.name));
    return list.items
      .filter((e) => concernsTarget(e, t.deployment, podNames))
      .sort((a, b) => (eventTime(b) ?? '').localeCompare(eventTime(a) ?? ''))
      .slice(0, t.eventsLimit)
      .map(eventFact);
  }

  /** The log tail of the most interesting pod (not ready, else newest), redacted line by line. */
  async function tailLogs(t: DiagnosisTarget): Promise<LogTail> {
    const [pod] = await listPods(t);
    if (!pod) throw namedFailure('NotFoundError', `no pods match ${t.podSelector} in ${t.namespace}`);
    const text = await kube(`read log of pod ${t.namespace}/${pod.name}`, () =>
      core.readNamespacedPodLog({
        name: pod.name,
        namespace: t.namespace,
        container: t.container,
        tailLines: t.logTailLines,
        limitBytes: t.logLimitBytes,
      }),
    );
    const { lines, truncated } = splitLogTail(typeof text === 'string' ? text : '', t.logLimitBytes);
    return { pod: pod.name, container: t.container, lines: redactLines(lines), truncated };
  }

  async function probe(t: DiagnosisTarget, pod: string, path: string): Promise<ProbeResult> {
    const direct = t.health.directBaseUrl;
    try {
      const answer = direct
        ? await directGet(`${direct.replace(/\/$/, '')}${path}`, t.probeTimeoutMs)
        : await apiServerGet(kc, proxyPath(t, pod, path), t.probeTimeoutMs);
      return probeResult(pod, path, answer, !direct);
    } catch (err) {
      return probeError(pod, path, err);
    }
  }

  /** Liveness and readiness of every pod (pods/proxy), or of the direct URL when configured. */
  async function probePods(t: DiagnosisTarget): Promise<ProbeResult[]> {
    const targets = t.health.directBaseUrl ? [new URL(t.health.directBaseUrl).host] : (await listPods(t)).map((p) => p.name);
    const paths = [t.health.livenessPath, t.health.readinessPath];
    return Promise.all(targets.flatMap((pod) => paths.map((path) => probe(t, pod, path))));
  }

  /**
   * Procedure C's credentials check without touching a Secret: the Strimzi KafkaUser (Ready, the
   * Secret it created, its user name) and the target's containers that wait for a missing Secret.
   * An absent KafkaUser is a finding; an API server without the KafkaUser CRD is a NotFoundError.
   */
  async function checkKafkaCredentials(t: DiagnosisTarget): Promise<KafkaCredentials> {
    const name = t.kafkaUser;
    if (!name) throw namedFailure('InputError', 'the runbook names no kafkaUser');
    const resource = `${KAFKA_USER_RESOURCE.plural}.${KAFKA_USER_RESOURCE.group}`;
    const readKafkaUser = async () => {
      try {
        const object: unknown = await custom.getNamespacedCustomObject({ ...KAFKA_USER_RESOURCE, namespace: t.namespace, name });
        return kafkaUserFacts(name, object);
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 404) throw kubeFailure(err, `read ${resource} ${t.namespace}/${name}`);
        if (kafkaUserNotFound(err.body, name) === 'absent') return absentKafkaUser(name);
        throw namedFailure('NotFoundError', `the API server does not serve ${resource}/${KAFKA_USER_RESOURCE.version}: is Strimzi installed?`);
      }
    };
    const [kafkaUser, pods] = await Promise.all([
      readKafkaUser(),
      kube(`list pods ${t.namespace}/${t.podSelector}`, () => core.listNamespacedPod({ namespace: t.namespace, labelSelector: t.podSelector })),
    ]);
    return {
      kafkaUser,
      ...(t.kafkaSecret ? { expectedSecret: t.kafkaSecret } : {}),
      missingSecrets: pods.items.flatMap(missingSecretsOfPod),
    };
  }

  /** One key of the target's ConfigMap (null when the ConfigMap or the key is absent). */
  async function getConfigMapValue(t: DiagnosisTarget, key: string): Promise<string | null> {
    const name = t.configMap;
    if (!name) return null;
    try {
      const cm = await core.readNamespacedConfigMap({ name, namespace: t.namespace });
      return cm.data?.[key] ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw kubeFailure(err, `read configmap ${t.namespace}/${name}`);
    }
  }

  async function rolloutStatus(t: DiagnosisTarget): Promise<RolloutStatus> {
    return rolloutStatusOf(await readDeployment(t));
  }

  /**
   * Emergency restart, the API equivalent of `kubectl rollout restart`: a strategic merge patch of
   * the pod-template restartedAt annotation. With `expectedReplicas` (runbook procedure A step 1) the
   * live `spec.replicas` is read first and, when it drifted, reset in the same patch, so the pods roll
   * once at the right count. Idempotent: the same value twice rolls the pods once.
   * Argo CD shows drift until the GitOps manifest carries the same annotation (and replicas).
   */
  async function patchRestartedAt(t: DiagnosisTarget, restartedAt: string, expectedReplicas?: number): Promise<RolloutStatus> {
    if (Number.isNaN(Date.parse(restartedAt))) throw namedFailure('InputError', `restartedAt is not a timestamp: ${restartedAt}`);
    if (expectedReplicas !== undefined && (!Number.isInteger(expectedReplicas) || expectedReplicas < 0)) {
      throw namedFailure('InputError', `expectedReplicas must be a non-negative integer, not ${String(expectedReplicas)}`);
    }
    const live = expectedReplicas === undefined ? undefined : (await readDeployment(t)).spec?.replicas ?? 1;
    const resetReplicas = expectedReplicas !== undefined && live !== expectedReplicas;
    const body = {
      spec: {
        ...(resetReplicas ? { replicas: expectedReplicas } : {}),
        template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } },
      },
    };
    const patched = await kube(`patch ${deploymentName(t)}`, () =>
      apps.patchNamespacedDeployment({ name: t.deployment, namespace: t.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
    );
    return rolloutStatusOf(patched);
  }

  return {
    getDeploymentFacts,
    listPods,
    listEvents,
    tailLogs,
    probePods,
    checkKafkaCredentials,
    getConfigMapValue,
    rolloutStatus,
    patchRestartedAt,
  };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
