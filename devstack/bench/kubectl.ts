/**
 * The runbook's own commands scripted with kubectl against a real API server, beside the product's
 * diagnosis against the same server (measurement 3, second half).
 *
 * It starts the real control plane of devstack/control-plane/ (etcd, kube-apiserver,
 * kube-controller-manager) with the pod network and the KafkaUser CRD, as
 * test/support/kube-global-setup.ts does, and seeds the torghut-ws failure scenario `alpaca-406` in
 * namespace `torghut` itself (devstack/real-cluster/seed-scenario.ts, played by the test kubelet),
 * so the commands are the runbook's own text. Then, over BENCH_KUBECTL_RUNS runs (default 10), one
 * after the other in each run, after one warm-up run of each that is not counted:
 *
 * - kubectl: the runbook's read-only diagnosis commands, run in order with the pinned kubectl
 *   (built on demand, devstack/control-plane/binaries.ts) and the admin kubeconfig the control plane
 *   writes, each its own process as an engineer types them; the figure is the whole sequence. The
 *   list, picked once from the on-call runbook (ws-connection-limit-and-auth-runbook.md):
 *     1. `kubectl -n torghut describe deployment torghut-ws`   — Automation step 1 "collect kubectl
 *        describe"; procedure A step 1 (one replica)
 *     2. `kubectl get pods -n torghut -l app=torghut-ws`       — verification checklist (READY 1/1);
 *        the pod name of the next commands is read from its output, as an engineer reads it
 *     3. `kubectl -n torghut describe pod <pod>`               — Automation "kubectl describe": the
 *        pod's state, restarts and probe failures
 *     4. `kubectl -n torghut logs deployment/torghut-ws --tail=200` — procedure A step 2, verbatim
 *     5. `kubectl -n torghut get events`                       — the events the product also reads
 *     6. `kubectl get --raw /api/v1/namespaces/torghut/pods/<pod>:8080/proxy/healthz` — "GET /healthz
 *        returns 200" (liveness on port 8080, "As deployed"), through the API as the product probes
 *     7. `kubectl get --raw /api/v1/namespaces/torghut/pods/<pod>:8080/proxy/readyz`  — "GET /readyz";
 *        its 503 is the finding (kubectl exits 1 on it, and prints only "the server is currently
 *        unable to handle the request", not the body with its error_class)
 *     8. `kubectl -n torghut get kafkauser torghut-ws -o yaml` — procedure C: the KafkaUser's Ready
 *        condition and status.secret (what the product checks instead of the Secret)
 *     9. `kubectl -n torghut get secret torghut-ws`            — procedure C step 1, verbatim (the
 *        product never reads a Secret; per-command figures let it be taken out)
 * - product: collectDiagnosis (domain/collect-diagnosis.ts), the workflow's diagnosis, over the real
 *   Kubernetes activities (activities/kubernetes.ts) as the worker's ServiceAccount with the shipped
 *   RBAC (deploy/kubernetes/rbac.yaml applied as it is), no GitOps reader — wired as
 *   test/kube/diagnosis.test.ts wires it, run directly (no Temporal).
 *
 * The first counted run checks that both saw the scenario (kubectl's log tail names the 406, its
 * probes reach the pod: healthz ok, readyz the pod's 503 body; the product's diagnosis is complete,
 * probes 200/503 and classifies as alpaca_406_second_connection): a figure of commands that answered
 * something else is a failure, not a figure. When the control plane cannot be found,
 * built or started the row says why instead (`notMeasured`). Everything started is stopped, always.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createKubernetesActivities } from '../../activities/kubernetes';
import { loadRunbookConfig } from '../../config/load-runbook';
import { classifyDiagnosis } from '../../domain/classify';
import { collectDiagnosis } from '../../domain/collect-diagnosis';
import { NO_FAILURE_KNOWLEDGE } from '../../domain/failure-knowledge';
import { PodNetworkClient, startPodNetwork, type PodNetwork } from '../../sim/kubelet/pod-network';
import { loadScenario } from '../../sim/scenario';
import { ensureKubectl, findEtcd, findKubeBinary } from '../control-plane/binaries';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane';
import { serviceAccountKubeConfig } from '../control-plane/kubeconfig';
import { ensureKafkaUserCrd } from '../real-cluster/kafka-user';
import { applyObjects, readManifests } from '../real-cluster/manifests';
import { seedScenario, type SeededScenario } from '../real-cluster/seed-scenario';
import { BenchFailure, figure, type Figure } from './stats';

const SCENARIO = 'alpaca-406';
const NAMESPACE = 'torghut';
const DEPLOYMENT = 'torghut-ws';
const SELECTOR = 'app=torghut-ws';
const HEALTH_PORT = 8080;
const RBAC_FILE = fileURLToPath(new URL('../../deploy/kubernetes/rbac.yaml', import.meta.url));
const WORKER_ACCOUNT = { namespace: 'agentruns', name: 'agentruns' };

export interface KubectlMeasured {
  runs: number;
  scenario: string;
  kubectl: { path: string; version: string };
  /** The command list, in order (`<pod>` is read from step 2's output). */
  commands: string[];
  /** kubectl, the whole sequence in order. */
  figure: Figure;
  /** Each command's own time. */
  perCommand: Array<{ command: string; figure: Figure }>;
  /** collectDiagnosis with the real Kubernetes activities, same server, same runs. */
  productDiagnose: Figure;
  kubectlOverProductP50: number;
  /** What the product's diagnosis classified (checked on the first counted run). */
  productClass: string;
  /** Control plane, pod network and seeding, before the first run. */
  setupSeconds: number;
}

