/**
 * The simulated Kubernetes API server's fault switches, per resource and per test: the next matching
 * requests (after authentication, before routing) fail the way a real API server or the network
 * between fails them:
 * - an error answer with the `Status` body the real server sends: 500 (etcd timed out), 503, 403
 *   (RBAC tightened), 429 with `Retry-After` (API priority and fairness);
 * - on the wire (../fault-queue.ts): a slow answer (`delayMs`), no answer at all (`hang`: the
 *   connection stays open until the client gives up), a dropped connection (`dropAfterWrite`: the
 *   request is handled, then the socket is destroyed instead of answering).
 *
 * Each fault names a resource — `deployments`, `replicasets`, `pods`, `pods/log`, `pods/proxy`,
 * `events`, `configmaps`, `kafkausers` — and is used up after `times` matching requests (default 1).
 * The scenario files' `faults:` (a fixed status per resource for the whole run) are separate.
 */
import { FaultQueue, type FaultMatch, type WireFault } from './fault-queue';

export const KUBE_RESOURCES = ['deployments', 'replicasets', 'pods', 'pods/log', 'pods/proxy', 'events', 'configmaps', 'kafkausers'] as const;
export type KubeResource = (typeof KUBE_RESOURCES)[number];

export interface KubeFault extends WireFault {
  resource: KubeResource;
  /** Only requests of this method (default any). */
  method?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Answer with this status and a `Status` body instead of handling the request. */
  status?: number;
  /** With 429: the `Retry-After` header, in seconds. */
  retryAfterSeconds?: number;
}

/** The resource an API path names, or undefined for paths no fault applies to. */
export function resourceOf(path: string): KubeResource | undefined {
  const seg = path.split('/').slice(1);
  if (seg[0] === 'apis') {
    // /apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}]
    const resource = seg[5];
    return resource === 'deployments' || resource === 'replicasets' || resource === 'kafkausers' ? resource : undefined;
  }
  // /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
  const [root, , , , resource, , sub] = seg;
  if (root !== 'api') return undefined;
  if (resource === 'pods' && sub === 'log') return 'pods/log';
  if (resource === 'pods' && sub === 'proxy') return 'pods/proxy';
  if (resource === 'pods' && sub === undefined) return 'pods';
  return resource === 'events' || resource === 'configmaps' ? resource : undefined;
}

type QueuedFault = KubeFault & FaultMatch;

/** The switched-on faults of one simulated API server, oldest first. */
export class KubeFaults {
  private readonly queue = new FaultQueue<QueuedFault>();

  add(fault: KubeFault): void {
    this.queue.add({ ...fault, path: new RegExp(`^${fault.resource}$`) });
  }

  /** The fault for this request, counted as used; undefined when none applies. */
  take(method: string, path: string): KubeFault | undefined {
    const resource = resourceOf(path);
    return resource ? this.queue.take(method, resource) : undefined;
  }

  get pending(): number {
    return this.queue.pending;
  }
}

const REASONS: Record<number, string> = {
  403: 'Forbidden',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const MESSAGES: Record<number, (resource: string) => string> = {
  403: (resource) => `${resource} is forbidden: User "system:serviceaccount:agentruns:agentruns" cannot get resource "${resource}"`,
  429: () => 'Too many requests, please try again later.',
  500: () => 'Internal error occurred: etcdserver: request timed out',
  503: () => 'the server is currently unable to handle the request',
  504: () => 'the server was unable to return a response in the time allotted, but may still be processing the request',
};

/** The answer of a fault with a status: the API server's `Status` object and its headers. */
export function faultAnswer(fault: KubeFault): { status: number; body: string; headers: Record<string, string> } | null {
  if (fault.status === undefined || fault.dropAfterWrite) return null;
  const code = fault.status;
  const body = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: (MESSAGES[code] ?? (() => `simulated API fault ${code}`))(fault.resource),
    reason: REASONS[code] ?? 'Unknown',
    ...(code === 429 ? { details: { retryAfterSeconds: fault.retryAfterSeconds ?? 1 } } : {}),
    code,
  };
  const headers: Record<string, string> = code === 429 ? { 'Retry-After': String(fault.retryAfterSeconds ?? 1) } : {};
  return { status: code, body: JSON.stringify(body), headers };
}

type Options = Pick<KubeFault, 'method' | 'times'>;

/** The next request(s) on `resource` answered with `status` (500, 503, 403, …). */
export function apiError(resource: KubeResource, status: number, options: Options = {}): KubeFault {
  return { resource, status, ...options };
}

/** The next request(s) on `resource` answered 429 with `Retry-After: seconds`. */
export function apiTooManyRequests(resource: KubeResource, retryAfterSeconds: number, options: Options = {}): KubeFault {
  return { resource, status: 429, retryAfterSeconds, ...options };
}

/** The next request(s) on `resource` never answered: the connection stays open until the client leaves. */
export function apiHang(resource: KubeResource, options: Options = {}): KubeFault {
  return { resource, hang: true, ...options };
}

/** The next request(s) on `resource` handled, then their connection destroyed before the answer. */
export function apiDrop(resource: KubeResource, options: Options = {}): KubeFault {
  return { resource, dropAfterWrite: true, ...options };
}

/** The next request(s) on `resource` answered `ms` later. */
export function apiDelay(resource: KubeResource, ms: number, options: Options = {}): KubeFault {
  return { resource, delayMs: ms, ...options };
}
