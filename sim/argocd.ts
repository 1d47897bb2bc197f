/**
 * Simulated Argo CD API server: the two calls the automation makes (GET an application, POST its
 * sync). A sync reads the desired manifest from the simulated Git repository and applies it to the
 * simulated cluster, as Argo CD would; health is read live from the cluster. It rejects what the
 * real API rejects: no or wrong bearer token (401), an unknown application (404), malformed JSON
 * (400), a sync while another operation is requested or running (400, FailedPrecondition).
 *
 * Operations follow Argo CD's two-step life: the POST (or the automated sync) records the requested
 * `operation` on the Application; the application controller picks it up after `pickupDelayMs`,
 * which replaces `status.operationState` with a Running state (`startedAt`), and finishes it after
 * `applyDelayMs` (`finishedAt`, `syncResult.revision`), clearing `operation`. Until the pick-up a GET
 * still shows the PREVIOUS operation's state — every application starts with one from an earlier
 * sync (`previousSyncAgoMs`) — which is exactly what a client must not take for its own.
 * Timestamps are RFC 3339 with whole seconds, as Kubernetes serialises them.
 */
import { createServer, type Server } from 'node:http';
import { closeServer, listen, readBody, sendJson, type LoggedRequest } from './http-util';

export interface ArgoSimApplication {
  name: string;
  /** Desired state from Git: the manifest text and the commit it came from. */
  readDesired(): Promise<{ manifest: string; revision: string }>;
  /** Apply the manifest to the cluster (the in-process simulator, or a real API server). */
  apply(manifest: string): void | Promise<void>;
  /** Live health of the application's resources. */
  health(): 'Healthy' | 'Progressing' | 'Degraded';
}

export interface ArgoOperation {
  sync: { revision?: string; prune?: boolean };
  initiatedBy: { username?: string; automated?: boolean };
}

export interface ArgoOperationState {
  operation: ArgoOperation;
  phase: 'Running' | 'Succeeded' | 'Failed' | 'Error';
  message: string;
  startedAt: string;
  finishedAt?: string;
  syncResult?: { revision: string };
}

interface AppState {
  spec: ArgoSimApplication;
  syncStatus: 'Synced' | 'OutOfSync';
  revision: string;
  /** The requested operation, until the controller finished it (Application.operation). */
  operation: ArgoOperation | null;
  /** The state of the last operation the controller started (Application.status.operationState). */
  operationState: ArgoOperationState | null;
  syncs: number;
}

/** An injected failure of the next matching request(s), answered with `body` as it is. */
export interface ArgoFault {
  method?: string;
  /** Matched against the request path (string: substring). */
  path?: RegExp | string;
  status: number;
  /** JSON-encoded unless a string. Default: an Argo-shaped `{error, code, message}`. */
  body?: unknown;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface ArgoSimOptions {
  token: string;
  applications: ArgoSimApplication[];
  /** How long a sync operation runs once started; default 50 ms. */
  applyDelayMs?: number;
  /**
   * How long the application controller takes to pick up a requested operation; until then GET shows
   * the previous operation's state. Default 0 (picked up before the POST answers).
   */
  pickupDelayMs?: number;
  /** When the seeded previous sync of every application started; null: never synced. Default 1 hour ago. */
  previousSyncAgoMs?: number | null;
  /** Clock for operation timestamps; default the system clock. */
  now?: () => Date;
}

export interface ArgoSim {
  url: string;
  requests: LoggedRequest[];
  /** Bodies of every accepted POST …/sync, oldest first. */
  syncRequests: Array<{ application: string; body: Record<string, unknown> }>;
  /** Operations started through the API (not automated ones). */
  syncCount(name: string): number;
  /** The application's current operation state (null: never synced). */
  operationState(name: string): ArgoOperationState | null;
  /** Argo CD's automated sync starts an operation now (e.g. it noticed the merge before we asked). */
  autoSync(name: string): void;
  /** The next matching API requests fail with this status and body. */
  failNext(fault: ArgoFault): void;
  /** Resolves when every operation started so far has finished. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const argoError = (message: string, code: number) => ({ error: message, code, message });

export async function startArgoSim(options: ArgoSimOptions): Promise<ArgoSim> {
  const now = options.now ?? (() => new Date());
  const stamp = (at: Date = now()) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const previousSyncAgoMs = options.previousSyncAgoMs === undefined ? 3_600_000 : options.previousSyncAgoMs;
  const apps = new Map<string, AppState>();
  for (const spec of options.applications) {
    const app: AppState = { spec, syncStatus: 'Synced', revision: '', operation: null, operationState: null, syncs: 0 };
    if (previousSyncAgoMs !== null) {
      // The last sync before the simulation started: finished, and of the Git head at that time.
      const revision = await spec.readDesired().then(
        (d) => d.revision,
        () => '',
      );
      const startedAt = new Date(now().getTime() - previousSyncAgoMs);
      app.revision = revision;
      app.operationState = {
        operation: { sync: { revision }, initiatedBy: { automated: true } },
        phase: 'Succeeded',
        message: 'successfully synced (all tasks run)',
        startedAt: stamp(startedAt),
        finishedAt: stamp(new Date(startedAt.getTime() + 5000)),
        syncResult: { revision },
      };
    }
    apps.set(spec.name, app);
  }
  const requests: LoggedRequest[] = [];
  const syncRequests: ArgoSim['syncRequests'] = [];
  const faults: Array<ArgoFault & { left: number }> = [];
  const running = new Set<Promise<void>>();

  const view = (app: AppState) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: app.spec.name, namespace: 'argocd' },
    ...(app.operation ? { operation: app.operation } : {}),
    status: {
      sync: { status: app.syncStatus, revision: app.revision },
      health: { status: app.spec.health() },
      ...(app.operationState ? { operationState: app.operationState } : {}),
    },
  });

  /** The application controller: picks the requested operation up, runs it, records the result. */
  const run = async (app: AppState, operation: ArgoOperation, pickupDelayMs: number) => {
    if (pickupDelayMs > 0) await new Promise((r) => setTimeout(r, pickupDelayMs));
    const state: ArgoOperationState = { operation, phase: 'Running', message: 'one or more tasks are running', startedAt: stamp() };
    app.operationState = state;
    try {
      const desired = await app.spec.readDesired();
      const revision = operation.sync.revision;
      if (revision && revision !== desired.revision && revision !== 'HEAD') {
        throw new Error(`revision ${revision} is not the head of the tracked branch (${desired.revision})`);
      }
      await new Promise((r) => setTimeout(r, options.applyDelayMs ?? 50));
      await app.spec.apply(desired.manifest);
      app.revision = desired.revision;
      app.syncStatus = 'Synced';
      Object.assign(state, { phase: 'Succeeded', message: 'successfully synced (all tasks run)', finishedAt: stamp(), syncResult: { revision: desired.revision } });
    } catch (err) {
      Object.assign(state, { phase: 'Failed', message: (err as Error).message, finishedAt: stamp() });
    } finally {
      app.operation = null;
    }
  };