export type KubectlFigures = KubectlMeasured | { notMeasured: string };

interface Step {
  /** The command as the list above shows it. */
  shown: string;
  args: (pod: string) => string[];
  /** kubectl exits 1 for an HTTP error answer: the readiness probe's 503 is the finding. */
  mayFail?: boolean;
}

const proxy = (path: string) => (pod: string) => ['get', '--raw', `/api/v1/namespaces/${NAMESPACE}/pods/${pod}:${HEALTH_PORT}/proxy${path}`];
const STEPS: Step[] = [
  { shown: `kubectl -n ${NAMESPACE} describe deployment ${DEPLOYMENT}`, args: () => ['-n', NAMESPACE, 'describe', 'deployment', DEPLOYMENT] },
  { shown: `kubectl get pods -n ${NAMESPACE} -l ${SELECTOR}`, args: () => ['get', 'pods', '-n', NAMESPACE, '-l', SELECTOR] },
  { shown: `kubectl -n ${NAMESPACE} describe pod <pod>`, args: (pod) => ['-n', NAMESPACE, 'describe', 'pod', pod] },
  { shown: `kubectl -n ${NAMESPACE} logs deployment/${DEPLOYMENT} --tail=200`, args: () => ['-n', NAMESPACE, 'logs', `deployment/${DEPLOYMENT}`, '--tail=200'] },
  { shown: `kubectl -n ${NAMESPACE} get events`, args: () => ['-n', NAMESPACE, 'get', 'events'] },
  { shown: `kubectl get --raw /api/v1/namespaces/${NAMESPACE}/pods/<pod>:${HEALTH_PORT}/proxy/healthz`, args: proxy('/healthz') },
  { shown: `kubectl get --raw /api/v1/namespaces/${NAMESPACE}/pods/<pod>:${HEALTH_PORT}/proxy/readyz`, args: proxy('/readyz'), mayFail: true },
  { shown: `kubectl -n ${NAMESPACE} get kafkauser ${DEPLOYMENT} -o yaml`, args: () => ['-n', NAMESPACE, 'get', 'kafkauser', DEPLOYMENT, '-o', 'yaml'] },
  { shown: `kubectl -n ${NAMESPACE} get secret ${DEPLOYMENT}`, args: () => ['-n', NAMESPACE, 'get', 'secret', DEPLOYMENT] },
];

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 64 * 2 ** 20, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** The first pod name of a `kubectl get pods` table, as an engineer reads it. */
function podOf(table: string): string {
  const row = table.split('\n').slice(1).find((line) => line.trim());
  const name = row?.trim().split(/\s+/)[0];
  if (!name) throw new BenchFailure(`kubectl get pods listed no pod:\n${table}`);
  return name;
}

