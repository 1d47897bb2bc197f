/**
 * Kubernetes activities: the read-only facts of the diagnosis (deployment, pods, events, log tail,
 * probes, Kafka credentials, configmap value, rollout status) and the one emergency write (the
 * restartedAt patch of `kubectl rollout restart`).
 *
 * Pods are scoped to the Deployment's current ReplicaSet (the highest `deployment.kubernetes.io/revision`
 * among the ReplicaSets it controls, matched by `pod-template-hash`): on a real cluster the pods of
 * earlier ReplicaSets keep the Deployment's labels while they terminate, and Evicted or Completed
 * pods stay listed. Those are reported with the reason they are ignored, and never probed, tailed or
 * counted. When the ReplicaSets cannot be read every running pod of the selector counts, and the
 * facts say so. Events are read page by page (`continue`), matched to the Deployment, its
 * ReplicaSets and their pods by name and uid, and ordered by time (the API lists them by name);
 * `events.k8s.io/v1` events count by `series.count` and date by `series.lastObservedTime`.
 *
 * Thin adapters over `@kubernetes/client-node` 1.x (object-parameter API). Client failures become the
 * named failures of ./errors (404 NotFoundError, 401/403 NotAllowedError, 429 RateLimitedError after
 * the API server's `Retry-After`, network/5xx UpstreamError retryable).
 *
 * Every API call has its own deadline (`requestTimeoutMs`, default {@link KUBE_REQUEST_TIMEOUT_MS})
 * and is aborted when its activity is cancelled (a worker shutting down, an attempt Temporal gave
 * up on): client-node 1.x takes a per-call middleware that sets the request's AbortSignal, which its
 * fetch honours, so a hung API server costs one deadline, never an attempt's whole start-to-close
 * timeout, and an abandoned attempt sends nothing more. The probes through pods/proxy carry the same
 * cancellation beside their own `probeTimeout`. Log lines and probe bodies are redacted before they leave an activity. No Secret is
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
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type CoreV1Event,
  type KubeConfig,
  type ObservableMiddleware,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { CancelledFailure, type ApplicationFailure } from '@temporalio/common';
import {
  consideredPods,
  RESTARTED_AT_ANNOTATION,
  type DeploymentFacts,
  type DiagnosisTarget,
  type EventFact,
  type KafkaCredentials,
  type LogTail,
  type MissingSecret,
  type PodFacts,
  type PodScope,
  type ProbeResult,
  type ReplicaSetRef,
} from '../domain/diagnosis';
import { INSTANCE_LABEL, TRACKING_ID_ANNOTATION, type LiveTracking } from '../domain/argo-ownership';
import { absentKafkaUser, KAFKA_USER_RESOURCE, kafkaUserFacts, kafkaUserNotFound, missingSecretOfContainer } from '../domain/kafka-credentials';
import { redact, redactLines } from '../domain/redact';
import { activityContext } from './context';
import { failureFromStatus, namedFailure, rateLimitFailure } from './errors';

/** Each Kubernetes API call's deadline unless the worker sets another: well inside an attempt's 30 s. */
export const KUBE_REQUEST_TIMEOUT_MS = 10_000;
/** Probe bodies are evidence, not payload: keep the first 4 KiB. */
export const PROBE_BODY_LIMIT = 4096;
/** Events are listed in pages of this size (the API server's own default cap is 500)… */
const EVENTS_PAGE_SIZE = 500;
/** …and at most this many pages (10 000 events; the API lists by name, so beyond that some are missed). */
const EVENTS_MAX_PAGES = 20;
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const POD_TEMPLATE_HASH = 'pod-template-hash';

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
  /** The current ReplicaSet whose pods verification probes (absent when not read). */
  podScope?: PodScope;
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
    const retryAfter = Number(err.headers?.['retry-after']);
    if (err.code === 429 && Number.isFinite(retryAfter) && retryAfter >= 0) return rateLimitFailure(what, 429, retryAfter, new Error(redact(detail)));
    return failureFromStatus(err.code, what, new Error(redact(detail)));
  }
  if (isApplicationFailure(err)) return err;
  return failureFromStatus(undefined, what, new Error(redact(err instanceof Error ? err.message : String(err))));
}

function isApplicationFailure(err: unknown): err is ApplicationFailure {
  return err instanceof Error && err.name === 'ApplicationFailure';
}