  const start = (app: AppState, operation: ArgoOperation, pickupDelayMs: number): void => {
    app.operation = operation;
    // Without a pick-up delay `run` records the Running state before it first awaits, so the answer
    // to the POST already shows it.
    const job: Promise<void> = run(app, operation, pickupDelayMs).finally(() => running.delete(job));
    running.add(job);
  };

  const takeFault = (method: string, path: string): ArgoFault | undefined => {
    const index = faults.findIndex(
      (f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))),
    );
    const fault = faults[index];
    if (!fault) return undefined;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sim');
      const method = req.method ?? '';
      requests.push({ method, path: url.pathname, query: url.search, at: Date.now() });
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        return sendJson(res, 401, argoError('no session information', 16));
      }
      const fault = takeFault(method, url.pathname);
      if (fault) {
        const body = fault.body ?? argoError(`simulated failure (${fault.status})`, 13);
        if (typeof body === 'string') {
          res.writeHead(fault.status, { 'content-type': 'text/plain; charset=utf-8' });
          return void res.end(body);
        }
        return sendJson(res, fault.status, body);
      }
      const match = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/.exec(url.pathname);
      if (!match) return sendJson(res, 404, argoError('Not Found', 5));
      const name = decodeURIComponent(match[1]!);
      const app = apps.get(name);
      if (!app) {
        // Argo CD answers an application the token may not see like one that does not exist.
        return sendJson(res, 404, argoError(`applications.argoproj.io "${name}" not found`, 5));
      }
      if (!match[2]) {
        if (method !== 'GET') return sendJson(res, 405, argoError('Method Not Allowed', 12));
        return sendJson(res, 200, view(app));
      }
      if (method !== 'POST') return sendJson(res, 405, argoError('Method Not Allowed', 12));
      let body: Record<string, unknown>;
      try {
        const raw = (await readBody(req)).toString('utf8');
        const parsed: unknown = raw ? JSON.parse(raw) : {};
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch (err) {
        return sendJson(res, 400, argoError(`error unmarshaling request: ${(err as Error).message}`, 3));
      }
      if (app.operation) return sendJson(res, 400, argoError('another operation is already in progress', 9));
      syncRequests.push({ application: name, body });
      app.syncs += 1;
      const revision = typeof body.revision === 'string' && body.revision !== '' ? body.revision : undefined;
      start(app, { sync: { ...(revision ? { revision } : {}), prune: body.prune === true }, initiatedBy: { username: 'agentruns' } }, options.pickupDelayMs ?? 0);
      return sendJson(res, 200, view(app));
    })().catch((err: Error) => sendJson(res, 500, argoError(err.message, 13)));
  });

  const url = await listen(server);
  const appNamed = (name: string): AppState => {
    const app = apps.get(name);
    if (!app) throw new Error(`no application ${name}`);
    return app;
  };
  return {
    url,
    requests,
    syncRequests,
    syncCount: (name) => apps.get(name)?.syncs ?? 0,
    operationState: (name) => {
      const state = appNamed(name).operationState;
      return state ? structuredClone(state) : null;
    },
    autoSync(name) {
      const app = appNamed(name);
      if (app.operation) throw new Error(`${name}: another operation is already in progress`);
      start(app, { sync: {}, initiatedBy: { automated: true } }, 0);
    },
    failNext(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
    close: async () => {
      await closeServer(server);
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
