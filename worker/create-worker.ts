/**
 * Builds the incident worker from a connection and a set of activities. The worker process wires
 * real clients (worker/main.ts); tests and the demo wire the simulated environment.
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { Activities } from '../activities';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Bundles the workflow code once (webpack); share the result between workers of one process. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

export interface IncidentWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  workflowBundle?: WorkflowBundle;
  shutdownGraceTime?: string;
  identity?: string;
}

/**
 * How long a stopping worker lets its activities finish: the wait windows (activities/waits.ts) end
 * early with what they saw, so a rollout hands every wait to the next worker without losing it.
 */
export const SHUTDOWN_GRACE = '10 seconds';

/**
 * How long a workflow task waits for the worker that has the workflow cached before any worker may
 * take it (replaying the history). A crashed worker never takes it: after the crash, each next step
 * of its incidents would otherwise wait the SDK's default 10 s.
 */
export const STICKY_QUEUE_TIMEOUT = '3 seconds';

export async function createIncidentWorker(options: IncidentWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    shutdownGraceTime: options.shutdownGraceTime ?? SHUTDOWN_GRACE,
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