/** The runbook's commands in order; each one's time and output, and the pod name read from step 2. */
async function kubectlSequence(kubectl: string, env: NodeJS.ProcessEnv): Promise<{ totalMs: number; steps: Ran[]; pod: string }> {
  const started = performance.now();
  const steps: Ran[] = [];
  let pod = '';
  for (const [i, step] of STEPS.entries()) {
    const ran = await run(kubectl, step.args(pod), env);
    if (ran.code !== 0 && !(step.mayFail && ran.code === 1)) {
      throw new BenchFailure(`\`${step.shown.replace('<pod>', pod)}\` exited with ${ran.code}: ${(ran.stderr || ran.stdout).trim().slice(0, 500)}`);
    }
    steps.push(ran);
    if (i === 1) pod = podOf(ran.stdout);
  }
  return { totalMs: performance.now() - started, steps, pod };
}

/** What kubectl prints for an error answer whose body is not a Kubernetes Status, e.g. the pod's own 503. */
const GENERIC_503 = 'Error from server (ServiceUnavailable): the server is currently unable to handle the request';

/**
 * kubectl's output shows the scenario: the log tail names the 406, healthz is ok, readyz is the pod's
 * 503. kubectl does not print a 503's body (only GENERIC_503), so once, untimed, the same request
 * with `-v=8` (which logs the response body) shows that the answer is the pod's, with its error_class,
 * and not the API server's own 503 of a proxy that could not reach the pod.
 */
async function checkKubectlSaw(kubectl: string, env: NodeJS.ProcessEnv, run1: { steps: Ran[]; pod: string }): Promise<void> {
  const { steps, pod } = run1;
  const text = (i: number) => `${steps[i]!.stdout}${steps[i]!.stderr}`;
  const readyz = await run(kubectl, [...STEPS[6]!.args(pod), '-v=8'], env);
  const problems = [
    !/torghut-ws/.test(text(0)) && 'describe deployment does not name torghut-ws',
    !/406/.test(text(3)) && 'the log tail shows no 406',
    steps[5]!.stdout.trim() !== 'ok' && `healthz did not answer ok (${text(5).trim().slice(0, 200)})`,
    steps[6]!.stderr.trim() !== GENERIC_503 && `readyz did not answer a plain 503 (${text(6).trim().slice(0, 300)})`,
    !/"Response Body".*alpaca_406_second_connection/.test(readyz.stderr) && `readyz's body (-v=8) does not name alpaca_406_second_connection (${readyz.stderr.trim().slice(-400)})`,
    !/Ready/.test(text(7)) && 'the KafkaUser shows no Ready condition',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new BenchFailure(`kubectl did not see the seeded scenario: ${problems.join('; ')}`);
}

/** The worker's ServiceAccount with the shipped RBAC (its target namespace is `torghut` as shipped). */
async function workerKubeConfig(admin: KubeConfig): Promise<KubeConfig> {
  await admin
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: WORKER_ACCOUNT.namespace } } })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  await applyObjects(admin, readManifests(RBAC_FILE), 'agentruns-bench');
  return serviceAccountKubeConfig(admin, WORKER_ACCOUNT);
}

