/**
 * The pod network of the test run: pods need addresses the API server accepts for `pods/proxy`
 * (it refuses loopback and link-local ones), so they live in a network namespace the run creates
 * itself, and their traffic never leaves this machine.
 *
 * Set-up (root, `ip` from iproute2): a namespace `agentruns-<random>`, a veth pair whose host end
 * gets P.1/24 and whose other end gets P.2/24 inside the namespace, and the pod addresses
 * P.10–254 on the namespace's loopback. P is a /24 of the RFC 2544 benchmarking block
 * 198.18.0.0/15 (198.18.x or 198.19.x; 198.19.255 is the test API server's Service range) that no
 * route or address of this machine uses yet. The namespace has no other
 * interface and no default route: a pod address answers only from inside it. The pods' health port
 * is pod-server.ts, run inside the namespace with `ip netns exec` and controlled over a Unix socket
 * (PodNetworkClient). Stopping it removes the namespace, which removes the veth pair; an exit hook
 * does the same if the run dies, and with $AGENTRUNS_PID_DIR the namespace's name is recorded
 * there (`netns-<name>.netns`) for .ci/run. If any of it cannot be set up the error says why: there
 * is no fallback to loopback pods.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardCleanup, spawnGroup, type GroupProcess } from '../../devstack/process-group';
import type { PodAnswers } from './pod-server';

const POD_SERVER = fileURLToPath(new URL('./pod-server.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PodNetwork {
  namespace: string;
  /** The /24 of the namespace, e.g. 198.18.42.0/24. */
  cidr: string;
  /** Control socket of the pod server (PodNetworkClient). */
  socket: string;
  stop(): Promise<void>;
}

function ip(args: string[], what: string): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
    const hint = /Operation not permitted|EPERM|must be root/i.test(stderr + String(err)) ? ' (the pod network needs root: CAP_NET_ADMIN and CAP_SYS_ADMIN)' : '';
    throw new Error(`pod network: ${what} failed: ip ${args.join(' ')}: ${stderr || (err as Error).message}${hint}`);
  }
}

/** A /24 of 198.18.0.0/15 that no address or route of this machine mentions. */
function freeSubnet(): string {
  const used = `${ip(['-4', '-o', 'addr', 'show'], 'listing addresses')}\n${ip(['-4', 'route', 'show', 'table', 'all'], 'listing routes')}`;
  const candidates = Array.from({ length: 512 }, (_, i) => `198.${18 + Math.floor(i / 256)}.${i % 256}`).filter((p) => p !== '198.19.255');
  for (let tries = 0; tries < 64; tries += 1) {
    const prefix = candidates[Math.floor(Math.random() * candidates.length)]!;
    if (!used.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('pod network: no free /24 in 198.18.0.0/15');
}

function controlRequest(socket: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: socket, method, path, headers: text ? { 'content-type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: data ? (JSON.parse(data) as Record<string, unknown>) : {} });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`pod server did not answer ${method} ${path}`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** Creates the namespace, the veth pair and the pod addresses, and starts the pod server in it. */
export async function startPodNetwork(): Promise<PodNetwork> {
  const id = randomBytes(3).toString('hex');
  const namespace = `agentruns-${id}`;
  const [hostIf, podIf] = [`ar${id}h`, `ar${id}p`];
  const prefix = freeSubnet();
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-podnet-'));
  const socket = join(dir, 'pods.sock');
  let server: GroupProcess | undefined;
  const remove = () => {
    spawnSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
    spawnSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
  };
  const guard = guardCleanup(`netns-${namespace}.netns`, `${namespace}\n`, remove);
  const stop = async () => {
    await server?.stop(2000);
    remove();
    guard.release();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    ip(['netns', 'add', namespace], 'creating the network namespace');
    guard.writeRecord();
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', podIf], 'creating the veth pair');
    ip(['link', 'set', podIf, 'netns', namespace], 'moving the veth end into the namespace');
    ip(['addr', 'add', `${prefix}.1/24`, 'dev', hostIf], 'addressing the host end');
    ip(['link', 'set', hostIf, 'up'], 'bringing the host end up');
    const batch = [
      `addr add ${prefix}.2/24 dev ${podIf}`,
      `link set ${podIf} up`,
      'link set lo up',
      ...Array.from({ length: 245 }, (_, i) => `addr add ${prefix}.${10 + i}/32 dev lo`),
    ].join('\n');
    try {
      execFileSync('ip', ['-n', namespace, '-batch', '-'], { input: batch, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      throw new Error(`pod network: addressing the namespace failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
    }
    server = await spawnGroup(
      'pod-server',
      'ip',
      ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', POD_SERVER, '--socket', socket, '--pool', `${prefix}.10-254`],
      { cwd: REPO_ROOT },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!server.running()) throw new Error(`pod network: the pod server exited:\n${server.output()}`);
      const ok = await controlRequest(socket, 'GET', '/healthz').then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`pod network: the pod server did not start:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { namespace, cidr: `${prefix}.0/24`, socket, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** What a kubelet asks of the pod network: an address per pod, and what it answers there. */
export class PodNetworkClient {
  constructor(readonly socket: string) {}

  async addPod(pod: string, port: number, answers: PodAnswers): Promise<string> {
    const res = await controlRequest(this.socket, 'POST', '/pods', { pod, port, answers });
    if (res.status !== 201 || typeof res.json.ip !== 'string') throw new Error(`pod network: no address for ${pod}: ${JSON.stringify(res.json)}`);
    return res.json.ip;
  }

  async setAnswers(ip: string, answers: PodAnswers): Promise<void> {
    const res = await controlRequest(this.socket, 'PUT', `/pods/${ip}`, { answers });
    if (res.status !== 200) throw new Error(`pod network: cannot change ${ip}: ${JSON.stringify(res.json)}`);
  }

  /** The pod's address stops answering (connection refused) and returns to the pool. */
  async removePod(ip: string): Promise<void> {
    const res = await controlRequest(this.socket, 'DELETE', `/pods/${ip}`);
    if (res.status !== 204 && res.status !== 404) throw new Error(`pod network: cannot remove ${ip}: ${JSON.stringify(res.json)}`);
  }

  async podState(ip: string): Promise<{ readinessProbes: number; relapsed: boolean } | null> {
    const res = await controlRequest(this.socket, 'GET', `/pods/${ip}`);
    if (res.status === 404) return null;
    return { readinessProbes: Number(res.json.readinessProbes), relapsed: res.json.relapsed === true };
  }
}
