/**
 * A test kubelet for one namespace of the real test control plane, playing a scenario's pods.
 *
 * Nothing schedules or runs pods here, so it does both: it registers a Node, binds the namespace's
 * unscheduled pods to it (`pods/binding`), and moves them Pending → Running → Ready (or stuck not
 * Ready) by patching their status — phase, pod IP from the pod network, conditions, container
 * statuses with restart counts — as pod-behaviour.ts decides from the pod's ReplicaSet. It serves
 * their logs at the Node's kubelet endpoint and their health port in the pod network. A pod that
 * gets a deletionTimestamp stops answering at once (its container got SIGTERM), stays Terminating
 * for `terminationMs`, then is deleted with grace 0, as a kubelet confirms a kill. `evict` and
 * `complete` make a pod Failed/Evicted or Succeeded, which a real cluster keeps (with its labels)
 * until something garbage-collects it — nothing does here.
 *
 * It reconciles by polling the pod list (every `pollMs`); `settled()` waits until every pod it owns
 * is in the state it decided. `startDelayMs` keeps new pods Pending for a while (an image pull), so a
 * test can look at a rollout half way.
 */
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import type { Scenario } from '../scenario';
import { startLogServer, type ContainerLogs } from './log-server';
import { registerNode } from './node';
import { podBehaviour, type PodBehaviour } from './pod-behaviour';
import type { PodNetworkClient } from './pod-network';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export interface TestKubeletOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  scenario: Scenario;
  network: PodNetworkClient;
  /** The kubelet's serving certificate (the API server verifies it for pods/log). */
  servingCert: { certFile: string; keyFile: string };
  /** How long a deleted pod stays Terminating before the kubelet confirms the deletion. Default 500 ms. */
  terminationMs?: number;
  /** How long a new pod stays Pending after it was bound (pulling its image). Default 0. */
  startDelayMs?: number;
  pollMs?: number;
  nodeName?: string;
}

type PodState = 'bound' | 'running' | 'terminating' | 'finished';

interface OwnedPod {
  name: string;
  uid: string;
  state: PodState;
  container: string;
  image: string;
  ip?: string;
  behaviour?: PodBehaviour;
  relapsed: boolean;
  boundAt: number;
  terminatingSince?: number;
  /** The status the kubelet last wrote (for settled()). */
  written: boolean;
}

const isConflictOrGone = (err: unknown): boolean => err instanceof ApiException && (err.code === 404 || err.code === 409);

function podCondition(type: string, status: boolean, at: Date) {
  return { type, status: status ? 'True' : 'False', lastTransitionTime: at.toISOString(), lastProbeTime: null };
}

export class TestKubelet {
  readonly nodeName: string;
  /** Changeable while it runs: how long new pods stay Pending, and deleted ones Terminating. */
  readonly timing: { startDelayMs: number; terminationMs: number };
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly pods = new Map<string, OwnedPod>();
  private readonly replicaSets = new Map<string, number>();
  private baseRevision = 0;
  /** Pods that existed when the kubelet started: the scenario's seeded pods. */
  private readonly seededPods = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastError: Error | undefined;
  private closeLogs: (() => Promise<void>) | undefined;
  private deleteNode: (() => Promise<void>) | undefined;

  private constructor(private readonly options: TestKubeletOptions) {
    this.nodeName = options.nodeName ?? `kubelet-${options.namespace}-${randomBytes(2).toString('hex')}`.slice(0, 63);
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.timing = { startDelayMs: options.startDelayMs ?? 0, terminationMs: options.terminationMs ?? 500 };
  }

  /**
   * Registers the Node and starts playing the namespace's pods. The ReplicaSets that exist now are
   * the scenario's seeded state; later ones are rollouts.
   */
  static async start(options: TestKubeletOptions): Promise<TestKubelet> {
    const kubelet = new TestKubelet(options);
    await kubelet.begin();
    return kubelet;
  }

