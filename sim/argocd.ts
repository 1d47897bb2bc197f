/**
 * Simulated Argo CD API server: the two calls the automation makes (GET an application, POST its
 * sync). A sync reads the desired manifest from the simulated Git repository and applies it to the
 * simulated cluster, as Argo CD would; health is read live from the cluster. It rejects what the
 * real API rejects: no or wrong bearer token (401), an unknown application (404), malformed JSON
 * (400), a sync while another operation runs (400, FailedPrecondition).
 */
import { createServer, type Server } from 'node:http';
import { closeServer, listen, readBody, sendJson, type LoggedRequest } from './http-util';

export interface ArgoSimApplication {
  name: string;
  /** Desired state from Git: the manifest text and the commit it came from. */
  readDesired(): Promise<{ manifest: string; revision: string }>;
  /** Apply the manifest to the (simulated) cluster. */
  apply(manifest: string): void;
  /** Live health of the application's resources. */
  health(): 'Healthy' | 'Progressing' | 'Degraded';
}

interface AppState {
  spec: ArgoSimApplication;
  syncStatus: 'Synced' | 'OutOfSync';
  revision: string;
  operation: { phase: 'Running' | 'Succeeded' | 'Failed'; message: string; finishedAt?: string } | null;
  syncs: number;
}

export interface ArgoSim {
  url: string;
  requests: LoggedRequest[];
  syncCount(name: string): number;
  close(): Promise<void>;
}

export async function startArgoSim(options: { token: string; applications: ArgoSimApplication[]; applyDelayMs?: number }): Promise<ArgoSim> {
  const apps = new Map<string, AppState>(
    options.applications.map((spec) => [spec.name, { spec, syncStatus: 'Synced', revision: '', operation: null, syncs: 0 }]),
  );
  const requests: LoggedRequest[] = [];

  const view = (app: AppState) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: app.spec.name, namespace: 'argocd' },
    status: {
      sync: { status: app.syncStatus, revision: app.revision },
      health: { status: app.spec.health() },
      ...(app.operation ? { operationState: app.operation } : {}),
    },
  });

  const sync = async (app: AppState, revision: string | undefined) => {
    try {
      const desired = await app.spec.readDesired();
      if (revision && revision !== desired.revision && revision !== 'HEAD') {
        throw new Error(`revision ${revision} is not the head of the tracked branch (${desired.revision})`);
      }
      await new Promise((r) => setTimeout(r, options.applyDelayMs ?? 50));
      app.spec.apply(desired.manifest);
      app.revision = desired.revision;
      app.syncStatus = 'Synced';
      app.operation = { phase: 'Succeeded', message: 'successfully synced (all tasks run)', finishedAt: new Date().toISOString() };
    } catch (err) {
      app.operation = { phase: 'Failed', message: (err as Error).message, finishedAt: new Date().toISOString() };
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://sim');
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.search, at: Date.now() });
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        return sendJson(res, 401, { error: 'no session information', code: 16, message: 'no session information' });
      }
      const match = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/.exec(url.pathname);
      if (!match) return sendJson(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' });
      const name = decodeURIComponent(match[1]!);
      const app = apps.get(name);
      if (!app) {
        const message = `applications.argoproj.io "${name}" not found`;
        return sendJson(res, 404, { error: message, code: 5, message });
      }
      if (!match[2]) {
        if (req.method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed', code: 12, message: 'Method Not Allowed' });
        return sendJson(res, 200, view(app));
      }
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed', code: 12, message: 'Method Not Allowed' });
      let body: { revision?: unknown };
      try {
        const raw = (await readBody(req)).toString('utf8');
        body = raw ? (JSON.parse(raw) as { revision?: unknown }) : {};
        if (typeof body !== 'object' || body === null) throw new Error('not an object');
      } catch (err) {
        const message = `error unmarshaling request: ${(err as Error).message}`;
        return sendJson(res, 400, { error: message, code: 3, message });
      }
      if (app.operation?.phase === 'Running') {
        const message = 'another operation is already in progress';
        return sendJson(res, 400, { error: message, code: 9, message });
      }
      app.syncs += 1;
      app.operation = { phase: 'Running', message: 'syncing' };
      void sync(app, typeof body.revision === 'string' ? body.revision : undefined);
      return sendJson(res, 200, view(app));
    })().catch((err: Error) => sendJson(res, 500, { error: err.message, code: 13, message: err.message }));
  });

  const url = await listen(server);
  return {
    url,
    requests,
    syncCount: (name) => apps.get(name)?.syncs ?? 0,
    close: () => closeServer(server),
  };
}
