/**
 * The worker process (production): validates settings and the runbook config at start, wires real
 * clients, and polls the task queue until SIGINT/SIGTERM, when it finishes in-flight tasks first.
 * Built (dist/), it loads the workflow bundle the build made; from the sources it bundles them now.
 */
import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadRunbookConfigs } from '../config/load-runbook';
import { temporalConnectionOptions } from '../runtime/temporal-connection';
import { activitiesFromSettings, integrationsSummary } from '../runtime/wiring';
import { describeSettings, type Settings } from '../runtime/settings';
import { bundleWorkflows, createIncidentWorker, prebuiltWorkflowBundle } from './create-worker';

export interface RunningWorker {
  worker: Worker;
  run: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(settings: Settings, log: (msg: string, meta?: object) => void): Promise<RunningWorker> {
  // Fails at start, naming every problem, rather than when the first incident arrives.
  const runbooks = await loadRunbookConfigs(settings.AGENTRUNS_RUNBOOK);
  const activities = activitiesFromSettings(settings, runbooks);
  const prebuilt = prebuiltWorkflowBundle(settings.AGENTRUNS_WORKFLOW_BUNDLE);
  log('worker starting', {
    settings: describeSettings(settings),
    runbooks: runbooks.map((r) => r.id),
    integrations: integrationsSummary(settings),
    workflowBundle: prebuilt ? `prebuilt ${prebuilt}` : 'bundled from the sources at start',
  });
  const connection = await NativeConnection.connect(temporalConnectionOptions(settings));
  let worker: Worker;
  try {
    worker = await createIncidentWorker({
      connection,
      namespace: settings.TEMPORAL_NAMESPACE,
      taskQueue: settings.TEMPORAL_TASK_QUEUE,
      activities,
      workflowBundle: prebuilt ? { codePath: prebuilt } : await bundleWorkflows(),
    });
  } catch (err) {
    // An open connection would keep the process alive after the error.
    await connection.close().catch(() => undefined);
    throw err;
  }
  const run = worker.run().finally(() => void connection.close());
  log('worker polling', { taskQueue: settings.TEMPORAL_TASK_QUEUE, namespace: settings.TEMPORAL_NAMESPACE });
  return {
    worker,
    run,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
    },
  };
}