  private async begin(): Promise<void> {
    const logs = await startLogServer(this.options.servingCert, (namespace, pod) => this.logsOf(namespace, pod));
    this.closeLogs = () => logs.close();
    this.deleteNode = await registerNode(this.options.kubeConfig, this.nodeName, logs.port);
    const existing = await this.core.listNamespacedPod({ namespace: this.options.namespace });
    for (const pod of existing.items) this.seededPods.add(pod.metadata?.uid ?? '');
    const sets = await this.apps.listNamespacedReplicaSet({ namespace: this.options.namespace });
    this.baseRevision = Math.max(0, ...sets.items.map((rs) => Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0)));
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.loop = this.reconcile()
        .then(
          () => {
            this.lastError = undefined;
          },
          (err: unknown) => {
            this.lastError = err as Error;
          },
        )
        .finally(() => this.schedule(this.options.pollMs ?? 150));
    }, delay);
  }

  /** Resolves once every pod of the namespace is bound and in the state this kubelet decided. */
  async settled(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.loop;
      const list = await this.core.listNamespacedPod({ namespace: this.options.namespace });
      const pending = list.items.filter((pod) => {
        const owned = this.pods.get(pod.metadata?.uid ?? '');
        if (!owned) return true;
        return owned.state === 'bound' || (owned.state === 'running' && !owned.written) || owned.state === 'terminating';
      });
      if (pending.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`test kubelet: pods not settled within ${timeoutMs} ms: ${pending.map((p) => p.metadata?.name).join(', ')}${this.lastError ? ` (last error: ${this.lastError.message})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The pod was evicted (node pressure): Failed/Evicted, its container gone; a real cluster keeps it. */
  async evict(name: string): Promise<void> {
    await this.finish(name, {
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi.',
    });
  }

  /** The container exited 0: the pod is Succeeded (Completed) and stays listed. */
  async complete(name: string): Promise<void> {
    await this.finish(name, { phase: 'Succeeded' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.loop;
    for (const pod of this.pods.values()) if (pod.ip) await this.options.network.removePod(pod.ip).catch(() => undefined);
    await this.closeLogs?.();
    await this.deleteNode?.();
  }

  // ---- reconciliation ---------------------------------------------------------------------------

  private async reconcile(): Promise<void> {
    const list = await this.core.listNamespacedPod({ namespace: this.options.namespace });
    const seen = new Set<string>();
    for (const pod of list.items) {
      const uid = pod.metadata?.uid ?? '';
      seen.add(uid);
      const owned = this.pods.get(uid);
      if (!owned) {
        if (!pod.spec?.nodeName && !pod.metadata?.deletionTimestamp) await this.bind(pod);
        continue;
      }
      if (pod.metadata?.deletionTimestamp && owned.state !== 'terminating') await this.beginTermination(owned);
      if (owned.state === 'terminating') await this.confirmDeletion(owned);
      else if (owned.state === 'bound') await this.startPod(owned);
      else if (owned.state === 'running') await this.watchRelapse(owned);
    }
    for (const [uid, owned] of this.pods) {
      if (seen.has(uid)) continue;
      if (owned.ip) await this.options.network.removePod(owned.ip);
      this.pods.delete(uid);
    }
  }

  private async bind(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    try {
      await this.core.createNamespacedPodBinding({
        name,
        namespace: this.options.namespace,
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName } },
      });
    } catch (err) {
      if (isConflictOrGone(err)) return;
      throw err;
    }
    const container = pod.spec?.containers[0];
    this.pods.set(pod.metadata!.uid!, {
      name,
      uid: pod.metadata!.uid!,
      state: 'bound',
      container: container?.name ?? 'main',
      image: container?.image ?? '',
      relapsed: false,
      boundAt: Date.now(),
      written: false,
    });
  }

  private async revisionOf(rsName: string | undefined): Promise<number> {
    if (!rsName) return this.baseRevision;
    let revision = this.replicaSets.get(rsName);
    if (revision === undefined) {
      const rs: V1ReplicaSet = await this.apps.readNamespacedReplicaSet({ name: rsName, namespace: this.options.namespace });
      revision = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? this.baseRevision);
      this.replicaSets.set(rsName, revision);
    }
    return revision;
  }

  private async startPod(owned: OwnedPod): Promise<void> {
    if (Date.now() - owned.boundAt < this.timing.startDelayMs) return;
    const pod = await this.core.readNamespacedPod({ name: owned.name, namespace: this.options.namespace });
    const rsName = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller)?.name;
    const revision = await this.revisionOf(rsName);
    const deployment = await this.apps.readNamespacedDeployment({ name: this.options.scenario.deployment.name, namespace: this.options.namespace });
    const siblings = [...this.pods.values()].filter((p) => p.name.startsWith(`${rsName ?? ''}-`)).map((p) => p.name).sort();
    const behaviour = podBehaviour(this.options.scenario, {
      rollouts: Math.max(0, revision - this.baseRevision),
      seededPod: this.seededPods.has(owned.uid),
      index: Math.max(0, siblings.indexOf(owned.name)),
      replicas: deployment.spec?.replicas ?? 1,
      now: new Date(),
    });
    owned.behaviour = behaviour;
    if (behaviour.phase === 'Running') {
      owned.ip = await this.options.network.addPod(`${this.options.namespace}/${owned.name}`, this.options.scenario.port, behaviour.answers);
    }
    owned.state = 'running';
    await this.writeStatus(owned, behaviour.ready, behaviour.restarts);
  }

  private async writeStatus(owned: OwnedPod, ready: boolean, restarts: number, extra: Record<string, unknown> = {}): Promise<void> {
    const b = owned.behaviour!;
    const running = b.phase === 'Running';
    const started = b.startedAt;
    const status = {
      phase: b.phase,
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      ...(owned.ip ? { podIP: owned.ip, podIPs: [{ ip: owned.ip }] } : {}),
      startTime: started.toISOString(),
      conditions: [
        podCondition('PodReadyToStartContainers', running, started),
        podCondition('Initialized', true, started),
        podCondition('ContainersReady', ready, started),
        podCondition('Ready', ready, started),
        podCondition('PodScheduled', true, started),
      ],
      containerStatuses: [
        {
          name: owned.container,
          image: owned.image,
          imageID: running ? `${owned.image}@sha256:${'0'.repeat(64)}` : '',
          containerID: running ? `agentruns://${owned.uid}` : undefined,
          ready,
          started: running,
          restartCount: restarts,
          state: running ? { running: { startedAt: started.toISOString() } } : { waiting: { reason: 'ContainerCreating' } },
        },
      ],
      ...extra,
    };
    try {
      await this.core.patchNamespacedPodStatus(
        { name: owned.name, namespace: this.options.namespace, body: { metadata: { uid: owned.uid }, status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      owned.written = true;
    } catch (err) {
      if (!isConflictOrGone(err)) throw err;
    }
  }

  /** A cure that wears off: the pod network says readiness relapsed; the pod turns not Ready, its container restarts. */
  private async watchRelapse(owned: OwnedPod): Promise<void> {
    const b = owned.behaviour;
    if (!owned.ip || !b || owned.relapsed || b.answers.relapseAfterReadinessProbes === undefined) return;
    const state = await this.options.network.podState(owned.ip);
    if (!state?.relapsed) return;
    owned.relapsed = true;
    await this.writeStatus(owned, false, b.restarts + 1);
  }

  private async beginTermination(owned: OwnedPod): Promise<void> {
    owned.state = 'terminating';
    owned.terminatingSince = Date.now();
    if (owned.ip) await this.options.network.removePod(owned.ip);
    owned.ip = undefined;
  }

  private async confirmDeletion(owned: OwnedPod): Promise<void> {
    if (Date.now() - (owned.terminatingSince ?? 0) < this.timing.terminationMs) return;
    try {
      // With a body the API server reads the options from it and ignores the query: grace 0 goes there.
      await this.core.deleteNamespacedPod({ name: owned.name, namespace: this.options.namespace, body: { gracePeriodSeconds: 0, preconditions: { uid: owned.uid } } });
    } catch (err) {
      if (!isConflictOrGone(err)) throw err;
    }
    owned.state = 'finished';
  }

  private async finish(name: string, outcome: { phase: 'Failed' | 'Succeeded'; reason?: string; message?: string }): Promise<void> {
    await this.loop;
    const owned = [...this.pods.values()].find((p) => p.name === name);
    if (!owned?.behaviour) throw new Error(`test kubelet: pod ${name} is not running on ${this.nodeName}`);
    if (owned.ip) await this.options.network.removePod(owned.ip);
    owned.state = 'finished';
    owned.behaviour = { ...owned.behaviour, phase: outcome.phase };
    const at = new Date().toISOString();
    const terminated = outcome.phase === 'Succeeded' ? { exitCode: 0, reason: 'Completed' } : { exitCode: 137, reason: 'Error' };
    await this.writeStatus(owned, false, owned.behaviour.restarts, {
      ...(outcome.reason ? { reason: outcome.reason, message: outcome.message } : {}),
      conditions: [
        podCondition('PodReadyToStartContainers', false, new Date()),
        podCondition('Initialized', true, owned.behaviour.startedAt),
        podCondition('ContainersReady', false, new Date()),
        podCondition('Ready', false, new Date()),
        podCondition('PodScheduled', true, owned.behaviour.startedAt),
      ],
      containerStatuses: [
        {
          name: owned.container,
          image: owned.image,
          imageID: `${owned.image}@sha256:${'0'.repeat(64)}`,
          ready: false,
          started: false,
          restartCount: owned.behaviour.restarts,
          state: { terminated: { ...terminated, startedAt: owned.behaviour.startedAt.toISOString(), finishedAt: at } },
        },
      ],
    });
    owned.ip = undefined;
  }

  private logsOf(namespace: string, name: string): ContainerLogs | undefined {
    if (namespace !== this.options.namespace) return undefined;
    const owned = [...this.pods.values()].find((p) => p.name === name);
    if (!owned?.behaviour || owned.behaviour.phase === 'Pending') return undefined;
    const restarts = owned.behaviour.restarts + (owned.relapsed ? 1 : 0);
    return { container: owned.container, lines: owned.relapsed ? owned.behaviour.relapsedLogs : owned.behaviour.logs, restarts };
  }
}