export async function measureKubectl(options: { runs: number; log: (line: string) => void }): Promise<KubectlFigures> {
  const { runs, log } = options;
  const apiserver = findKubeBinary('kube-apiserver');
  const controllerManager = findKubeBinary('kube-controller-manager');
  if (!apiserver || !controllerManager) {
    return { notMeasured: `no real API server: ${[!apiserver && 'kube-apiserver', !controllerManager && 'kube-controller-manager'].filter(Boolean).join(' and ')} not built (npm run kube:install)` };
  }
  let etcd: string;
  let kubectl: string;
  try {
    etcd = findEtcd();
    kubectl = await ensureKubectl((line) => log(line.replace(/^\[agentruns\] /, '')));
  } catch (err) {
    return { notMeasured: (err as Error).message };
  }

  const dir = mkdtempSync(join(tmpdir(), 'agentruns-bench-kubectl-'));
  let plane: ControlPlane | undefined;
  let network: PodNetwork | undefined;
  let seeded: SeededScenario | undefined;
  try {
    const setupStarted = performance.now();
    try {
      plane = await startControlPlane({ binaries: { etcd, kubeApiserver: apiserver, kubeControllerManager: controllerManager } });
      network = await startPodNetwork();
    } catch (err) {
      return { notMeasured: `the control plane could not start: ${(err as Error).message.split('\n')[0]}` };
    }
    const admin = plane.adminKubeConfig();
    await ensureKafkaUserCrd(admin);
    seeded = await seedScenario(admin, await loadScenario(SCENARIO), {
      namespace: NAMESPACE,
      network: new PodNetworkClient(network.socket),
      servingCert: { certFile: plane.certs.kubeletCert, keyFile: plane.certs.kubeletKey },
    });
    const kube = createKubernetesActivities(await workerKubeConfig(admin));
    const runbook = await loadRunbookConfig();
    if (runbook.target.namespace !== NAMESPACE || runbook.target.deployment !== DEPLOYMENT) {
      throw new BenchFailure(`the shipped runbook targets ${runbook.target.namespace}/${runbook.target.deployment}, not ${NAMESPACE}/${DEPLOYMENT}`);
    }
    const sources = { ...kube, readGitOpsFacts: () => Promise.resolve(null) };
    const diagnose = async () => {
      const started = performance.now();
      const diagnosis = await collectDiagnosis(sources, runbook);
      return { ms: performance.now() - started, diagnosis };
    };
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, plane.adminKubeconfigYaml, { mode: 0o600 });
    // The engineer's shell: their kubeconfig, and kubectl's discovery cache kept here, not in ~/.kube.
    const env = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache'), HOME: dir };
    const version = (await run(kubectl, ['version', '--client', '-o', 'yaml'], env)).stdout.match(/gitVersion:\s*(\S+)/)?.[1] ?? 'unknown';
    const setupSeconds = Math.round((performance.now() - setupStarted) / 100) / 10;
    log(`kubectl ${version} (${kubectl}) and the product's diagnosis on the real API server ${plane.server}: ${SCENARIO} in ${NAMESPACE}, ready in ${setupSeconds} s; ${runs} runs`);

    // Warm-up, not counted: kubectl's discovery cache, the client's connections.
    await kubectlSequence(kubectl, env);
    await diagnose();

    const totals: number[] = [];
    const perStep: number[][] = STEPS.map(() => []);
    const product: number[] = [];
    let productClass = '';
    for (let i = 0; i < runs; i++) {
      const k = await kubectlSequence(kubectl, env);
      totals.push(k.totalMs);
      k.steps.forEach((s, j) => perStep[j]!.push(s.ms));
      const p = await diagnose();
      product.push(p.ms);
      if (i === 0) {
        await checkKubectlSaw(kubectl, env, k);
        if (p.diagnosis.degraded.length > 0) {
          const reasons = p.diagnosis.degraded.map((source) => `${source}: ${(p.diagnosis[source as 'events'] as { error?: string }).error ?? '?'}`);
          throw new BenchFailure(`the product's diagnosis degraded on the real API server: ${reasons.join('; ')}`);
        }
        const probes = p.diagnosis.probes.ok ? p.diagnosis.probes.value.map((r) => `${r.path} ${r.status ?? r.error}`).sort() : [];
        if (probes.join(', ') !== '/healthz 200, /readyz 503') throw new BenchFailure(`the product's probes through the API answered ${probes.join(', ')}`);
        const classification = classifyDiagnosis(p.diagnosis, {
          knowledge: runbook.failures ?? NO_FAILURE_KNOWLEDGE,
          expectedReplicas: runbook.target.expectedReplicas,
          kafkaUser: runbook.target.kafkaUser ?? runbook.target.kafkaSecret,
          readinessPath: runbook.target.health.readinessPath,
        });
        productClass = `${classification.class} (basis ${classification.basis})`;
        if (classification.class !== 'alpaca_406_second_connection') throw new BenchFailure(`the product classified ${SCENARIO} as ${productClass}`);
      }
    }
    const kubectlFigure = figure(totals);
    const productFigure = figure(product);
    return {
      runs,
      scenario: SCENARIO,
      kubectl: { path: kubectl, version },
      commands: STEPS.map((s) => s.shown),
      figure: kubectlFigure,
      perCommand: STEPS.map((s, j) => ({ command: s.shown, figure: figure(perStep[j]!) })),
      productDiagnose: productFigure,
      kubectlOverProductP50: Math.round((kubectlFigure.p50 / productFigure.p50) * 100) / 100,
      productClass,
      setupSeconds,
    };
  } finally {
    await seeded?.close().catch(() => undefined);
    await network?.stop().catch(() => undefined);
    await plane?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