/** Per-call client options that give the request `signal` (client-node passes it to its fetch). */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** The signal of one call: its own deadline, and the cancellation of the activity it runs in. */
interface CallSignal {
  signal: AbortSignal;
  /** The call's deadline passed. */
  timedOut(): boolean;
  /** The activity was cancelled: its reason (a CancelledFailure), to be thrown as it is. */
  cancelled(): Error | undefined;
}

function callSignal(timeoutMs: number): CallSignal {
  const deadline = AbortSignal.timeout(timeoutMs);
  const cancellation = activityContext()?.cancellationSignal;
  return {
    signal: cancellation ? AbortSignal.any([deadline, cancellation]) : deadline,
    timedOut: () => deadline.aborted && !cancellation?.aborted,
    cancelled: () => (cancellation?.aborted ? cancellationOf(cancellation) : undefined),
  };
}

/** Why the activity was cancelled: the SDK aborts its signal with a CancelledFailure. */
function cancellationOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new CancelledFailure('activity cancelled');
}

const isCancellation = (err: unknown): boolean => err instanceof CancelledFailure;

/**
 * One API call, bounded: the client's own error as it came (for callers that read a 404), a
 * retryable UpstreamError naming the operation when the deadline passed, or the activity's
 * cancellation. The request is aborted either way, so its socket is closed and nothing more is sent.
 */
async function boundedCall<T>(what: string, timeoutMs: number, call: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
  const bound = callSignal(timeoutMs);
  try {
    return await call(withSignal(bound.signal));
  } catch (err) {
    const cancelled = bound.cancelled();
    if (cancelled !== undefined) throw cancelled;
    if (bound.timedOut()) throw namedFailure('UpstreamError', `${what}: no answer within ${timeoutMs} ms (request aborted)`);
    throw err;
  }
}

const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

// ---- mapping of API objects to domain facts ---------------------------------------------------

/**
 * One timestamp format, so that times sort as strings: client-node leaves some fields (a series'
 * MicroTime `lastObservedTime`, six fractional digits) as the server's text.
 */
const toIso = (value: Date | string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? value : new Date(parsed).toISOString();
};

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
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller);
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
    ...(startedAt ? { startedAt, ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(startedAt)) / 1000)) } : {}),
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(owner ? { replicaSet: owner.name } : {}),
  };
}

/** Why a pod says nothing about the Deployment as it is now, or undefined when it does. */
export function ignoredBecause(pod: V1Pod, scope: PodScope): string | undefined {
  const reasons: string[] = [];
  const current = scope.replicaSet;
  const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH];
  if (current && hash !== current.podTemplateHash) {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller)?.name;
    reasons.push(`old ReplicaSet ${owner ?? (hash ? `(pod-template-hash ${hash})` : '(none)')}`);
  }
  if (pod.metadata?.deletionTimestamp) reasons.push('Terminating');
  const phase = pod.status?.phase;
  if (phase === 'Failed') reasons.push(pod.status?.reason ? `Failed (${pod.status.reason})` : 'Failed');
  if (phase === 'Succeeded') reasons.push('Completed');
  return reasons.length > 0 ? reasons.join(', ') : undefined;
}

/** The ReplicaSets a Deployment controls, and the current one (highest revision, then newest). */
export function currentReplicaSet(deployment: V1Deployment, sets: V1ReplicaSet[]): { owned: V1ReplicaSet[]; current: ReplicaSetRef | null } {
  const uid = deployment.metadata?.uid;
  const owned = sets.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.controller && o.kind === 'Deployment' && o.uid === uid));
  const revision = (rs: V1ReplicaSet) => Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
  const created = (rs: V1ReplicaSet) => toIso(rs.metadata?.creationTimestamp) ?? '';
  const [newest] = [...owned].sort((a, b) => revision(b) - revision(a) || created(b).localeCompare(created(a)));
  const hash = newest?.metadata?.labels?.[POD_TEMPLATE_HASH];
  return {
    owned,
    current: newest && hash ? { name: newest.metadata?.name ?? '', podTemplateHash: hash, revision: revision(newest) } : null,
  };
}

/** When an event last happened: events.k8s.io/v1 series first, then the core/v1 fields. */
export const eventTime = (e: CoreV1Event): string | undefined =>
  toIso(e.series?.lastObservedTime) ?? toIso(e.lastTimestamp) ?? toIso(e.eventTime) ?? toIso(e.firstTimestamp) ?? toIso(e.metadata.creationTimestamp);

function eventFact(e: CoreV1Event): EventFact {
  const at = eventTime(e);
  return {
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: redact(e.message ?? ''),
    object: `${e.involvedObject.kind ?? '?'}/${e.involvedObject.name ?? '?'}`,
    count: e.series?.count ?? e.count ?? 1,
    ...(at ? { lastTimestamp: at } : {}),
  };
}

