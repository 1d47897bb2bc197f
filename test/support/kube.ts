/**
 * Test access to the run's real control plane (kube-global-setup.ts): the admin kubeconfig, a
 * namespace per test seeded with a scenario and played by its own test kubelet, and the worker's
 * ServiceAccount with the shipped RBAC of deploy/kubernetes applied as it is (only the target
 * namespace `torghut` rewritten to the test's).
 */
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { kubeConfigFromYaml, serviceAccountKubeConfig } from '../../devstack/control-plane/kubeconfig';
import { applyObjects, inNamespace, readManifests } from '../../devstack/real-cluster/manifests';
import { seedScenario, type SeedOptions, type SeededScenario } from '../../devstack/real-cluster/seed-scenario';
import { loadRunbookConfig } from '../../config/load-runbook';
import { diagnosisTarget } from '../../domain/collect-diagnosis';
import type { DiagnosisTarget } from '../../domain/diagnosis';
import type { RunbookConfig } from '../../domain/runbook-config';
import { PodNetworkClient } from '../../sim/kubelet/pod-network';
import { loadScenario, type Scenario } from '../../sim/scenario';

export const RBAC_FILE = 'deploy/kubernetes/rbac.yaml';
export const EMERGENCY_RBAC_FILE = 'deploy/kubernetes/components/emergency/rbac-emergency.yaml';
/** The worker's ServiceAccount as deploy/kubernetes/rbac.yaml names it. */
export const WORKER_ACCOUNT = { namespace: 'agentruns', name: 'agentruns' };

export const isExternalCluster = (): boolean => inject('kubeMode') === 'external';

export function adminKubeConfig(): KubeConfig {
  if (isExternalCluster()) throw new Error('no admin access to an external cluster (AGENTRUNS_KUBECONFIG): only the read-only smoke test runs there');
  return kubeConfigFromYaml(inject('kubeAdminKubeconfig'));
}

/** The kubeconfig of AGENTRUNS_KUBECONFIG, loaded as kubectl would (its current context). */
export function externalKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeExternalKubeconfig'));
  return kc;
}

export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 63);
}

/** A runbook (the shipped one) pointed at `namespace`. */
export async function runbookIn(namespace: string): Promise<RunbookConfig> {
  const runbook = await loadRunbookConfig();
  return { ...runbook, target: { ...runbook.target, namespace } };
}

export async function targetIn(namespace: string): Promise<DiagnosisTarget> {
  return diagnosisTarget(await runbookIn(namespace));
}

export interface SeededNamespace extends SeededScenario {
  admin: KubeConfig;
  target: DiagnosisTarget;
  runbook: RunbookConfig;
}

const open: SeededNamespace[] = [];

/** Seeds a fresh namespace with a scenario (name or object) and starts its kubelet; `closeSeeded` stops it. */
export async function seeded(scenario: string | Scenario, options: Partial<Omit<SeedOptions, 'network' | 'servingCert'>> = {}): Promise<SeededNamespace> {
  const loaded = typeof scenario === 'string' ? await loadScenario(scenario) : scenario;
  const namespace = options.namespace ?? uniqueNamespace(typeof scenario === 'string' ? scenario : 'scenario');
  const admin = adminKubeConfig();
  const seed = await seedScenario(admin, loaded, {
    ...options,
    namespace,
    network: new PodNetworkClient(inject('kubePodNetworkSocket')),
    servingCert: { certFile: inject('kubeletCertFile'), keyFile: inject('kubeletKeyFile') },
  });
  const runbook = await runbookIn(namespace);
  const result = { ...seed, admin, runbook, target: diagnosisTarget(runbook) };
  open.push(result);
  return result;
}

/** Stops the kubelets of every namespace seeded so far (for afterEach). */
export async function closeSeeded(): Promise<void> {
  await Promise.all(open.splice(0).map((s) => s.close()));
}

interface RoleRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

/** The objects with `resources` taken out of every Role rule (rules left empty are dropped). */
function withoutResources(objects: KubernetesObject[], denied: string[]): KubernetesObject[] {
  return objects.map((object) => {
    const role = object as KubernetesObject & { rules?: RoleRule[] };
    if (object.kind !== 'Role' || !role.rules) return object;
    const rules = role.rules
      .map((rule) => ({ ...rule, resources: (rule.resources ?? []).filter((r) => !denied.includes(r)) }))
      .filter((rule) => rule.resources.length > 0);
    return { ...role, rules } as KubernetesObject;
  });
}

/**
 * Applies a file of deploy/kubernetes as it is, except for the target namespace `torghut`, which
 * becomes `namespace`; the worker's namespace (`agentruns`) is created when missing. `deny` takes
 * resources out of the Role (a scenario's API faults, as a real server produces them: 403).
 */
export async function applyShippedRbac(admin: KubeConfig, namespace: string, file = RBAC_FILE, deny: string[] = []): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: WORKER_ACCOUNT.namespace } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  await applyObjects(admin, withoutResources(inNamespace(readManifests(file), 'torghut', namespace), deny), 'agentruns-tests');
}

/** The worker's ServiceAccount token (TokenRequest) after applying the shipped RBAC for `namespace`. */
export async function workerKubeConfig(admin: KubeConfig, namespace: string, deny: string[] = []): Promise<KubeConfig> {
  await applyShippedRbac(admin, namespace, RBAC_FILE, deny);
  return serviceAccountKubeConfig(admin, WORKER_ACCOUNT);
}

/** Polls `probe` until it returns a value (not undefined), or fails naming `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
