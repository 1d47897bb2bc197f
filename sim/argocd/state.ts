/**
 * The simulated Argo CD's state model: its Applications and their operations, and the application
 * controller that runs them.
 *
 * Operations follow Argo CD's two-step life: the POST (or the automated sync) records the requested
 * `operation` on the Application; the controller picks it up after a pick-up delay, which replaces
 * `status.operationState` with a Running state (`startedAt`), and finishes it after `applyDelayMs`
 * (`finishedAt`, `syncResult.revision`), clearing `operation`. Until the pick-up a GET still shows the
 * PREVIOUS operation's state — every application starts with one from an earlier sync
 * (`previousSyncAgoMs`) — which is exactly what a client must not take for its own. A sync reads the
 * desired manifest from the simulated Git repository and applies it to the simulated cluster.
 * Timestamps are RFC 3339 with whole seconds, as Kubernetes serialises them.
 */

/** Where an application reads its manifests (v1alpha1ApplicationSource). */
export interface ArgoSimSource {
  repoURL: string;
  path?: string;
  targetRevision?: string;
  directory?: { recurse?: boolean };
}

export interface ArgoSimApplication {
  name: string;
  /** `spec.source`; absent: the application has none in the answer. */
  source?: ArgoSimSource;
  /** `spec.sources` of a multi-source application (answered instead of `source`). */
  sources?: ArgoSimSource[];
  /** `spec.destination.namespace`. */
  destinationNamespace?: string;
  /** Desired state from Git: the manifest text and the commit it came from. */
  readDesired(): Promise<{ manifest: string; revision: string }>;
  /** Apply the manifest to the cluster (the in-process simulator, or a real API server). */
  apply(manifest: string): void | Promise<void>;
  /** Live health of the application's resources. */
  health(): 'Healthy' | 'Progressing' | 'Degraded';
}

export interface ArgoOperation {
  sync: { revision?: string; prune?: boolean };
  initiatedBy: { username?: string; automated?: boolean };
}

export interface ArgoOperationState {
  operation: ArgoOperation;
  phase: 'Running' | 'Succeeded' | 'Failed' | 'Error';
  message: string;
  startedAt: string;
  finishedAt?: string;
  syncResult?: { revision: string };
}

export interface AppState {
  spec: ArgoSimApplication;
  syncStatus: 'Synced' | 'OutOfSync';
  revision: string;
  /** The requested operation, until the controller finished it (Application.operation). */
  operation: ArgoOperation | null;
  /** The state of the last operation the controller started (Application.status.operationState). */
  operationState: ArgoOperationState | null;
  /** Operations started through the API (not automated ones). */
  syncs: number;
}

export interface ControllerOptions {
  /** How long a sync operation runs once started; default 50 ms. */
  applyDelayMs?: number;
  /** Clock for operation timestamps; default the system clock. */
  now?: () => Date;
}

export class ArgoApplications {
  private readonly apps = new Map<string, AppState>();
  private readonly running = new Set<Promise<void>>();
  private readonly now: () => Date;
  /** While set, a picked-up operation stays Running (the controller never finishes it) until released. */
  private stalled: { released: Promise<void>; release: () => void } | null = null;

  constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** RFC 3339 with whole seconds. */
  stamp(at: Date = this.now()): string {
    return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Registers the applications, each with a finished sync `previousSyncAgoMs` ago (null: never synced). */
  async seed(specs: ArgoSimApplication[], previousSyncAgoMs: number | null): Promise<void> {
    for (const spec of specs) {
      const app: AppState = { spec, syncStatus: 'Synced', revision: '', operation: null, operationState: null, syncs: 0 };
      if (previousSyncAgoMs !== null) {
        // The last sync before the simulation started: finished, and of the Git head at that time.
        const revision = await spec.readDesired().then(
          (d) => d.revision,
          () => '',
        );
        const startedAt = new Date(this.now().getTime() - previousSyncAgoMs);
        app.revision = revision;
        app.operationState = {
          operation: { sync: { revision }, initiatedBy: { automated: true } },
          phase: 'Succeeded',
          message: 'successfully synced (all tasks run)',
          startedAt: this.stamp(startedAt),
          finishedAt: this.stamp(new Date(startedAt.getTime() + 5000)),
          syncResult: { revision },
        };
      }
      this.apps.set(spec.name, app);
    }
  }

  get(name: string): AppState | undefined {
    return this.apps.get(name);
  }

  named(name: string): AppState {
    const app = this.apps.get(name);
    if (!app) throw new Error(`no application ${name}`);
    return app;
  }

  /** Requests the operation; the controller picks it up after `pickupDelayMs`. */
  start(app: AppState, operation: ArgoOperation, pickupDelayMs: number): void {
    app.operation = operation;
    // Without a pick-up delay `run` records the Running state before it first awaits, so the answer
    // to the POST already shows it.
    const job: Promise<void> = this.run(app, operation, pickupDelayMs).finally(() => this.running.delete(job));
    this.running.add(job);
  }

  /** Operations stay Running from now on (true), or go on and finish (false). */
  stall(stalled: boolean): void {
    if (stalled && !this.stalled) {
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      this.stalled = { released, release };
    } else if (!stalled && this.stalled) {
      this.stalled.release();
      this.stalled = null;
    }
  }

  /** Resolves when every operation started so far has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** The application controller: picks the requested operation up, runs it, records the result. */
  private async run(app: AppState, operation: ArgoOperation, pickupDelayMs: number): Promise<void> {
    if (pickupDelayMs > 0) await new Promise((r) => setTimeout(r, pickupDelayMs));
    const state: ArgoOperationState = { operation, phase: 'Running', message: 'one or more tasks are running', startedAt: this.stamp() };
    app.operationState = state;
    if (this.stalled) await this.stalled.released;
    try {
      const desired = await app.spec.readDesired();
      const revision = operation.sync.revision;
      if (revision && revision !== desired.revision && revision !== 'HEAD') {
        throw new Error(`revision ${revision} is not the head of the tracked branch (${desired.revision})`);
      }
      await new Promise((r) => setTimeout(r, this.options.applyDelayMs ?? 50));
      await app.spec.apply(desired.manifest);
      app.revision = desired.revision;
      app.syncStatus = 'Synced';
      Object.assign(state, { phase: 'Succeeded', message: 'successfully synced (all tasks run)', finishedAt: this.stamp(), syncResult: { revision: desired.revision } });
    } catch (err) {
      Object.assign(state, { phase: 'Failed', message: (err as Error).message, finishedAt: this.stamp() });
    } finally {
      app.operation = null;
    }
  }
}
