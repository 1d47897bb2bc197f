/**
 * The simulated Argo CD API server's routes: the two calls the automation makes,
 * `GET /api/v1/applications/{name}` and `POST /api/v1/applications/{name}/sync`. It rejects what
 * the real API rejects: no or wrong bearer token (401), an unknown application (404, as for one
 * the token may not see), another method (405), malformed JSON (400), a sync while another
 * operation is requested or running (400, FailedPrecondition).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from '../fault-queue';
import { readBody, sendJson, type LoggedRequest } from '../http-util';
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

export function argoRoutes(deps: ArgoRouteDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? '';
    deps.requests.push({ method, path: url.pathname, query: url.search, at: Date.now() });
    if (req.headers.authorization !== `Bearer ${deps.token}`) {
      return sendJson(res, 401, argoError('no session information', GRPC.unauthenticated));
    }
    const fault = deps.faults.take(method, url.pathname);
    if (fault) {
      const answer = faultAnswer(fault);
      if (answer.text === undefined) return sendJson(res, answer.status, answer.json);
      res.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(answer.text);
    }
    const match = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/.exec(url.pathname);
    if (!match) return sendJson(res, 404, argoError('Not Found', GRPC.notFound));
    const name = decodeURIComponent(match[1]!);
    const app = deps.apps.get(name);
    if (!app) {
      // Argo CD answers an application the token may not see like one that does not exist.
      return sendJson(res, 404, argoError(`applications.argoproj.io "${name}" not found`, GRPC.notFound));
    }
    if (!match[2]) {
      if (method !== 'GET') return sendJson(res, 405, argoError('Method Not Allowed', GRPC.unimplemented));
      return sendJson(res, 200, applicationJson(app));
    }
    if (method !== 'POST') return sendJson(res, 405, argoError('Method Not Allowed', GRPC.unimplemented));
    let body: Record<string, unknown>;
    try {
      const raw = (await readBody(req)).toString('utf8');
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch (err) {
      return sendJson(res, 400, argoError(`error unmarshaling request: ${(err as Error).message}`, GRPC.invalidArgument));
    }
    if (app.operation) return sendJson(res, 400, argoError('another operation is already in progress', GRPC.failedPrecondition));
    deps.syncRequests.push({ application: name, body });
    app.syncs += 1;
    const revision = typeof body.revision === 'string' && body.revision !== '' ? body.revision : undefined;
    deps.apps.start(app, { sync: { ...(revision ? { revision } : {}), prune: body.prune === true }, initiatedBy: { username: 'agentruns' } }, deps.pickupDelayMs);
    return sendJson(res, 200, applicationJson(app));
  };
}
