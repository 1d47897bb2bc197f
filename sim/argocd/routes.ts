/**
 * The simulated Argo CD API server's routes: the two calls the automation makes,
 * `GET /api/v1/applications/{name}` and `POST /api/v1/applications/{name}/sync`. It rejects what
 * the real API rejects: no or wrong bearer token (401), an unknown application (404, as for one
 * the token may not see), another method (405), malformed JSON (400), a sync while another
 * operation is requested or running (400, FailedPrecondition). Injected faults (./faults.ts) act
 * after authentication: an error answer, a delay, no answer at all, or a lost answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from '../fault-queue';
import { dropConnection, readBody, sendJson, sleep, type LoggedRequest } from '../http-util';
import { faultAnswer, type ArgoFault } from './faults';
import { applicationJson, argoError, GRPC } from './responses';
import type { ArgoApplications } from './state';

export interface ArgoRouteDeps {
  token: string;
  apps: ArgoApplications;
  faults: FaultQueue<ArgoFault>;
  requests: LoggedRequest[];
  syncRequests: Array<{ application: string; body: Record<string, unknown> }>;
  pickupDelayMs: number;
}

interface Answer {
  status: number;
  json?: unknown;
  text?: string;
}

const json = (status: number, body: unknown): Answer => ({ status, json: body });

export function argoRoutes(deps: ArgoRouteDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const route = async (req: IncomingMessage, url: URL, method: string): Promise<Answer> => {
    const match = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/.exec(url.pathname);
    if (!match) return json(404, argoError('Not Found', GRPC.notFound));
    const name = decodeURIComponent(match[1]!);
    const app = deps.apps.get(name);
    if (!app) {
      // Argo CD answers an application the token may not see like one that does not exist.
      return json(404, argoError(`applications.argoproj.io "${name}" not found`, GRPC.notFound));
    }
    if (!match[2]) {
      if (method !== 'GET') return json(405, argoError('Method Not Allowed', GRPC.unimplemented));
      return json(200, applicationJson(app));
    }
    if (method !== 'POST') return json(405, argoError('Method Not Allowed', GRPC.unimplemented));
    let body: Record<string, unknown>;
    try {
      const raw = (await readBody(req)).toString('utf8');
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch (err) {
      return json(400, argoError(`error unmarshaling request: ${(err as Error).message}`, GRPC.invalidArgument));
    }
    if (app.operation) return json(400, argoError('another operation is already in progress', GRPC.failedPrecondition));
    deps.syncRequests.push({ application: name, body });
    app.syncs += 1;
    const revision = typeof body.revision === 'string' && body.revision !== '' ? body.revision : undefined;
    deps.apps.start(app, { sync: { ...(revision ? { revision } : {}), prune: body.prune === true }, initiatedBy: { username: 'agentruns' } }, deps.pickupDelayMs);
    return json(200, applicationJson(app));
  };

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? '';
    deps.requests.push({ method, path: url.pathname, query: url.search, at: Date.now() });
    if (req.headers.authorization !== `Bearer ${deps.token}`) {
      return sendJson(res, 401, argoError('no session information', GRPC.unauthenticated));
    }
    const fault = deps.faults.take(method, url.pathname);
    if (fault?.hang) return;
    if (fault?.delayMs) await sleep(fault.delayMs);
    const answer = (fault ? faultAnswer(fault) : null) ?? (await route(req, url, method));
    if (fault?.dropAfterWrite) return dropConnection(res);
    if (answer.text === undefined) return sendJson(res, answer.status, answer.json);
    res.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(answer.text);
  };
}
