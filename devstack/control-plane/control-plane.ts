/**
 * A real Kubernetes control plane for the test run: etcd (Debian's etcd-server), kube-apiserver and
 * kube-controller-manager, each on free loopback ports with a temporary data directory, started in
 * that order and stopped in reverse.
 *
 * - etcd keeps its data in a temporary directory (on /dev/shm when there is one: no disk fsyncs).
 * - kube-apiserver serves HTTPS on 127.0.0.1 only, authenticates a static token file (the admin in
 *   `system:masters`, the controller-manager) and ServiceAccount tokens signed with a key made by
 *   openssl (TokenRequest works), and authorizes with RBAC alone — so the shipped Role is enforced
 *   exactly as on a cluster. It reaches kubelets at their Node's InternalIP, verifying their serving
 *   certificate against the run's CA. The Service range is a /24 of the RFC 2544 benchmarking block
 *   (no Service traffic exists here: nothing runs kube-proxy).
 * - kube-controller-manager runs only the controllers the product's behaviour depends on: the
 *   Deployment and ReplicaSet controllers (rollouts create ReplicaSets and pods) and the
 *   ServiceAccount controller (each namespace's `default` account).
 *
 * Nothing runs pods or schedules them: the test kubelet (sim/kubelet) plays that part. Every process
 * leads its own process group, killed on exit and recorded in $AGENTRUNS_PID_DIR (devstack/process-group).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { spawnGroup, type GroupProcess } from '../process-group';
import { freePort } from '../tools';
import { ensureKubeBinaries, type ControlPlaneBinaries } from './binaries';
import { makeControlPlaneCerts, type ControlPlaneCerts } from './certs';
import { kubeConfigFromYaml, tokenKubeconfigYaml, type ClusterAccess } from './kubeconfig';

/** The controllers the product relies on; no scheduler, no garbage collector, no node lifecycle. */
export const CONTROLLERS = ['deployment-controller', 'replicaset-controller', 'serviceaccount-controller'];
const SERVICE_CLUSTER_IP_RANGE = '198.19.255.0/24';

export interface ControlPlaneOptions {
  binaries?: ControlPlaneBinaries;
  /** Directory for each process's log (`etcd.log`, …); default: only the tail is kept, for errors. */
  logDir?: string;
  startTimeoutMs?: number;
}

export interface ControlPlaneTimings {
  etcdMs: number;
  apiserverMs: number;
  controllerManagerMs: number;
}

export interface ControlPlane extends ClusterAccess {
  certs: ControlPlaneCerts;
  adminToken: string;
  /** A kubeconfig document (YAML) for the admin (system:masters). */
  adminKubeconfigYaml: string;
  adminKubeConfig(): KubeConfig;
  timings: ControlPlaneTimings;
  stop(): Promise<void>;
}

/** GET over HTTPS with the run's CA; any status is an answer, a refused connection an error. */
function httpsGet(url: string, caPem: string, token: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(what: string, process: GroupProcess, deadline: number, check: () => Promise<boolean>): Promise<void> {
  let last = '';
  for (;;) {
    if (!process.running()) throw new Error(`${what} exited with ${process.child.exitCode ?? process.child.signalCode}:\n${process.output()}`);
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready in time${last ? ` (${last})` : ''}:\n${process.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager; resolves once the API server is ready.
 * A free port can be taken by someone else before the process binds it: that start is retried
 * (twice) on fresh ports; any other failure is final.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = options.binaries ?? ensureKubeBinaries();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(binaries, options);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(binaries: ControlPlaneBinaries, options: ControlPlaneOptions): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'agentruns-kube-'));
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'agentruns-etcd-'));
  const processes: GroupProcess[] = [];
  const stop = async () => {
    for (const p of processes.splice(0).reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };
  const log = (name: string) => (options.logDir ? (mkdirSync(options.logDir, { recursive: true }), join(options.logDir, `${name}.log`)) : undefined);
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);

  try {
    const certs = makeControlPlaneCerts(dir);
    const caPem = readFileSync(certs.caCert, 'utf8');
    const adminToken = randomBytes(24).toString('hex');
    const controllerManagerToken = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      `${adminToken},agentruns-admin,agentruns-admin,"system:masters"\n` +
        `${controllerManagerToken},system:kube-controller-manager,system:kube-controller-manager,"system:masters"\n`,
      { mode: 0o600 },
    );

    let started = Date.now();
    const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcd = await spawnGroup(
      'etcd',
      binaries.etcd,
      [
        '--name=agentruns',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=agentruns=http://127.0.0.1:${etcdPeer}`,
        '--logger=zap',
        '--log-level=warn',
      ],
      { logFile: log('etcd') },
    );
    processes.push(etcd);
    await waitFor('etcd', etcd, deadline, async () => {
      const res = await fetch(`http://127.0.0.1:${etcdClient}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok && /"health":\s*"true"/.test(await res.text());
    });
    const etcdMs = Date.now() - started;

    started = Date.now();
    const server = `https://127.0.0.1:${securePort}`;
    const apiserver = await spawnGroup(
      'kube-apiserver',
      binaries.kubeApiserver,
      [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${certs.apiserverCert}`,
        `--tls-private-key-file=${certs.apiserverKey}`,
        `--token-auth-file=${tokenFile}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${certs.serviceAccountPub}`,
        `--service-account-signing-key-file=${certs.serviceAccountKey}`,
        `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
        '--kubelet-preferred-address-types=InternalIP',
        `--kubelet-certificate-authority=${certs.caCert}`,
        // Endpoints may not hold a loopback address: nothing needs the `kubernetes` Service's endpoints here.
        '--endpoint-reconciler-type=none',
        '--profiling=false',
        '--v=0',
      ],
      { logFile: log('kube-apiserver') },
    );
    processes.push(apiserver);
    await waitFor('kube-apiserver', apiserver, deadline, async () => (await httpsGet(`${server}/readyz`, caPem, adminToken)).status === 200);
    const apiserverMs = Date.now() - started;

    started = Date.now();
    const access: ClusterAccess = { server, caPem };
    const controllerKubeconfig = join(dir, 'controller-manager.kubeconfig');
    writeFileSync(controllerKubeconfig, tokenKubeconfigYaml(access, 'system:kube-controller-manager', controllerManagerToken), { mode: 0o600 });
    const controllerManager = await spawnGroup(
      'kube-controller-manager',
      binaries.kubeControllerManager,
      [
        `--kubeconfig=${controllerKubeconfig}`,
        `--controllers=${CONTROLLERS.join(',')}`,
        '--leader-elect=false',
        '--secure-port=0',
        '--kube-api-qps=100',
        '--kube-api-burst=200',
        '--v=0',
      ],
      { logFile: log('kube-controller-manager') },
    );
    processes.push(controllerManager);
    // Ready once its ServiceAccount controller has created the `default` account of `default`.
    await waitFor('kube-controller-manager', controllerManager, deadline, async () => {
      const res = await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, caPem, adminToken);
      return res.status === 200;
    });
    const controllerManagerMs = Date.now() - started;

    const adminKubeconfigYaml = tokenKubeconfigYaml(access, 'agentruns-admin', adminToken);
    return {
      ...access,
      certs,
      adminToken,
      adminKubeconfigYaml,
      adminKubeConfig: () => kubeConfigFromYaml(adminKubeconfigYaml),
      timings: { etcdMs, apiserverMs, controllerManagerMs },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
