/**
 * A fleet of simulated targets for the bench: N torghut-ws Deployments, each in its own namespace
 * with its own simulated Kubernetes API (sim/kube-api.ts), behind one front server that routes every
 * namespaced call to its namespace's simulator — so one worker with one kubeconfig serves N
 * incidents on distinct targets, as a worker watching a real cluster does. GitHub, Argo CD and Slack
 * are one simulated system each, shared by every target (their repository is read, not written, up
 * to approval). Every simulated API call is answered after `callDelayMs`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Activities } from '../../activities';
import { loadRunbookConfig } from '../../config/load-runbook';
import type { RunbookConfig } from '../../domain/runbook-config';
import { kubeconfigFor, RESTARTED_AT, startKubeSim, type KubeEndpoint, type KubeSim } from '../../sim/kube-api';
import { loadScenario } from '../../sim/scenario';
import { demoRunbook } from '../local-stack';
import { startGitOpsSystems, type GitOpsSystems, type SimEndpoints } from '../sim-environment';

export interface Fleet {
  runbooks: RunbookConfig[];
  kube: KubeEndpoint;
  systems: GitOpsSystems;
  /** The production activities over the whole fleet (in this process). */
  activities: Activities;
  /** What a worker in another process needs to build the same activities. */
  endpoints: SimEndpoints;
  close(): Promise<void>;
}

/** A runbook of its own target (namespace = id), routed by the torghut alert carrying that namespace. */
function targetRunbook(base: RunbookConfig, name: string): RunbookConfig {
  return {
    ...demoRunbook(base),
    id: name,
    target: { ...base.target, namespace: name },
    alerts: base.alerts.map((a) => ({ labels: { ...a.labels, ...(a.labels.namespace ? { namespace: name } : {}) } })),
  };
}

/** The namespace a Kubernetes API path names (`/api/v1/namespaces/NS/…`, `/apis/G/V/namespaces/NS/…`). */
function namespaceOf(path: string): string | undefined {
  const seg = path.split('?')[0]!.split('/');
  const at = seg.indexOf('namespaces');
  return at > 0 ? seg[at + 1] : undefined;
}

/** One front API server: each namespaced call proxied to its namespace's simulator, with its token. */
async function startRouter(sims: Map<string, KubeSim>, token: string) {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const sim = sims.get(namespaceOf(req.url ?? '/') ?? '');
    if (req.headers.authorization !== `Bearer ${token}` || !sim) {
      res.writeHead(sim ? 401 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: sim ? 401 : 404, message: sim ? 'Unauthorized' : 'no such namespace' }));
      return;
    }
    const upstream = request(`${sim.url}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, authorization: `Bearer ${sim.token}` } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err.message));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startFleet(options: { size: number; scenario?: string; callDelayMs: number; verifyPollIntervalMs?: number }): Promise<Fleet> {
  const base = await loadRunbookConfig();
  const scenario = await loadScenario(options.scenario ?? 'alpaca-406');
  const run = randomUUID().slice(0, 6);
  const runbooks = Array.from({ length: options.size }, (_, i) => targetRunbook(base, `bench-${run}-${String(i).padStart(3, '0')}`));
  const sims = new Map<string, KubeSim>();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    await Promise.allSettled(closers.splice(0).reverse().map((c) => c()));
  };
  try {
    for (const runbook of runbooks) {
      const sim = await startKubeSim({ ...scenario, namespace: runbook.target.namespace });
      sim.setCallDelay(options.callDelayMs);
      sims.set(runbook.target.namespace, sim);
      closers.push(() => sim.close());
    }
    const token = `fleet-${randomBytes(12).toString('hex')}`;
    const router = await startRouter(sims, token);
    closers.push(router.close);
    const kube = { url: router.url, token };
    const first = sims.values().next().value!.snapshot();
    const systems = await startGitOpsSystems({
      runbook: runbooks[0]!,
      extraRunbooks: runbooks.slice(1),
      live: { replicas: first.replicas, restartedAt: first.templateAnnotations[RESTARTED_AT] ?? null },
      // Nothing is merged before approval, and the bench approves only in its single-target runs.
      cluster: { apply: () => undefined, health: () => 'Healthy' },
    });
    closers.push(() => systems.close());
    return {
      runbooks,
      kube,
      systems,
      activities: systems.activities(kubeconfigFor(kube), options.verifyPollIntervalMs ?? 250),
      endpoints: {
        kube,
        github: { url: systems.github.url, token: systems.tokens.github },
        argo: { url: systems.argo.url, token: systems.tokens.argo },
        slack: { apiUrl: systems.slack.apiUrl, token: systems.tokens.slack },
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
