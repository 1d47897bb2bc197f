/**
 * What every fleet measurement runs on: a fresh Temporal dev server, the fleet of simulated targets
 * (./fleet.ts), the production ingress in its own process (./ingress-process.ts) and the bench's
 * worker process (product and floor workers, ./worker-process.ts). The worker can be replaced by one
 * that runs the diagnosis in order. Everything stops in `close`, in reverse order.
 */
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../temporal-dev-server';
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
  worker: BenchWorker;
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
    const server = await startDevServer({ headless: true });
    closers.push(() => server.stop());
    const bundles = await writeBundles();
    closers.push(() => bundles.remove());
    const fleet = await startFleet({ size: options.targets, callDelayMs: options.callDelayMs });
    closers.push(() => fleet.close());
    const connection = await Connection.connect({ address: server.address });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: server.namespace });
    const workerFor = (sequentialDiagnostics: boolean) =>
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
        },
        bundles.dir,
      );
    let worker = await workerFor(false);
    closers.push(() => worker.stop());
    const ingress = await startIngressProcess({
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