/** What is known of the target's objects, to tell its events from others' (same names, other uids). */
export interface TargetObjects {
  deployment: string;
  deploymentUid?: string;
  /** ReplicaSets of the Deployment by name → uid; null when they could not be read. */
  replicaSets: Map<string, string | undefined> | null;
  /** Pods of the selector by name → uid. */
  pods: Map<string, string | undefined>;
}

const sameUid = (known: string | undefined, seen: string | undefined): boolean => !known || !seen || known === seen;

/**
 * Events about the Deployment, its ReplicaSets and their pods. A uid on the event must be the
 * object's (a deleted and re-created object of the same name is another object); a pod that no
 * longer exists counts when its name is one of the Deployment's ReplicaSets' (`<rs>-<id>`).
 */
export function concernsTarget(e: CoreV1Event, target: TargetObjects): boolean {
  const { kind, name = '', uid } = e.involvedObject;
  if (kind === 'Deployment') return name === target.deployment && sameUid(target.deploymentUid, uid);
  if (kind === 'ReplicaSet') {
    if (!target.replicaSets) return name.startsWith(`${target.deployment}-`);
    return target.replicaSets.has(name) && sameUid(target.replicaSets.get(name), uid);
  }
  if (kind === 'Pod') {
    if (target.pods.has(name)) return sameUid(target.pods.get(name), uid);
    const prefixes = target.replicaSets ? [...target.replicaSets.keys()] : [target.deployment];
    return prefixes.some((prefix) => name.startsWith(`${prefix}-`));
  }
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
async function apiServerGet(kc: KubeConfig, path: string, timeoutMs: number, signal?: AbortSignal): Promise<RawAnswer> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw namedFailure('InputError', 'kubeconfig has no current cluster');
  const url = new URL(path, server.endsWith('/') ? server : `${server}/`);
  const options: RequestOptions & Record<string, unknown> = { method: 'GET', headers: { Accept: '*/*' }, ...(signal ? { signal } : {}) };
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
async function directGet(url: string, timeoutMs: number, cancellation?: AbortSignal): Promise<RawAnswer> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, { signal: cancellation ? AbortSignal.any([deadline, cancellation]) : deadline, redirect: 'manual' });
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
  /** Deadline of each API call (default {@link KUBE_REQUEST_TIMEOUT_MS}). */
  requestTimeoutMs?: number;
}

