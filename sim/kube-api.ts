/**
 * A simulated Kubernetes API server for the torghut-ws scenarios. It speaks enough of the real REST
 * API (paths, query parameters, content types, `Status` error objects) that `@kubernetes/client-node`
 * talks to it unchanged through an ordinary kubeconfig with a bearer token.
 *
 * Served: GET/PATCH apps/v1 Deployment; GET apps/v1 ReplicaSet list (the current one and earlier
 * ones, with their revisions); GET Pod list (labelSelector, limit) and Pod — including, as on a real
 * cluster, pods of an earlier ReplicaSet still listed (scenario `oldPods`); GET pod log
 * (container, tailLines, limitBytes, previous); GET Events (fieldSelector, limit); GET ConfigMap;
 * GET pods/proxy (`{pod}:{port}/proxy/{path}`); GET the Strimzi KafkaUser
 * (kafka.strimzi.io/v1beta2, or 404 for the whole group when the scenario has no Strimzi). Every
 * request on secrets, whatever its verb or name, is refused with the 403 `Status` the real server
 * answers under the shipped Role, which grants nothing on secrets. Everything else is rejected the
 * way the real server rejects it (401, 404, 405, 400, 415, 422), so the sim cannot hide a bug in a
 * client. Every request is logged for tests (method, path, query, headers).
 *
 * The state is mutable: a rollout restart (API patch of the restartedAt annotation, `restartRollout`,
 * or `applyDeployment` as Argo CD would) replaces the pods and switches them to the scenario's
 * `afterRestart` condition when the scenario says a restart cures.
 *
 * A second tiny server (`podBaseUrl`) answers the pods' own /healthz and /readyz, for direct probes.
 *
 * Fault switches: `setFault` (a resource answers an HTTP error) and `stallNext` (the next matching
 * calls answer late or never, for the crash tests).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { FaultQueue, type FaultMatch, type WireFault } from './fault-queue';
import { faultAnswer, KubeFaults, type KubeFault } from './kube-faults';
import { kafkaUserOf, loadScenario, type ContainerWaiting, type HealthAnswer, type Scenario, type ScenarioCondition } from './scenario';
import { INSTANCE_LABEL, TRACKING_ID_ANNOTATION, trackingIdOf } from '../domain/argo-ownership';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const SERVICE_ACCOUNT = 'system:serviceaccount:agentruns:agentruns';
const MAX_BODY_BYTES = 1024 * 1024;
const STRIMZI_GROUP = 'kafka.strimzi.io';

export interface RequestRecord {
  /** `api` = the Kubernetes API server, `pod` = the pods' own port (direct probes). */
  target: 'api' | 'pod';
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  accept?: string;
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** A wire fault that hit it (./kube-faults.ts): never answered, or handled and its connection dropped. */
  fault?: 'hung' | 'dropped';
  /** The client closed the connection before any answer (gave up, or its activity was cancelled). */
  abandonedAt?: number;
  /** The answer was written. */
  answeredAt?: number;
  /** The sim got to handle it only after its client had left (a slow answer nobody waited for). */
  handledAfterClientLeft?: boolean;
}

export type FaultResource = keyof Scenario['faults'];

export interface KubeSimOptions {
  /** Bearer token the sim requires; random when omitted. */
  token?: string;
  /** Clock for timestamps and pod ages. */
  now?: () => Date;
}

/** What a kubeconfig needs to reach the sim. */
export interface KubeEndpoint {
  url: string;
  token: string;
}

interface SimPod {
  name: string;
  uid: string;
  hash: string;
  ip: string;
  startedAt: Date;
  phase: string;
  ready: boolean;
  restarts: number;
  /** A pod of an earlier ReplicaSet that is still listed (scenario `oldPods`). */
  leftover?: 'Terminating' | 'Evicted' | 'Completed';
}

/** A ReplicaSet the Deployment has had: the last one is current. */
interface SimReplicaSet {
  hash: string;
  revision: number;
  createdAt: Date;
}

interface SimEvent {
  uid: string;
  kind: string;
  name: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  first: Date;
  last: Date;
  api?: 'core/v1' | 'events.k8s.io/v1';
}

interface Condition {
  readiness: HealthAnswer;
  liveness: HealthAnswer;
  logs: string[];
  ready: boolean | undefined;
  relapseAfter: number | undefined;
  containerWaiting: ContainerWaiting | undefined;
}

interface DeploymentState {
  uid: string;
  createdAt: Date;
  generation: number;
  observedGeneration: number;
  replicas: number;
  templateAnnotations: Record<string, string>;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  resourceVersion: number;
}

/** A Kubernetes `Status` failure, the body of every error the API server returns. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function kubeStatus(code: number, message: string, details?: KubeStatus['details']): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'Unknown',
    ...(details ? { details } : {}),
    code,
  };
}

class HttpError extends Error {
  constructor(readonly status: KubeStatus) {
    super(status.message);
  }
}

function fail(code: number, message: string, details?: KubeStatus['details']): never {
  throw new HttpError(kubeStatus(code, message, details));
}

const notFound = (resource: string, name: string, group = ''): never =>
  fail(404, `${resource}${group ? `.${group}` : ''} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

/** The API server's authorization refusal (`errors.NewForbidden` with the RBAC authorizer's reason). */
function forbidden(verb: string, resource: string, group: string, name: string, namespace: string): never {
  const qualified = `${resource}${group ? `.${group}` : ''}`;
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const reason = `User "${SERVICE_ACCOUNT}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`;
  return fail(403, `${qualified}${name ? ` "${name}"` : ''} is forbidden: ${reason}`, { ...(name ? { name } : {}), ...(group ? { group } : {}), kind: resource });
}

/** Namespace and name of a request on secrets (`/api/v1[/watch][/namespaces/{ns}]/secrets[/{name}]`), if it is one. */
function secretsRequest(seg: string[]): { namespace: string; name: string } | undefined {
  if (seg[0] !== 'api' || seg[1] !== 'v1') return undefined;
  const rest = seg[2] === 'watch' ? seg.slice(3) : seg.slice(2);
  if (rest[0] === 'secrets') return { namespace: '', name: rest[1] ?? '' };
  if (rest[0] === 'namespaces' && rest[2] === 'secrets') return { namespace: rest[1] ?? '', name: rest[3] ?? '' };
  return undefined;
}

/** The RBAC verb of a request (as the API server's RequestInfo resolver derives it). */
function verbOf(method: string, named: boolean, query: URLSearchParams): string {
  if (method === 'GET' || method === 'HEAD') return named ? 'get' : query.get('watch') === 'true' ? 'watch' : 'list';
  if (method === 'POST') return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH') return 'patch';
  if (method === 'DELETE') return named ? 'delete' : 'deletecollection';
  return method.toLowerCase();
}

