/**
 * Builds the incident worker from a connection and a set of activities. The worker process wires
 * real clients (worker/main.ts); tests and the demo wire the simulated environment.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Where the production build puts the prebuilt workflow bundle: next to the running code
 * (dist/workflow-bundle.js beside the built CLI, scripts/build.ts). From the sources this names
 * worker/workflow-bundle.js, which never exists: a source checkout bundles its workflow code as it
 * is now, never a stale build.
 */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

/**
 * The prebuilt workflow bundle a worker process loads, if any: the configured file
 * (AGENTRUNS_WORKFLOW_BUNDLE), else the one next to the built code; undefined from the sources.
 */
export function prebuiltWorkflowBundle(configured?: string): string | undefined {
  if (configured) return resolve(configured);
  return existsSync(PREBUILT_WORKFLOW_BUNDLE) ? PREBUILT_WORKFLOW_BUNDLE : undefined;
}

/** Bundles the workflow code once (webpack); share the result between workers of one process. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  if (!existsSync(WORKFLOWS_PATH)) {
    throw new Error(`no prebuilt workflow bundle (${PREBUILT_WORKFLOW_BUNDLE}) and no workflow sources to bundle (${WORKFLOWS_PATH}): run npm run build, or set AGENTRUNS_WORKFLOW_BUNDLE`);
  }
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
  /** The code itself, or the path of a prebuilt bundle; default: the sources, bundled now. */
  workflowBundle?: WorkflowBundleOption;
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

/**
 * How often a running activity's heartbeat reaches the server (the SDK's default is 80% of the
 * heartbeat timeout: a 5 s timeout would leave a loaded worker 1 s of margin). Every 2 s, against
 * the 5 s HEARTBEAT_TIMEOUT of workflows/incident/activities.ts: 3 s of margin, and a crash found
 * within 5 s.
 */
export const HEARTBEAT_THROTTLE = '2 seconds';

export async function createIncidentWorker(options: IncidentWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    shutdownGraceTime: options.shutdownGraceTime ?? SHUTDOWN_GRACE,
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
