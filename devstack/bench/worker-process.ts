/**
 * The bench's worker process (argv[2]: a JSON spec written by ./workers.ts), run as bundled
 * JavaScript (./build.ts), as production runs: either the product's incident worker over the fleet's
 * simulators — with the diagnosis run in order when the spec says so — or, in a process of its own
 * with the same worker settings, the floor's worker. Each in its own process, so the product's
 * memory is its own. Prints one JSON line once it polls; stops gracefully on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createIncidentWorker, HEARTBEAT_THROTTLE, SHUTDOWN_GRACE, STICKY_QUEUE_TIMEOUT } from '../../worker/create-worker';
import { simActivities } from '../sim-environment';
import { quietTemporalRuntime } from '../temporal-dev-server';
import { createFloorActivities } from './floor-activities';
import { sequentialDiagnostics } from './sequential-diagnostics';
import type { BenchWorkerSpec } from './workers';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as BenchWorkerSpec;
quietTemporalRuntime('ERROR');
const connection = await NativeConnection.connect({ address: spec.address });

async function productWorker(): Promise<Worker> {
  const product = simActivities(spec.endpoints, { runbooks: spec.runbooks, decisionKey: spec.decisionKey, verifyPollIntervalMs: 100 });
  return await createIncidentWorker({
    connection,
    namespace: spec.namespace,
    taskQueue: spec.taskQueue,
    activities: spec.sequentialDiagnostics ? sequentialDiagnostics(product) : product,
    workflowBundle: { codePath: spec.bundlePath },
    identity: `bench-worker-${process.pid}`,
  });
}

async function floorWorker(): Promise<Worker> {
  return await Worker.create({
    connection,
    namespace: spec.namespace,
    taskQueue: spec.floorTaskQueue,
    shutdownGraceTime: SHUTDOWN_GRACE,
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    activities: createFloorActivities({ callDelayMs: spec.callDelayMs, slack: spec.endpoints.slack, channel: spec.floorChannel }),
    workflowBundle: { codePath: spec.floorBundlePath },
  });
}

const worker = spec.role === 'floor' ? await floorWorker() : await productWorker();
const running = worker.run();
process.once('SIGTERM', () => worker.shutdown());
process.stdout.write(`${JSON.stringify({ pid: process.pid })}\n`);
await running;
await connection.close();