/** Kubernetes timestamps: RFC 3339, second precision. */
const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

const HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
function kubeHash(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  return Array.from(digest.subarray(0, length), (byte) => HASH_ALPHABET[byte % HASH_ALPHABET.length]).join('');
}

const uid = (seed: string): string => {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

const isOk = (answer: HealthAnswer): boolean => 'status' in answer && answer.status >= 200 && answer.status < 300;

/** Key-order-insensitive JSON, for comparing objects. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7386 JSON merge patch (also the sim's strategic merge patch: maps merge, lists replace). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** RFC 6902 JSON patch (add, replace, remove, test). Throws HttpError 422 when an op cannot apply. */
export function jsonPatch(target: unknown, ops: unknown[]): unknown {
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isRecord(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      fail(400, 'json patch operations must be objects with "op" and "path"');
    }
    doc = applyOp(doc, op.op, op.path, op.value);
  }
  return doc;
}

function applyOp(doc: unknown, op: string, path: string, value: unknown): unknown {
  if (path === '') return op === 'remove' ? fail(422, 'cannot remove the root') : value;
  if (!path.startsWith('/')) fail(422, `json patch path must start with "/": ${path}`);
  const keys = path.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop()!;
  let parent: unknown = doc;
  for (const key of keys) {
    parent = isRecord(parent) || Array.isArray(parent) ? (parent as Record<string, unknown>)[key] : undefined;
    if (parent === undefined) fail(422, `the server rejected our request due to an error in our request: doc is missing path: "${path}"`);
  }
  if (!isRecord(parent)) fail(422, `the server rejected our request due to an error in our request: cannot ${op} at "${path}"`);
  const exists = Object.prototype.hasOwnProperty.call(parent, last);
  switch (op) {
    case 'add':
      parent[last] = value;
      break;
    case 'replace':
      if (!exists) fail(422, `the server rejected our request due to an error in our request: doc is missing key: "${path}"`);
      parent[last] = value;
      break;
    case 'remove':
      if (!exists) fail(422, `the server rejected our request due to an error in our request: doc is missing key: "${path}"`);
      delete parent[last];
      break;
    case 'test':
      if (stableJson(parent[last]) !== stableJson(value)) fail(422, `the server rejected our request: test operation failed at "${path}"`);
      break;
    default:
      fail(400, `json patch operation "${op}" is not supported by the simulator`);
  }
  return doc;
}

/** Label selector (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`) as a predicate. */
/** How Argo CD marks a Deployment it applies (annotation tracking): `<app>:apps/Deployment:<namespace>/<name>`. */
function argoTrackingAnnotation(s: Scenario): Record<string, string> {
  const t = s.deployment.argoTracking;
  return t?.by === 'annotation' ? { [TRACKING_ID_ANNOTATION]: trackingIdOf(t.application, { group: 'apps', kind: 'Deployment', namespace: s.namespace, name: s.deployment.name }) } : {};
}

/** Label tracking: `app.kubernetes.io/instance: <app>` on the Deployment (not in its selector). */
function argoTrackingLabel(s: Scenario): Record<string, string> {
  const t = s.deployment.argoTracking;
  return t?.by === 'label' ? { [INSTANCE_LABEL]: t.application } : {};
}

export function parseLabelSelector(selector: string): (labels: Record<string, string>) => boolean {
  const parts = selector.split(/,(?![^()]*\))/).map((p) => p.trim()).filter(Boolean);
  const tests = parts.map((part): ((labels: Record<string, string>) => boolean) => {
    let m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return op === 'in' ? (l) => values.includes(l[key] ?? '\0') : (l) => !values.includes(l[key] ?? '\0');
    }
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) {
      const [, not, key] = m as unknown as [string, string, string];
      return not ? (l) => !(key in l) : (l) => key in l;
    }
    return fail(400, `unable to parse requirement: ${JSON.stringify(part)}`);
  });
  return (labels) => tests.every((test) => test(labels));
}

const EVENT_FIELDS: Record<string, (e: SimEvent, namespace: string) => string> = {
  'involvedObject.name': (e) => e.name,
  'involvedObject.kind': (e) => e.kind,
  'involvedObject.namespace': (_e, ns) => ns,
  'involvedObject.uid': (e) => e.uid,
  type: (e) => e.type,
  reason: (e) => e.reason,
};

function parseEventFieldSelector(selector: string, namespace: string): (event: SimEvent) => boolean {
  const tests = selector
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const m = /^([\w.]+)(==|=|!=)(.*)$/.exec(part.trim());
      if (!m) return fail(400, `invalid field selector: ${JSON.stringify(part)}`);
      const [, field, op, value] = m as unknown as [string, string, string, string];
      const get = EVENT_FIELDS[field];
      if (!get) return fail(400, `field label not supported: ${field}`);
      return (e: SimEvent) => (op === '!=' ? get(e, namespace) !== value : get(e, namespace) === value);
    });
  return (event) => tests.every((test) => test(event));
}

function intParam(query: URLSearchParams, name: string, min: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min) fail(400, `${name}: Invalid value: ${JSON.stringify(raw)}: must be an integer >= ${min}`);
  return Number(raw);
}

/** Pages a list the way the API server does with `limit` and `continue`. */
function page<T>(items: T[], query: URLSearchParams): { items: T[]; continue?: string } {
  const start = query.get('continue') ? Number(Buffer.from(query.get('continue')!, 'base64').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) fail(400, 'invalid continue token');
  const limit = intParam(query, 'limit', 0) || undefined;
  const end = limit === undefined ? items.length : start + limit;
  const slice = items.slice(start, end);
  return end < items.length ? { items: slice, continue: Buffer.from(String(end)).toString('base64') } : { items: slice };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new HttpError(kubeStatus(413, 'request entity too large')));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface Route {
  methods: string[];
  run: (method: string) => Reply | Promise<Reply>;
}

interface Reply {
  status: number;
  body: string | Buffer;
  contentType: string;
  delayMs?: number;
  headers?: Record<string, string>;
}

const json = (body: unknown, status = 200, contentType = 'application/json'): Reply => ({
  status,
  body: JSON.stringify(body),
  contentType,
});

function healthReply(answer: HealthAnswer, pod: SimPod, port: number): Reply {
  if (!('status' in answer)) {
    return json(kubeStatus(503, `error trying to reach service: dial tcp ${pod.ip}:${port}: connect: connection refused`), 503);
  }
  const body = answer.body;
  const isJson = typeof body !== 'string';
  return {
    status: answer.status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    contentType: answer.contentType ?? (isJson ? 'application/json' : 'text/plain; charset=utf-8'),
    ...(answer.delayMs ? { delayMs: answer.delayMs } : {}),
  };
}

