/**
 * What every fleet measurement runs on: a fresh Temporal dev server, the fleet of simulated targets
 * (./fleet.ts), the production ingress in its own process (./ingress-process.ts) and the bench's
 * worker processes (the product's and the floor's, ./worker-process.ts), all bundled as plain
 * JavaScript (./build.ts). The product's worker can be replaced by one that runs the diagnosis in
 * order. Everything stops in `close`, in reverse order.
 */
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../temporal-dev-server';
import { buildBenchProcesses } from './build';
import { startFleet, type Fleet } from './fleet';
import { startIngressProcess, type IngressProcess } from './ingress-process';
import { startBenchWorker, writeBundles, type BenchWorker, type Bundles } from './workers';

export const TASK_QUEUE = 'bench-incidents';
export const FLOOR_TASK_QUEUE = 'bench-floor';
/** The floor posts where the incidents post (the simulated Slack's one channel). */
export const FLOOR_CHANNEL = '#torghut-oncall';

export interface BenchStack {
  server: DevServer;
  client: Client;
  fleet: Fleet;
  ingress: IngressProcess;
  /** The product's worker process (its memory is the product worker's own). */
  worker: BenchWorker;
  /** The floor's worker process, same settings. */
  floorWorker: BenchWorker;
  bundles: Bundles;
  callDelayMs: number;
  /** Replaces the worker process (e.g. by one running the diagnosis in order). */
  restartWorker(options: { sequentialDiagnostics: boolean }): Promise<BenchWorker>;
  close(): Promise<void>;
}

export async function startBenchStack(options: { targets: number; callDelayMs: number }): Promise<BenchStack> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await Promise.resolve(c()).catch((err: unknown) => console.error(`[bench] stopping: ${(err as Error).message}`));
  };
  try {
    // BENCH_EAGER_ACTIVITIES=1: the server hands a workflow task's new activities straight back to
    // the worker that scheduled them (eager dispatch; off in a default server, on in some hosted ones).
    const eager = process.env.BENCH_EAGER_ACTIVITIES === '1';
    const server = await startDevServer({ headless: true, ...(eager ? { dynamicConfig: { 'system.enableActivityEagerExecution': true } } : {}) });
    closers.push(() => server.stop());
    const bundles = await writeBundles();
    closers.push(() => bundles.remove());
    const built = await buildBenchProcesses();
    closers.push(() => built.remove());
    const fleet = await startFleet({ size: options.targets, callDelayMs: options.callDelayMs });
    closers.push(() => fleet.close());
    const connection = await Connection.connect({ address: server.address });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });
    const workerFor = (sequentialDiagnostics: boolean, role: 'product' | 'floor' = 'product') =>
      startBenchWorker(
        {
          address: server.address,
          namespace: server.namespace,
          taskQueue: TASK_QUEUE,
          floorTaskQueue: FLOOR_TASK_QUEUE,
          floorChannel: FLOOR_CHANNEL,
          bundlePath: bundles.product,
          floorBundlePath: bundles.floor,
          endpoints: fleet.endpoints,
          runbooks: fleet.runbooks,
          decisionKey: fleet.systems.decisionKey,
          callDelayMs: options.callDelayMs,
          sequentialDiagnostics,
          role,
        },
        bundles.dir,
        built.worker,
      );
    let worker = await workerFor(false);
    closers.push(() => worker.stop());
    const floorWorker = await workerFor(false, 'floor');
    closers.push(() => floorWorker.stop());
    const ingress = await startIngressProcess({
      entry: built.ingress,
      dir: bundles.dir,
      address: server.address,
      namespace: server.namespace,
      taskQueue: TASK_QUEUE,
      runbooks: fleet.runbooks,
      decisionKey: fleet.systems.decisionKey,
      slack: fleet.endpoints.slack,
    });
    closers.push(() => ingress.stop());
    const stack: BenchStack = {
      server,
      client,
      fleet,
      ingress,
      worker,
      floorWorker,
      bundles,
      callDelayMs: options.callDelayMs,
      async restartWorker(o) {
        await worker.stop();
        worker = await workerFor(o.sequentialDiagnostics);
        stack.worker = worker;
        return worker;
      },
      close,
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}
