/**
 * The kubelet's log endpoint, as the API server uses it for `pods/log`: HTTPS at the Node's
 * `InternalIP:kubeletEndpoint.Port`, `GET /containerLogs/{namespace}/{pod}/{container}` with the
 * query the API server forwards (`tailLines`, `limitBytes`, `previous`). Lines come from the
 * kubelet's view of each pod (its scenario's logs). The certificate is the run's kubelet serving
 * certificate, which the API server verifies against the run's CA.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ContainerLogs {
  container: string;
  lines: string[];
  /** Restarts so far: `previous=true` needs at least one. */
  restarts: number;
}

export type LogSource = (namespace: string, pod: string) => ContainerLogs | undefined;

const text = (status: number, body: string | Buffer) => ({ status, body });

function containerLogs(source: LogSource, url: URL): { status: number; body: string | Buffer } {
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (!m) return text(404, '404 page not found');
  const [, namespace, pod, container] = m.map((part) => decodeURIComponent(part)) as [string, string, string, string];
  const logs = source(namespace, pod);
  if (!logs) return text(404, `pod ${namespace}/${pod} not found`);
  if (logs.container !== container) return text(400, `container ${container} is not valid for pod ${pod}`);
  if (url.searchParams.get('previous') === 'true' && logs.restarts === 0) {
    return text(400, `previous terminated container "${container}" in pod "${pod}" not found`);
  }
  const tail = url.searchParams.get('tailLines');
  const lines = tail === null ? logs.lines : Number(tail) <= 0 ? [] : logs.lines.slice(-Number(tail));
  let body = Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8');
  const limit = url.searchParams.get('limitBytes');
  if (limit !== null && Number(limit) > 0) body = body.subarray(0, Number(limit));
  return text(200, body);
}

/** Starts the endpoint on 127.0.0.1 (a free port) and returns it with its port. */
export async function startLogServer(cert: { certFile: string; keyFile: string }, source: LogSource): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const reply = req.method === 'GET' ? containerLogs(source, url) : text(405, 'method not allowed');
    res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