export class KubeSim implements KubeEndpoint {
  readonly requests: RequestRecord[] = [];
  readonly token: string;
  url = '';
  podBaseUrl = '';
  private scenario!: Scenario;
  private dep!: DeploymentState;
  private pods: SimPod[] = [];
  /** Pods of earlier ReplicaSets still listed; never counted, probed or rolled. */
  private leftovers: SimPod[] = [];
  private replicaSets: SimReplicaSet[] = [];
  private events: SimEvent[] = [];
  private condition!: Condition;
  private cured = false;
  private rollouts = 0;
  private podCounter = 0;
  private readinessProbesSinceCure = 0;
  private hash = '';
  private readonly faults = new Map<FaultResource, number>();
  private readonly stalls = new FaultQueue<FaultMatch & WireFault>();
  /** Per-test faults of the next requests (./kube-faults.ts). */
  private apiFaults = new KubeFaults();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => Date;
  private readonly apiServer: Server;
  private readonly podServer: Server;

  constructor(scenario: Scenario, options: KubeSimOptions = {}) {
    this.token = options.token ?? `sim-${randomBytes(16).toString('hex')}`;
    this.now = options.now ?? (() => new Date());
    this.apiServer = createServer((req, res) => void this.serve('api', req, res));
    this.podServer = createServer((req, res) => void this.serve('pod', req, res));
    this.setScenario(scenario);
  }

  async listen(): Promise<this> {
    this.url = await listenOn(this.apiServer);
    this.podBaseUrl = await listenOn(this.podServer);
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([closeServer(this.apiServer), closeServer(this.podServer)]);
  }

  /** Resets the whole simulated cluster to a scenario (fresh pods, events, faults). */
  setScenario(scenario: Scenario): void {
    this.scenario = scenario;
    const now = this.now();
    this.dep = {
      uid: uid(`deployment/${scenario.deployment.name}`),
      createdAt: new Date(now.getTime() - 30 * 86_400_000),
      generation: scenario.deployment.generation,
      observedGeneration: scenario.deployment.generation,
      replicas: scenario.deployment.replicas,
      templateAnnotations: { ...scenario.deployment.templateAnnotations },
      annotations: { 'deployment.kubernetes.io/revision': String(scenario.deployment.generation), ...argoTrackingAnnotation(scenario) },
      labels: { ...scenario.deployment.labels, ...argoTrackingLabel(scenario) },
      resourceVersion: 1000,
    };
    this.faults.clear();
    this.apiFaults = new KubeFaults();
    for (const [resource, code] of Object.entries(scenario.faults)) {
      if (code !== undefined) this.faults.set(resource as FaultResource, code);
    }
    this.rollouts = 0;
    this.cured = false;
    this.condition = this.baseCondition();
    const revision = scenario.deployment.generation;
    const startedAt = new Date(now.getTime() - scenario.pods.startedSecondsAgo * 1000);
    this.replicaSets = [];
    this.leftovers = [];
    if (scenario.oldPods.length > 0) {
      this.hash = kubeHash(`${scenario.deployment.name}/-1/previous`, 10);
      this.replicaSets.push({ hash: this.hash, revision: revision - 1, createdAt: new Date(startedAt.getTime() - 86_400_000) });
      this.leftovers = scenario.oldPods.map((state) => {
        const phase = state === 'Evicted' ? 'Failed' : state === 'Completed' ? 'Succeeded' : 'Running';
        return { ...this.newPod(new Date(startedAt.getTime() - 86_400_000), 0, phase), leftover: state };
      });
    }
    this.hash = kubeHash(`${scenario.deployment.name}/0/${stableJson(this.dep.templateAnnotations)}`, 10);
    this.replicaSets.push({ hash: this.hash, revision, createdAt: startedAt });
    this.pods = Array.from({ length: this.dep.replicas }, () => this.newPod(startedAt, scenario.pods.restarts, scenario.pods.phase));
    this.refreshReadiness();
    this.events = scenario.events.map((e) => {
      const [kind, name] = this.resolveObject(e.object);
      const last = new Date(now.getTime() - e.secondsAgo * 1000);
      const first = new Date(last.getTime() - (e.count - 1) * 30_000);
      const message = e.message.replaceAll('{replicaset}', this.rsName()).replaceAll('{pod}', this.pods[0]?.name ?? '');
      return { uid: this.objectUid(kind, name), kind, name, type: e.type, reason: e.reason, message, count: e.count, first, last, api: e.api };
    });
  }

  /** Adds (or with `undefined` clears) an API fault for a resource. */
  setFault(resource: FaultResource, code: number | undefined): void {
    if (code === undefined) this.faults.delete(resource);
    else this.faults.set(resource, code);
  }

  /**
   * The next matching requests (by method and path, e.g. `/log` or `/proxy/readyz`) are handled, then
   * answered `delayMs` late or never (`hang`: the connection stays open until the client gives up)
   * — a diagnosis or verification call that stalls, so a test can crash the worker inside it.
   */
  stallNext(stall: FaultMatch & WireFault): void {
    this.stalls.add(stall);
  }

  /** Switches on a fault for the next matching request(s) of a resource (see ./kube-faults.ts). */
  failNext(fault: KubeFault): void {
    this.apiFaults.add(fault);
  }

  /** API requests still open: neither answered, dropped, nor given up by their client. */
  inFlight(): RequestRecord[] {
    return this.requests.filter((r) => r.target === 'api' && r.answeredAt === undefined && r.abandonedAt === undefined && r.fault !== 'dropped');
  }

  /**
   * Bench only (devstack/bench): every later call of the API server and the pod endpoints is
   * answered after `ms`, as a real API server across a network answers; 0 (the default) turns it off.
   */
  setCallDelay(ms: number): void {
    this.callDelayMs = Math.max(0, ms);
  }

  private callDelayMs = 0;