export function createKubernetesActivities(kc: KubeConfig, options: KubernetesActivityOptions = {}) {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.requestTimeoutMs ?? KUBE_REQUEST_TIMEOUT_MS;
  /** An API call bounded by its deadline and its activity, its failures named after `what`. */
  const kube = async <T>(what: string, call: (options: ConfigurationOptions) => Promise<T>): Promise<T> => {
    try {
      return await boundedCall(what, timeoutMs, call);
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw kubeFailure(err, what);
    }
  };
  const deploymentName = (t: DiagnosisTarget): string => `deployment ${t.namespace}/${t.deployment}`;

  const readDeployment = (t: DiagnosisTarget): Promise<V1Deployment> =>
    kube(`read ${deploymentName(t)}`, (o) => apps.readNamespacedDeployment({ name: t.deployment, namespace: t.namespace }, o));

  interface Scoped {
    scope: PodScope;
    deploymentUid?: string;
    /** The Deployment's ReplicaSets (name → uid); null when unknown. */
    replicaSets: Map<string, string | undefined> | null;
  }

  /**
   * The Deployment's current ReplicaSet, or why it is unknown (then every running pod counts). The
   * Deployment and the ReplicaSets are read at once: the match needs both, and the diagnosis waits
   * one API round trip instead of two. A list read before the Deployment may miss the ReplicaSet the
   * Deployment just created: then the list is read once more, after it, as a sequential read would.
   */
  async function scopeOf(t: DiagnosisTarget, known?: V1Deployment | Promise<V1Deployment>): Promise<Scoped> {
    /** The list is read after the Deployment (one already read is given), so it cannot miss its ReplicaSet. */
    const listedAfter = known !== undefined && !(known instanceof Promise);
    const list = () =>
      kube(`list replicasets ${t.namespace}/${t.podSelector}`, (o) => apps.listNamespacedReplicaSet({ namespace: t.namespace, labelSelector: t.podSelector }, o));
    const listSets = list();
    listSets.catch(() => undefined); // awaited below in every case; this only keeps a failure from being unhandled meanwhile
    let deployment: V1Deployment;
    try {
      deployment = await (known ?? readDeployment(t));
    } catch (err) {
      if (isCancellation(err)) throw err;
      await listSets.catch(() => undefined); // no request of this activity outlives it
      return { scope: { replicaSet: null, fallback: `the Deployment could not be read: ${(err as Error).message}` }, replicaSets: null };
    }
    const deploymentUid = deployment.metadata?.uid;
    try {
      let { owned, current } = currentReplicaSet(deployment, (await listSets).items);
      if (!current && !listedAfter) ({ owned, current } = currentReplicaSet(deployment, (await list()).items));
      const replicaSets = new Map(owned.map((rs) => [rs.metadata?.name ?? '', rs.metadata?.uid]));
      const scope: PodScope = current ? { replicaSet: current } : { replicaSet: null, fallback: 'the Deployment has no ReplicaSet yet' };
      return { scope, deploymentUid, replicaSets };
    } catch (err) {
      if (isCancellation(err)) throw err;
      return { scope: { replicaSet: null, fallback: `its ReplicaSets could not be read: ${(err as Error).message}` }, deploymentUid, replicaSets: null };
    }
  }

  async function getDeploymentFacts(t: DiagnosisTarget): Promise<DeploymentFacts> {
    const reading = readDeployment(t);
    const { scope } = await scopeOf(t, reading); // settles both reads; the Deployment's failure is thrown next
    return { ...deploymentFacts(await reading), podScope: scope };
  }

  /** Every pod of the selector as facts — considered ones first (not ready, then newest), then the ignored. */
  async function scopedPods(t: DiagnosisTarget): Promise<Scoped & { pods: PodFacts[]; raw: V1Pod[] }> {
    const [scoped, list] = await Promise.all([
      scopeOf(t),
      kube(`list pods ${t.namespace}/${t.podSelector}`, (o) => core.listNamespacedPod({ namespace: t.namespace, labelSelector: t.podSelector }, o)),
    ]);
    const at = now();
    const facts = list.items.map((pod): PodFacts => {
      const ignored = ignoredBecause(pod, scoped.scope);
      return { ...podFacts(pod, at), ...(ignored ? { ignored } : {}) };
    });
    const considered = consideredPods(facts).sort(byInterest);
    const ignored = facts.filter((p) => p.ignored).sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
    return { ...scoped, pods: [...considered, ...ignored], raw: list.items };
  }

  /**
   * Pods of the target: those of the current ReplicaSet that still run, not-ready first, newest
   * first; then the ignored ones (old ReplicaSets, Terminating, Evicted, Completed) with the reason.
   */
  async function listPods(t: DiagnosisTarget): Promise<PodFacts[]> {
    return (await scopedPods(t)).pods;
  }

  /** Every event of the namespace, page by page. */
  async function allEvents(namespace: string): Promise<CoreV1Event[]> {
    const items: CoreV1Event[] = [];
    let token: string | undefined;
    for (let page = 0; page < EVENTS_MAX_PAGES; page += 1) {
      const list = await kube(`list events in ${namespace}`, (o) => core.listNamespacedEvent({ namespace, limit: EVENTS_PAGE_SIZE, _continue: token }, o));
      items.push(...list.items);
      token = list.metadata?._continue;
      if (!token) break;
    }
    return items;
  }

  /** Events of the deployment, its ReplicaSets and their pods (uids matched); newest first, at most eventsLimit. */
  async function listEvents(t: DiagnosisTarget): Promise<EventFact[]> {
    const [scoped, events] = await Promise.all([scopedPods(t), allEvents(t.namespace)]);
    const objects: TargetObjects = {
      deployment: t.deployment,
      deploymentUid: scoped.deploymentUid,
      replicaSets: scoped.replicaSets,
      pods: new Map(scoped.raw.map((pod) => [pod.metadata?.name ?? '', pod.metadata?.uid])),
    };
    return events
      .filter((e) => concernsTarget(e, objects))
      .sort((a, b) => (eventTime(b) ?? '').localeCompare(eventTime(a) ?? ''))
      .slice(0, t.eventsLimit)
      .map(eventFact);
  }

  /** The log tail of the most interesting pod of the current ReplicaSet (not ready, else newest), redacted line by line. */
  async function tailLogs(t: DiagnosisTarget): Promise<LogTail> {
    const { pods, scope } = await scopedPods(t);
    const [pod] = consideredPods(pods);
    if (!pod) {
      if (pods.length === 0) throw namedFailure('NotFoundError', `no pods match ${t.podSelector} in ${t.namespace}`);
      const of = scope.replicaSet ? ` of the current ReplicaSet ${scope.replicaSet.name}` : '';
      throw namedFailure('NotFoundError', `no running pod${of} in ${t.namespace}: ${pods.map((p) => `${p.name} (${p.ignored})`).join(', ')}`);
    }
    const text = await kube(`read log of pod ${t.namespace}/${pod.name}`, (o) =>
      core.readNamespacedPodLog(
        {
          name: pod.name,
          namespace: t.namespace,
          container: t.container,
          tailLines: t.logTailLines,
          limitBytes: t.logLimitBytes,
        },
        o,
      ),
    );
    const { lines, truncated } = splitLogTail(typeof text === 'string' ? text : '', t.logLimitBytes);
    return { pod: pod.name, container: t.container, lines: redactLines(lines), truncated };
  }

  async function probe(t: DiagnosisTarget, pod: string, path: string): Promise<ProbeResult> {
    const direct = t.health.directBaseUrl;
    // A probe has its own timeout (the runbook's probeTimeout) and ends with its activity.
    const cancellation = activityContext()?.cancellationSignal;
    try {
      const answer = direct
        ? await directGet(`${direct.replace(/\/$/, '')}${path}`, t.probeTimeoutMs, cancellation)
        : await apiServerGet(kc, proxyPath(t, pod, path), t.probeTimeoutMs, cancellation);
      return probeResult(pod, path, answer, !direct);
    } catch (err) {
      if (cancellation?.aborted) throw cancellationOf(cancellation);
      return probeError(pod, path, err);
    }
  }

  /** Liveness and readiness of every pod of the current ReplicaSet (pods/proxy), or of the direct URL when configured. */
  async function probePods(t: DiagnosisTarget): Promise<ProbeResult[]> {
    const targets = t.health.directBaseUrl ? [new URL(t.health.directBaseUrl).host] : consideredPods(await listPods(t)).map((p) => p.name);
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
        const object: unknown = await boundedCall(`read ${resource} ${t.namespace}/${name}`, timeoutMs, (o) =>
          custom.getNamespacedCustomObject({ ...KAFKA_USER_RESOURCE, namespace: t.namespace, name }, o),
        );
        return kafkaUserFacts(name, object);
      } catch (err) {
        if (isCancellation(err)) throw err;
        if (!(err instanceof ApiException) || err.code !== 404) throw kubeFailure(err, `read ${resource} ${t.namespace}/${name}`);
        if (kafkaUserNotFound(err.body, name) === 'absent') return absentKafkaUser(name);
        throw namedFailure('NotFoundError', `the API server does not serve ${resource}/${KAFKA_USER_RESOURCE.version}: is Strimzi installed?`);
      }
    };
    const [kafkaUser, pods] = await Promise.all([
      readKafkaUser(),
      kube(`list pods ${t.namespace}/${t.podSelector}`, (o) => core.listNamespacedPod({ namespace: t.namespace, labelSelector: t.podSelector }, o)),
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
      const cm = await boundedCall(`read configmap ${t.namespace}/${name}`, timeoutMs, (o) => core.readNamespacedConfigMap({ name, namespace: t.namespace }, o));
      return cm.data?.[key] ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      if (isCancellation(err)) throw err;
      throw kubeFailure(err, `read configmap ${t.namespace}/${name}`);
    }
  }

  /** How Argo CD marked the live Deployment: its tracking-id annotation and instance label (metadata only). */
  async function readArgoTracking(t: DiagnosisTarget): Promise<LiveTracking> {
    const { metadata } = await readDeployment(t);
    return {
      trackingId: metadata?.annotations?.[TRACKING_ID_ANNOTATION] ?? null,
      instanceLabel: metadata?.labels?.[INSTANCE_LABEL] ?? null,
    };
  }

  async function rolloutStatus(t: DiagnosisTarget): Promise<RolloutStatus> {
    // In order: a rollout's ReplicaSets are listed after the Deployment that names the new one.
    const deployment = await readDeployment(t);
    const { scope } = await scopeOf(t, deployment);
    return { ...rolloutStatusOf(deployment), podScope: scope };
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
    const patched = await kube(`patch ${deploymentName(t)}`, (o) =>
      apps.patchNamespacedDeployment({ name: t.deployment, namespace: t.namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch, o)),
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
    readArgoTracking,
    rolloutStatus,
    patchRestartedAt,
  };
}

export type KubernetesActivities = ReturnType<typeof createKubernetesActivities>;
