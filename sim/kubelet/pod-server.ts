/**
 * The pods' own health port, inside the test run's network namespace (started there by
 * pod-network.ts with `ip netns exec`). Each pod the test kubelet runs gets an address of the
 * namespace's pod range and one HTTP server bound to that address and the pod's port, answering
 * `/healthz` (liveness) and `/readyz` (readiness) as the pod's scenario says: a status and body, a
 * delay, or nothing at all (no listener: the connection is refused, as for a dead container). After
 * `relapseAfterReadinessProbes` readiness answers a pod switches to its `relapsed` answers (a cure
 * that wears off), which the kubelet reads back to mark the pod not Ready.
 *
 * It is controlled over a Unix socket with a small JSON API (the kubelets of several test files
 * share one pod network): POST /pods {pod, port, answers} → {ip}; PUT /pods/{ip} {answers};
 * DELETE /pods/{ip}; GET /pods/{ip} → {pod, readinessProbes, relapsed}. Addresses are taken from a
 * pool given on the command line (already assigned to the namespace's loopback by pod-network.ts)
 * and reused once their pod is gone.
 *
 * Usage: pod-server.ts --socket PATH --pool 198.18.N.10-254
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { HealthAnswer } from '../scenario';

export interface PodAnswers {
  liveness: HealthAnswer;
  readiness: HealthAnswer;
  relapseAfterReadinessProbes?: number;
  /** What the pod answers once the cure wore off. */
  relapsed?: { liveness: HealthAnswer; readiness: HealthAnswer };
}

interface PodPort {
  pod: string;
  ip: string;
  port: number;
  answers: PodAnswers;
  readinessProbes: number;
  relapsed: boolean;
  server: Server | null;
}

const MAX_BODY = 64 * 1024;

function current(pod: PodPort): { liveness: HealthAnswer; readiness: HealthAnswer } {
  return pod.relapsed && pod.answers.relapsed ? pod.answers.relapsed : pod.answers;
}

const reachable = (pod: PodPort): boolean => !('unreachable' in current(pod).liveness && 'unreachable' in current(pod).readiness);

function answer(pod: PodPort, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://pod').pathname;
  let chosen: HealthAnswer;
  if (path === '/healthz') chosen = current(pod).liveness;
  else if (path === '/readyz') {
    chosen = current(pod).readiness;
    pod.readinessProbes += 1;
    const after = pod.answers.relapseAfterReadinessProbes;
    if (!pod.relapsed && after !== undefined && pod.readinessProbes >= after && pod.answers.relapsed) pod.relapsed = true;
  } else {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
    return;
  }
  if ('unreachable' in chosen) {
    // One path dead, the other alive: the connection is dropped without an answer.
    req.socket.destroy();
    return;
  }
  const body = typeof chosen.body === 'string' ? chosen.body : JSON.stringify(chosen.body);
  const contentType = chosen.contentType ?? (typeof chosen.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json');
  const send = () => {
    if (!res.destroyed) res.writeHead(chosen.status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
  };
  if (chosen.delayMs) setTimeout(send, chosen.delayMs).unref();
  else send();
}

async function listenPod(pod: PodPort): Promise<void> {
  if (pod.server || !reachable(pod)) return;
  const server = createServer((req, res) => answer(pod, req, res));
  pod.server = server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(pod.port, pod.ip, () => resolve());
  });
}

async function closePod(pod: PodPort): Promise<void> {
  const server = pod.server;
  pod.server = null;
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function expandPool(spec: string): string[] {
  const m = /^(\d+\.\d+\.\d+)\.(\d+)-(\d+)$/.exec(spec);
  if (!m) throw new Error(`--pool must look like 198.18.7.10-254, not ${spec}`);
  const [, prefix, from, to] = m as unknown as [string, string, string, string];
  return Array.from({ length: Number(to) - Number(from) + 1 }, (_, i) => `${prefix}.${Number(from) + i}`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > MAX_BODY) throw new Error('body too large');
  }
  const value = JSON.parse(text || '{}') as unknown;
  if (typeof value !== 'object' || value === null) throw new Error('expected a JSON object');
  return value as Record<string, unknown>;
}

function main(): void {
  const { values } = parseArgs({ options: { socket: { type: 'string' }, pool: { type: 'string' } } });
  if (!values.socket || !values.pool) throw new Error('usage: pod-server.ts --socket PATH --pool A.B.C.X-Y');
  const free = expandPool(values.pool);
  const pods = new Map<string, PodPort>();

  const control = createServer((req, res) => {
    const reply = (status: number, body?: unknown) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    const handle = async () => {
      const url = new URL(req.url ?? '/', 'http://control');
      const [, collection, ip] = url.pathname.split('/');
      if (url.pathname === '/healthz') return reply(200, { pods: pods.size, free: free.length });
      if (collection !== 'pods') return reply(404, { error: 'not found' });
      if (!ip && req.method === 'POST') {
        const body = await readJson(req);
        const address = free.shift();
        if (!address) return reply(507, { error: 'the pod address pool is exhausted' });
        const pod: PodPort = {
          pod: String(body.pod),
          ip: address,
          port: Number(body.port),
          answers: body.answers as PodAnswers,
          readinessProbes: 0,
          relapsed: false,
          server: null,
        };
        pods.set(address, pod);
        await listenPod(pod);
        return reply(201, { ip: address });
      }
      const pod = ip ? pods.get(ip) : undefined;
      if (!pod) return reply(404, { error: `no pod at ${ip ?? '?'}` });
      if (req.method === 'GET') return reply(200, { pod: pod.pod, readinessProbes: pod.readinessProbes, relapsed: pod.relapsed });
      if (req.method === 'PUT') {
        const body = await readJson(req);
        pod.answers = body.answers as PodAnswers;
        pod.relapsed = false;
        pod.readinessProbes = 0;
        if (!reachable(pod)) await closePod(pod);
        else await listenPod(pod);
        return reply(200, {});
      }
      if (req.method === 'DELETE') {
        pods.delete(pod.ip);
        await closePod(pod);
        free.push(pod.ip);
        return reply(204);
      }
      return reply(405, { error: 'method not allowed' });
    };
    handle().catch((err: unknown) => reply(400, { error: (err as Error).message }));
  });
  rmSync(values.socket, { force: true });
  control.listen(values.socket);
  const shutdown = () => {
    control.close();
    for (const pod of pods.values()) void closePod(pod);
    rmSync(values.socket!, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();