  private async benchCallDelay(): Promise<void> {
    if (this.callDelayMs === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, this.callDelayMs);
      this.timers.add(timer);
    });
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Requests that would have changed the cluster. */
  writes(): RequestRecord[] {
    return this.requests.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
  }

  /** A snapshot of the simulated Deployment and its pods, for assertions. */
  snapshot(): {
    generation: number;
    observedGeneration: number;
    replicas: number;
    templateAnnotations: Record<string, string>;
    pods: Array<{ name: string; ready: boolean; restarts: number; startedAt: string }>;
    rollouts: number;
    cured: boolean;
  } {
    return {
      generation: this.dep.generation,
      observedGeneration: this.dep.observedGeneration,
      replicas: this.dep.replicas,
      templateAnnotations: { ...this.dep.templateAnnotations },
      pods: this.pods.map((p) => ({ name: p.name, ready: p.ready, restarts: p.restarts, startedAt: iso(p.startedAt) })),
      rollouts: this.rollouts,
      cured: this.cured,
    };
  }

  /** `kubectl rollout restart`: set the restartedAt annotation and roll the pods. */
  restartRollout(restartedAt: string): void {
    this.dep.templateAnnotations = { ...this.dep.templateAnnotations, [RESTARTED_AT]: restartedAt };
    this.dep.generation += 1;
    this.dep.resourceVersion += 1;
    this.rollout();
  }

  /**
   * Applies a Deployment manifest the way Argo CD would: spec.replicas scales, a change of the pod
   * template annotations rolls the pods. Other fields of the manifest are not simulated.
   */
  applyDeployment(manifest: object): void {
    const m = manifest as { kind?: unknown; metadata?: { name?: unknown }; spec?: { replicas?: unknown; template?: { metadata?: { annotations?: unknown } } } };
    if (m.kind !== 'Deployment') throw new Error(`applyDeployment: expected kind Deployment, got ${String(m.kind)}`);
    if (m.metadata?.name !== this.scenario.deployment.name) {
      throw new Error(`applyDeployment: manifest is for ${String(m.metadata?.name)}, the sim runs ${this.scenario.deployment.name}`);
    }
    const replicas = m.spec?.replicas ?? 1;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw new Error('applyDeployment: spec.replicas must be a non-negative integer');
    const annotations = m.spec?.template?.metadata?.annotations ?? {};
    if (!isRecord(annotations) || !Object.values(annotations).every((v) => typeof v === 'string')) {
      throw new Error('applyDeployment: spec.template.metadata.annotations must map strings to strings');
    }
    this.commit(replicas, annotations as Record<string, string>);
  }

  // ---- state transitions -------------------------------------------------------------------

  private commit(replicas: number, templateAnnotations: Record<string, string>): void {
    const templateChanged = stableJson(templateAnnotations) !== stableJson(this.dep.templateAnnotations);
    const scaled = replicas !== this.dep.replicas;
    if (!templateChanged && !scaled) return;
    this.dep.generation += 1;
    this.dep.resourceVersion += 1;
    this.dep.templateAnnotations = { ...templateAnnotations };
    if (templateChanged) {
      this.dep.replicas = replicas;
      this.rollout();
    } else {
      this.scale(replicas);
    }
  }

  private rollout(): void {
    this.rollouts += 1;
    this.dep.observedGeneration = this.dep.generation;
    this.dep.annotations['deployment.kubernetes.io/revision'] = String(Number(this.dep.annotations['deployment.kubernetes.io/revision'] ?? '1') + 1);
    const after = this.scenario.afterRestart;
    this.cured = after !== undefined && this.rollouts >= this.scenario.restartsUntilCured && this.replicasAllowCure();
    this.condition = this.cured && after ? this.cureCondition(after) : this.baseCondition();
    this.readinessProbesSinceCure = 0;
    this.hash = kubeHash(`${this.scenario.deployment.name}/${this.rollouts}/${stableJson(this.dep.templateAnnotations)}`, 10);
    const now = this.now();
    this.replicaSets.push({ hash: this.hash, revision: Number(this.dep.annotations['deployment.kubernetes.io/revision']), createdAt: now });
    this.pods = Array.from({ length: this.dep.replicas }, () => this.newPod(now, 0, 'Running'));
    this.refreshReadiness();
    this.recordRolloutEvents(now);
  }

  private replicasAllowCure(): boolean {
    const max = this.scenario.afterRestart?.maxReplicas;
    return max === undefined || this.dep.replicas <= max;
  }

  private scale(replicas: number): void {
    this.dep.observedGeneration = this.dep.generation;
    const now = this.now();
    while (this.pods.length < replicas) this.pods.push(this.newPod(now, 0, 'Running'));
    this.pods = this.pods.slice(0, replicas);
    this.dep.replicas = replicas;
    if (this.cured && !this.replicasAllowCure()) this.relapse();
    this.refreshReadiness();
    this.addEvent('Deployment', this.scenario.deployment.name, 'Normal', 'ScalingReplicaSet', `Scaled replica set ${this.rsName()} to ${replicas}`, now);
  }

  private baseCondition(): Condition {
    const s = this.scenario;
    return { readiness: s.readiness, liveness: s.liveness, logs: s.logs, ready: undefined, relapseAfter: undefined, containerWaiting: s.containerWaiting };
  }

  private cureCondition(after: ScenarioCondition): Condition {
    const base = this.baseCondition();
    return {
      readiness: after.readiness ?? base.readiness,
      liveness: after.liveness ?? base.liveness,
      logs: after.logs ?? base.logs,
      ready: after.ready,
      relapseAfter: after.relapseAfterReadinessProbes,
      containerWaiting: after.containerWaiting,
    };
  }

  private readyCount(): number {
    const c = this.condition;
    if (c.ready !== undefined) return c.ready ? this.pods.length : 0;
    if (!this.cured && this.scenario.pods.readyCount !== undefined) return Math.min(this.scenario.pods.readyCount, this.pods.length);
    return isOk(c.readiness) ? this.pods.length : 0;
  }

  private refreshReadiness(): void {
    const ready = this.readyCount();
    this.pods.forEach((pod, i) => {
      pod.ready = pod.phase === 'Running' && i < ready;
    });
  }

  private relapse(): void {
    this.cured = false;
    this.condition = this.baseCondition();
    for (const pod of this.pods) pod.restarts += 1;
    this.refreshReadiness();
    const pod = this.pods[0];
    if (pod) this.addEvent('Pod', pod.name, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', this.now());
  }

  private newPod(startedAt: Date, restarts: number, phase: string): SimPod {
    this.podCounter += 1;
    const suffix = kubeHash(`${this.hash}/${this.podCounter}`, 5);
    const name = `${this.scenario.deployment.name}-${this.hash}-${suffix}`;
    // A container that cannot start keeps its pod Pending.
    const podPhase = this.condition.containerWaiting ? 'Pending' : phase;
    return { name, uid: uid(`pod/${name}`), hash: this.hash, ip: `10.244.3.${16 + (this.podCounter % 200)}`, startedAt, phase: podPhase, ready: false, restarts };
  }

  /** The uid of the object an event is about, as the object itself carries it. */
  private objectUid(kind: string, name: string): string {
    const prefix = `${this.scenario.deployment.name}-`;
    if (kind === 'Deployment' && name === this.scenario.deployment.name) return this.dep.uid;
    if (kind === 'Pod') return uid(`pod/${name}`);
    if (kind === 'ReplicaSet' && name.startsWith(prefix)) return uid(`rs/${name.slice(prefix.length)}`);
    return uid(`${kind}/${name}`);
  }

  private rsName(): string {
    return `${this.scenario.deployment.name}-${this.hash}`;
  }

  private resolveObject(ref: string): [string, string] {
    if (ref === 'deployment') return ['Deployment', this.scenario.deployment.name];
    if (ref === 'replicaset') return ['ReplicaSet', this.rsName()];
    const podRef = /^pod(?:\/(\d+))?$/.exec(ref);
    if (podRef) {
      const pod = this.pods[Number(podRef[1] ?? 0)] ?? this.pods[0];
      return ['Pod', pod?.name ?? `${this.rsName()}-xxxxx`];
    }
    const [kind, ...name] = ref.split('/');
    return [kind ?? ref, name.join('/')];
  }

  private addEvent(kind: string, name: string, type: string, reason: string, message: string, at: Date): void {
    this.events.push({ uid: this.objectUid(kind, name), kind, name, type, reason, message, count: 1, first: at, last: at });
  }

  private recordRolloutEvents(at: Date): void {
    const deployment = this.scenario.deployment.name;
    this.addEvent('Deployment', deployment, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${this.rsName()} to ${this.dep.replicas}`, at);
    const waiting = this.condition.containerWaiting;
    for (const pod of this.pods) {
      this.addEvent('Pod', pod.name, 'Normal', 'Scheduled', `Successfully assigned ${this.scenario.namespace}/${pod.name} to ${this.scenario.pods.nodeName}`, at);
      this.addEvent('Pod', pod.name, 'Normal', 'Pulled', `Container image "${this.scenario.deployment.image}" already present on machine`, at);
      // The kubelet's event for a container it cannot create (e.g. `Error: secret "torghut-ws" not found`).
      if (waiting) this.addEvent('Pod', pod.name, 'Warning', 'Failed', `Error: ${waiting.message || waiting.reason}`, at);
      else this.addEvent('Pod', pod.name, 'Normal', 'Started', `Started container ${this.scenario.container}`, at);
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async serve(target: 'api' | 'pod', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    const record: RequestRecord = {
      target,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(req.headers.accept ? { accept: req.headers.accept } : {}),
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    res.on('finish', () => (record.answeredAt = Date.now()));
    res.on('close', () => {
      if (!res.writableFinished && record.fault !== 'dropped') record.abandonedAt ??= Date.now();
    });
    // Per-test faults act after authentication, before routing.
    const fault = target === 'api' && req.headers.authorization === `Bearer ${this.token}` ? this.apiFaults.take(record.method, url.pathname) : undefined;
    if (fault?.hang) return void (record.fault = 'hung');
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (record.abandonedAt !== undefined) record.handledAfterClientLeft = true;
    const faulty = fault ? faultAnswer(fault) : null;
    await this.benchCallDelay();
    let reply: Reply;
    try {
      if (faulty) reply = { status: faulty.status, body: faulty.body, contentType: 'application/json', headers: faulty.headers };
      else reply = target === 'api' ? await this.handleApi(req, url) : this.handlePod(req, url);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : kubeStatus(500, `Internal error occurred: ${(err as Error).message}`);
      reply = json(status, status.code);
    }
    record.status = reply.status;
    if (fault?.dropAfterWrite) {
      record.fault = 'dropped';
      return void res.socket?.destroy();
    }
    const stall = this.stalls.take(record.method, record.path);
    if (stall?.hang) return;
    this.send(res, stall?.delayMs ? { ...reply, delayMs: stall.delayMs } : reply);
  }

  private send(res: ServerResponse, reply: Reply): void {
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(reply.status, { 'Content-Type': reply.contentType, 'Content-Length': Buffer.byteLength(reply.body), ...reply.headers });
      res.end(reply.body);
    };
    if (!reply.delayMs) return write();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      write();
    }, reply.delayMs);
    this.timers.add(timer);
  }

  private async handleApi(req: IncomingMessage, url: URL): Promise<Reply> {
    if (req.headers.authorization !== `Bearer ${this.token}`) return json(kubeStatus(401, 'Unauthorized'), 401);
    const seg = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
    const route = this.route(seg, req, url.searchParams);
    if (!route) return json(kubeStatus(404, 'the server could not find the requested resource', {}), 404);
    if (!route.methods.includes(req.method ?? 'GET')) fail(405, 'the server does not allow this method on the requested resource');
    return route.run(req.method ?? 'GET');
  }

  /** The resource a path names and the verbs the sim serves on it. */
  private route(seg: string[], req: IncomingMessage, q: URLSearchParams): Route | undefined {
    if (seg[0] === 'apis') {
      const [, group, version, namespaces, ns = '', resource, name = ''] = seg;
      // /apis/kafka.strimzi.io/v1beta2/namespaces/{ns}/kafkausers/{name}; the group is absent without Strimzi.
      if (group === STRIMZI_GROUP) {
        if (!kafkaUserOf(this.scenario).crdInstalled || version !== 'v1beta2' || namespaces !== 'namespaces' || resource !== 'kafkausers' || seg.length !== 7) return undefined;
        return { methods: ['GET'], run: () => this.getKafkaUser(ns, name) };
      }
      // /apis/apps/v1/namespaces/{ns}/deployments/{name}, /apis/apps/v1/namespaces/{ns}/replicasets
      if (group !== 'apps' || version !== 'v1' || namespaces !== 'namespaces') return undefined;
      if (resource === 'replicasets' && seg.length === 6) return { methods: ['GET'], run: () => this.listReplicaSets(ns, q) };
      if (resource !== 'deployments' || seg.length !== 7) return undefined;
      return {
        methods: ['GET', 'PATCH'],
        run: (method) => (method === 'PATCH' ? this.patchDeployment(ns, name, req, q) : this.getDeployment(ns, name)),
      };
    }
    // Authorization comes before routing: no verb on secrets, in any namespace or cluster-wide, is allowed.
    const secret = secretsRequest(seg);
    if (secret) {
      return {
        methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        run: (method) => forbidden(verbOf(method, secret.name !== '', q), 'secrets', '', secret.name, secret.namespace),
      };
    }
    // /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}[/...]]]
    const [root, version, namespaces, ns = '', resource, name = '', sub] = seg;
    if (root !== 'api' || version !== 'v1' || namespaces !== 'namespaces') return undefined;
    const get = (run: () => Reply): Route => ({ methods: ['GET'], run });
    const depth = seg.length;
    if (resource === 'pods' && depth === 5) return get(() => this.listPods(ns, q));
    if (resource === 'pods' && depth === 6) return get(() => this.getPod(ns, name));
    if (resource === 'pods' && sub === 'log' && depth === 7) return get(() => this.podLog(ns, name, q));
    if (resource === 'pods' && sub === 'proxy') return get(() => this.proxy(ns, name, seg.slice(7)));
    if (resource === 'events' && depth === 5) return get(() => this.listEvents(ns, q));
    if (resource === 'configmaps' && depth === 6) return get(() => this.getConfigMap(ns, name));
    return undefined;
  }

  private fault(resource: FaultResource, what: string, name: string, group = ''): void {
    const code = this.faults.get(resource);
    if (code === undefined) return;
    if (code === 403) forbidden('get', what, group, name, this.scenario.namespace);
    if (code === 404) notFound(what, name, group);
    if (code === 500) fail(500, `Internal error occurred: etcdserver: request timed out`);
    if (code === 503) fail(503, 'the server is currently unable to handle the request');
    if (code === 504) fail(504, 'the server was unable to return a response in the time allotted, but may still be processing the request');
    if (code === 429) fail(429, 'too many requests, please try again later');
    fail(code, `simulated API fault ${code} for ${what}`);
  }

  private getDeployment(namespace: string, name: string): Reply {
    this.fault('deployment', 'deployments', name, 'apps');
    if (namespace !== this.scenario.namespace || name !== this.scenario.deployment.name) notFound('deployments', name, 'apps');
    return json(this.deploymentObject());
  }

  private async patchDeployment(namespace: string, name: string, req: IncomingMessage, q: URLSearchParams): Promise<Reply> {
    this.fault('patch', 'deployments', name, 'apps');
    if (namespace !== this.scenario.namespace || name !== this.scenario.deployment.name) notFound('deployments', name, 'apps');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const accepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
    if (!accepted.includes(type)) {
      fail(415, `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
    }
    const raw = (await readBody(req)).toString('utf8');
    let patch: unknown;
    try {
      patch = JSON.parse(raw);
    } catch (err) {
      fail(400, `error decoding patch: ${(err as Error).message}`);
    }
    const before = this.deploymentObject();
    let after: unknown;
    if (type === 'application/json-patch+json') {
      if (!Array.isArray(patch)) fail(400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
      after = jsonPatch(before, patch);
    } else {
      if (!isRecord(patch)) fail(400, 'error decoding patch: a merge patch must be a JSON object');
      after = mergePatch(before, patch);
    }
    const next = this.validatePatched(before, after);
    if (q.get('dryRun') === 'All') return json(after);
    this.commit(next.replicas, next.templateAnnotations);
    this.dep.annotations = next.annotations;
    this.dep.labels = next.labels;
    return json(this.deploymentObject());
  }

  /** The sim simulates only replicas and annotations; anything else patched is refused loudly. */
  private validatePatched(before: Record<string, unknown>, after: unknown): {
    replicas: number;
    templateAnnotations: Record<string, string>;
    annotations: Record<string, string>;
    labels: Record<string, string>;
  } {
    const a = after as { metadata?: Record<string, unknown>; spec?: { replicas?: unknown; template?: { metadata?: { annotations?: unknown } } } };
    const rv = a.metadata?.resourceVersion;
    if (rv !== undefined && rv !== String(this.dep.resourceVersion)) {
      fail(409, `Operation cannot be fulfilled on deployments.apps "${this.scenario.deployment.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const replicas = a.spec?.replicas ?? 1;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      fail(422, `Deployment.apps "${this.scenario.deployment.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer`);
    }
    const stringMap = (value: unknown, field: string): Record<string, string> => {
      const map = value ?? {};
      if (!isRecord(map) || !Object.values(map).every((v) => typeof v === 'string')) {
        fail(422, `Deployment.apps "${this.scenario.deployment.name}" is invalid: ${field}: Invalid value: must map strings to strings`);
      }
      return map as Record<string, string>;
    };
    const result = {
      replicas,
      templateAnnotations: stringMap(a.spec?.template?.metadata?.annotations, 'spec.template.metadata.annotations'),
      annotations: stringMap(a.metadata?.annotations, 'metadata.annotations'),
      labels: stringMap(a.metadata?.labels, 'metadata.labels'),
    };
    const strip = (o: unknown): string => {
      const c = structuredClone(o) as { metadata?: Record<string, unknown>; spec?: { replicas?: unknown; template?: { metadata?: Record<string, unknown> } } };
      delete c.metadata?.annotations;
      delete c.metadata?.labels;
      delete c.metadata?.resourceVersion;
      delete c.spec?.replicas;
      delete c.spec?.template?.metadata?.annotations;
      return stableJson(c);
    };
    if (strip(before) !== strip(after)) {
      fail(422, 'the simulator supports patching only spec.replicas, metadata.annotations/labels and spec.template.metadata.annotations');
    }
    return result;
  }

  private listPods(namespace: string, q: URLSearchParams): Reply {
    this.fault('pods', 'pods', '');
    const matches = parseLabelSelector(q.get('labelSelector') ?? '');
    const all = [...this.pods, ...this.leftovers];
    const pods = namespace === this.scenario.namespace ? all.filter(() => matches(this.scenario.deployment.labels)) : [];
    const { items, continue: next } = page(pods.map((p) => this.podObject(p)), q);
    return json({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.dep.resourceVersion), ...(next ? { continue: next } : {}) }, items });
  }

  private listReplicaSets(namespace: string, q: URLSearchParams): Reply {
    this.fault('replicasets', 'replicasets', '', 'apps');
    const matches = parseLabelSelector(q.get('labelSelector') ?? '');
    const sets = namespace === this.scenario.namespace ? this.replicaSets.filter(() => matches(this.scenario.deployment.labels)) : [];
    const { items, continue: next } = page(sets.map((rs) => this.replicaSetObject(rs)), q);
    return json({ kind: 'ReplicaSetList', apiVersion: 'apps/v1', metadata: { resourceVersion: String(this.dep.resourceVersion), ...(next ? { continue: next } : {}) }, items });
  }

  private findPod(namespace: string, name: string): SimPod {
    const pod = namespace === this.scenario.namespace ? [...this.pods, ...this.leftovers].find((p) => p.name === name) : undefined;
    return pod ?? notFound('pods', name);
  }

  private getPod(namespace: string, name: string): Reply {
    this.fault('pods', 'pods', name);
    return json(this.podObject(this.findPod(namespace, name)));
  }

  private podLog(namespace: string, name: string, q: URLSearchParams): Reply {
    this.fault('logs', 'pods/log', name);
    const pod = this.findPod(namespace, name);
    const container = q.get('container') ?? this.scenario.container;
    if (container !== this.scenario.container) fail(400, `container ${container} is not valid for pod ${name}`);
    if (pod.phase === 'Pending') {
      fail(400, `container "${container}" in pod "${name}" is waiting to start: ${this.condition.containerWaiting?.reason ?? 'ContainerCreating'}`);
    }
    if (q.get('previous') === 'true' && pod.restarts === 0) fail(400, `previous terminated container "${container}" in pod "${name}" not found`);
    const tailLines = intParam(q, 'tailLines', 0);
    const limitBytes = intParam(q, 'limitBytes', 1);
    const lines = tailLines === undefined ? this.condition.logs : tailLines === 0 ? [] : this.condition.logs.slice(-tailLines);
    let body = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
    if (limitBytes !== undefined) body = body.subarray(0, limitBytes);
    return { status: 200, body, contentType: 'text/plain' };
  }

  private proxy(namespace: string, nameAndPort: string, rest: string[]): Reply {
    this.fault('proxy', 'pods/proxy', nameAndPort);
    const parts = nameAndPort.split(':');
    const [name, port] = parts.length === 3 ? [parts[1]!, parts[2]!] : [parts[0]!, parts[1]];
    const pod = this.findPod(namespace, name);
    const targetPort = port ? Number(port) : this.scenario.port;
    if (targetPort !== this.scenario.port || pod.phase !== 'Running' || pod.leftover) {
      return json(kubeStatus(503, `error trying to reach service: dial tcp ${pod.ip}:${targetPort}: connect: connection refused`), 503);
    }
    return this.podAnswer(pod, `/${rest.join('/')}`.replace(/^\/+/, '/'));
  }

  private handlePod(req: IncomingMessage, url: URL): Reply {
    const pod = this.pods[0];
    if (!pod) return { status: 503, body: 'no pods', contentType: 'text/plain' };
    if (req.method !== 'GET') return { status: 405, body: 'Method Not Allowed', contentType: 'text/plain' };
    return this.podAnswer(pod, url.pathname);
  }

  /** What the forwarder itself answers on its health port. */
  private podAnswer(pod: SimPod, path: string): Reply {
    if (path === this.scenario.health.livenessPath) return healthReply(this.condition.liveness, pod, this.scenario.port);
    if (path !== this.scenario.health.readinessPath) return { status: 404, body: 'Not Found', contentType: 'text/plain; charset=utf-8' };
    if (this.cured && this.condition.relapseAfter !== undefined) {
      this.readinessProbesSinceCure += 1;
      if (this.readinessProbesSinceCure > this.condition.relapseAfter) this.relapse();
    }
    const answer = pod.ready && !isOk(this.condition.readiness) ? this.scenario.readyReadiness : this.condition.readiness;
    return healthReply(answer, pod, this.scenario.port);
  }

  private listEvents(namespace: string, q: URLSearchParams): Reply {
    this.fault('events', 'events', '');
    const matches = parseEventFieldSelector(q.get('fieldSelector') ?? '', namespace);
    const events = namespace === this.scenario.namespace ? this.events.filter(matches) : [];
    const { items, continue: next } = page(events.map((e, i) => this.eventObject(e, i)), q);
    return json({ kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: String(this.dep.resourceVersion), ...(next ? { continue: next } : {}) }, items });
  }

  /** The Strimzi KafkaUser as its User Operator leaves it: Ready with status.secret, or NotReady with the exception. */
  private getKafkaUser(namespace: string, name: string): Reply {
    this.fault('kafkaUser', 'kafkausers', name, STRIMZI_GROUP);
    const user = kafkaUserOf(this.scenario);
    if (namespace !== this.scenario.namespace || name !== user.name || user.state === 'absent') notFound('kafkausers', name, STRIMZI_GROUP);
    const at = iso(this.dep.createdAt);
    const ready = user.state === 'ready';
    return json({
      apiVersion: `${STRIMZI_GROUP}/v1beta2`,
      kind: 'KafkaUser',
      metadata: {
        name: user.name,
        namespace,
        uid: uid(`kafkauser/${user.name}`),
        generation: 1,
        resourceVersion: '48207',
        creationTimestamp: at,
        labels: { 'app.kubernetes.io/instance': 'torghut-ws', 'strimzi.io/cluster': 'kafka' },
      },
      spec: {
        authentication: { type: 'scram-sha-512' },
        authorization: { type: 'simple', acls: [{ resource: { type: 'topic', name: 'torghut.', patternType: 'prefix' }, operations: ['Describe', 'Write'] }] },
      },
      status: {
        observedGeneration: 1,
        conditions: [
          ready
            ? { type: 'Ready', status: 'True', lastTransitionTime: at }
            : { type: 'NotReady', status: 'True', reason: user.reason, message: user.message, lastTransitionTime: at },
        ],
        username: user.name,
        ...(ready ? { secret: user.secret } : {}),
      },
    });
  }

  private getConfigMap(namespace: string, name: string): Reply {
    this.fault('configmap', 'configmaps', name);
    const c = this.scenario.configMap;
    if (namespace !== this.scenario.namespace || name !== c.name || !c.present) notFound('configmaps', name);
    return json({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: c.name, namespace, uid: uid(`configmap/${c.name}`), resourceVersion: '48190', creationTimestamp: iso(this.dep.createdAt) },
      data: c.data,
    });
  }

  // ---- object shapes ------------------------------------------------------------------------

  private deploymentObject(): Record<string, unknown> {
    const s = this.scenario;
    const ready = this.pods.filter((p) => p.ready).length;
    const updated = this.pods.filter((p) => p.hash === this.hash).length;
    const complete = ready >= this.dep.replicas;
    const at = iso(this.pods[0]?.startedAt ?? this.dep.createdAt);
    return {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: {
        name: s.deployment.name,
        namespace: s.namespace,
        uid: this.dep.uid,
        resourceVersion: String(this.dep.resourceVersion),
        generation: this.dep.generation,
        creationTimestamp: iso(this.dep.createdAt),
        labels: this.dep.labels,
        annotations: this.dep.annotations,
      },
      spec: {
        replicas: this.dep.replicas,
        selector: { matchLabels: s.deployment.labels },
        strategy: { type: 'Recreate' },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        template: {
          metadata: { labels: s.deployment.labels, annotations: this.dep.templateAnnotations },
          spec: {
            containers: [
              {
                name: s.container,
                image: s.deployment.image,
                ports: [{ name: 'http', containerPort: s.port, protocol: 'TCP' }],
                envFrom: [{ configMapRef: { name: s.configMap.name } }, { secretRef: { name: s.secret.name } }],
                livenessProbe: { httpGet: { path: s.health.livenessPath, port: s.port, scheme: 'HTTP' }, periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { httpGet: { path: s.health.readinessPath, port: s.port, scheme: 'HTTP' }, periodSeconds: 5, failureThreshold: 3 },
              },
            ],
          },
        },
      },
      status: {
        observedGeneration: this.dep.observedGeneration,
        replicas: this.pods.length,
        updatedReplicas: updated,
        ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
        ...(this.pods.length - ready > 0 ? { unavailableReplicas: this.pods.length - ready } : {}),
        conditions: [
          complete
            ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: at, lastTransitionTime: at }
            : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: at, lastTransitionTime: at },
          this.rollouts > 0 && !complete
            ? { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${this.rsName()}" is progressing.`, lastUpdateTime: at, lastTransitionTime: at }
            : { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${this.rsName()}" has successfully progressed.`, lastUpdateTime: at, lastTransitionTime: at },
        ],
      },
    };
  }

  private podObject(pod: SimPod): Record<string, unknown> {
    const s = this.scenario;
    const started = iso(pod.startedAt);
    const running = pod.phase === 'Running' && pod.leftover === undefined;
    const rs = `${s.deployment.name}-${pod.hash}`;
    const finished = pod.leftover === 'Evicted' || pod.leftover === 'Completed';
    const state = running
      ? { running: { startedAt: started } }
      : finished
        ? { terminated: pod.leftover === 'Completed' ? { exitCode: 0, reason: 'Completed', startedAt: started } : { exitCode: 137, reason: 'Error', startedAt: started } }
        : pod.leftover === 'Terminating'
          ? { running: { startedAt: started } }
          : { waiting: this.waitingState(pod) };
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: pod.name,
        generateName: `${rs}-`,
        namespace: s.namespace,
        uid: pod.uid,
        resourceVersion: String(this.dep.resourceVersion),
        creationTimestamp: started,
        ...(pod.leftover === 'Terminating' ? { deletionTimestamp: iso(this.now()), deletionGracePeriodSeconds: 30 } : {}),
        labels: { ...s.deployment.labels, 'pod-template-hash': pod.hash },
        annotations: this.dep.templateAnnotations,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: uid(`rs/${pod.hash}`), controller: true, blockOwnerDeletion: true }],
      },
      spec: { nodeName: s.pods.nodeName, containers: [{ name: s.container, image: s.deployment.image, ports: [{ containerPort: s.port, protocol: 'TCP' }] }] },
      status: {
        phase: pod.phase,
        ...(pod.leftover === 'Evicted' ? { reason: 'Evicted', message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi.' } : {}),
        podIP: pod.ip,
        startTime: started,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
          { type: 'Initialized', status: 'True', lastTransitionTime: started },
          { type: 'ContainersReady', status: pod.ready ? 'True' : 'False', lastTransitionTime: started },
          { type: 'Ready', status: pod.ready ? 'True' : 'False', lastTransitionTime: started },
        ],
        containerStatuses: [
          {
            name: s.container,
            image: s.deployment.image,
            imageID: `${s.deployment.image}@sha256:${createHash('sha256').update(s.deployment.image).digest('hex')}`,
            ready: pod.ready,
            started: running,
            restartCount: pod.restarts,
            state,
          },
        ],
      },
    };
  }

  private waitingState(pod: SimPod): { reason: string; message?: string } {
    const waiting = pod.phase === 'Pending' ? this.condition.containerWaiting : undefined;
    return waiting ? { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } : { reason: 'ContainerCreating' };
  }

  private replicaSetObject(rs: SimReplicaSet): Record<string, unknown> {
    const s = this.scenario;
    const current = rs.hash === this.hash;
    const pods = current ? this.pods : [];
    const ready = pods.filter((p) => p.ready).length;
    return {
      kind: 'ReplicaSet',
      apiVersion: 'apps/v1',
      metadata: {
        name: `${s.deployment.name}-${rs.hash}`,
        namespace: s.namespace,
        uid: uid(`rs/${rs.hash}`),
        resourceVersion: String(this.dep.resourceVersion),
        generation: 1,
        creationTimestamp: iso(rs.createdAt),
        labels: { ...s.deployment.labels, 'pod-template-hash': rs.hash },
        annotations: { 'deployment.kubernetes.io/revision': String(rs.revision), 'deployment.kubernetes.io/desired-replicas': String(this.dep.replicas) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: s.deployment.name, uid: this.dep.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: current ? this.dep.replicas : 0,
        selector: { matchLabels: { ...s.deployment.labels, 'pod-template-hash': rs.hash } },
        template: { metadata: { labels: { ...s.deployment.labels, 'pod-template-hash': rs.hash } }, spec: { containers: [{ name: s.container, image: s.deployment.image }] } },
      },
      status: { replicas: pods.length, fullyLabeledReplicas: pods.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: 1 },
    };
  }

  /** An event as the core/v1 API shows it; one written through events.k8s.io/v1 keeps that shape. */
  private eventObject(e: SimEvent, i: number): Record<string, unknown> {
    const common = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name: `${e.name}.${createHash('sha1').update(`${e.uid}/${i}`).digest('hex').slice(0, 16)}`, namespace: this.scenario.namespace, creationTimestamp: iso(e.first) },
      involvedObject: { kind: e.kind, name: e.name, namespace: this.scenario.namespace, uid: e.uid, apiVersion: e.kind === 'Pod' ? 'v1' : 'apps/v1' },
      reason: e.reason,
      message: e.message,
      type: e.type,
    };
    if (e.api === 'events.k8s.io/v1') {
      const micro = (d: Date) => d.toISOString().replace(/Z$/, '000Z');
      const component = e.kind === 'Pod' ? 'kubelet' : 'deployment-controller';
      return {
        ...common,
        source: {},
        eventTime: micro(e.first),
        ...(e.count > 1 ? { series: { count: e.count, lastObservedTime: micro(e.last) } } : {}),
        reportingComponent: component,
        reportingInstance: e.kind === 'Pod' ? this.scenario.pods.nodeName : `${component}-0`,
        action: 'Probing',
        firstTimestamp: null,
        lastTimestamp: null,
      };
    }
    return {
      ...common,
      source: { component: e.kind === 'Pod' ? 'kubelet' : 'deployment-controller' },
      firstTimestamp: iso(e.first),
      lastTimestamp: iso(e.last),
      count: e.count,
    };
  }
}

function listenOn(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts the simulated API server for a scenario (object, or name/path of a scenario file). */
export async function startKubeSim(scenario: Scenario | string, options: KubeSimOptions = {}): Promise<KubeSim> {
  const loaded = typeof scenario === 'string' ? await loadScenario(scenario) : scenario;
  return new KubeSim(loaded, options).listen();
}

/** A kubeconfig document for an endpoint (server URL and bearer token). */
export function kubeconfigYaml(endpoint: KubeEndpoint, context = 'torghut-sim'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node refuses plain http:// unless TLS verification is explicitly off.
    clusters: [{ name: context, cluster: { server: endpoint.url, ...(endpoint.url.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {}) } }],
    users: [{ name: `${context}-agentruns`, user: { token: endpoint.token } }],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-agentruns`, namespace: 'torghut' } }],
    'current-context': context,
    preferences: {},
  });
}

/** A loaded KubeConfig pointing at the endpoint. */
export function kubeconfigFor(endpoint: KubeEndpoint): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(endpoint));
  return kc;
}

/** Writes `<dir>/kubeconfig` (mode 0600) for the endpoint and returns its path (for KUBECONFIG). */
export async function writeKubeconfig(endpoint: KubeEndpoint, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'kubeconfig');
  await writeFile(path, kubeconfigYaml(endpoint), { mode: 0o600 });
  return path;
}
