/**
 * The local stack: a Temporal dev server with its Web UI, the simulated torghut environment
 * (Kubernetes, GitHub, Argo CD, Slack), the worker, and the ingress — everything a newcomer needs to
 * watch an incident go from alert to remediated. `startServices` runs the worker and the ingress
 * against any Temporal server (the end-to-end tests use the suite's dev server).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundle } from '@temporalio/worker';
import { createSlackActivities, createSlackClient } from '../activities/slack';
import type { RunbookConfig } from '../domain/runbook-config';
import { createLogger, type Logger } from '../ingress/logger';
import { createMetrics } from '../ingress/metrics';
import { createIngress, type Ingress } from '../ingress/server';
import { writeKubeconfig } from '../sim/kube-api';
import { createIncidentWorker } from '../worker/create-worker';
import { startSimEnvironment, type SimEnvironment } from './sim-environment';
import { freePort, quietTemporalRuntime, startDevServer, type DevServer } from './temporal-dev-server';

export const DEMO_SECRETS = {
  /** Alertmanager's bearer token for the local ingress (http_config.authorization.credentials). */
  alertmanagerToken: 'local-alertmanager-token',
  slackSigningSecret: 'local-slack-signing-secret',
};

export interface ServicesOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  temporalUiUrl?: string;
  env: SimEnvironment;
  ingressPort?: number;
  logger?: Logger;
  workflowBundle?: WorkflowBundle;
  /** INGRESS_BODY_LIMIT_BYTES of the ingress (default 1 MiB). */
  ingressBodyLimitBytes?: number;
}

export interface Services {
  client: Client;
  worker: Worker;
  ingress: Ingress;
  ingressUrl: string;
  stop(): Promise<void>;
}

export async function startServices(options: ServicesOptions): Promise<Services> {
  const logger = options.logger ?? createLogger({ level: 'warn' });
  const nativeConnection = await NativeConnection.connect({ address: options.address });
  // What has been started so far, stopped in reverse order by `stop` — and on a failure further on.
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let connection: Connection | undefined;
  let ingress: Ingress | undefined;
  const stop = async () => {
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    if (ingress) await step(() => ingress!.stop());
    if (worker) {
      await step(() => {
        if (worker!.getState() === 'RUNNING') worker!.shutdown();
      });
      if (running) await step(() => running);
    }
    if (connection) await step(() => connection!.close());
    await step(() => nativeConnection.close());
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'stopping the services failed');
  };
  try {
    worker = await createIncidentWorker({
      connection: nativeConnection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      activities: options.env.activities,
      workflowBundle: options.workflowBundle,
    });
    running = worker.run();
    // A worker that fails while the rest starts is reported by `stop` (or the failure below), not as an unhandled rejection.
    running.catch(() => undefined);
    connection = await Connection.connect({ address: options.address });
    const client = new Client({ connection, namespace: options.namespace });
    const started = createIngress({
      client,
      taskQueue: options.taskQueue,
      runbooks: [options.env.runbook],
      settings: {
        ALERTMANAGER_TOKEN: DEMO_SECRETS.alertmanagerToken,
        SLACK_SIGNING_SECRET: DEMO_SECRETS.slackSigningSecret,
        AGENTRUNS_DECISION_KEY: options.env.decisionKey,
        INGRESS_BODY_LIMIT_BYTES: options.ingressBodyLimitBytes ?? 1024 * 1024,
      },
      slack: createSlackActivities({
        client: createSlackClient({ token: options.env.tokens.slack, apiUrl: options.env.slack.apiUrl }),
        channel: options.env.runbook.slack?.channel,
      }),
      logger,
      metrics: createMetrics({ processMetrics: false }),
    });
    ingress = started;
    const ingressUrl = await started.start({ port: options.ingressPort ?? 0, host: '127.0.0.1' });
    return { client, worker, ingress: started, ingressUrl, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

export interface LocalStackOptions {
  scenario?: string;
  /** Directory for the SQLite file (fresh at every start) and the simulator's kubeconfig; default .temporal/ */
  stateDir?: string;
  temporalPort?: number;
  uiPort?: number;
  ingressPort?: number;
  adjustRunbook?: (runbook: RunbookConfig) => RunbookConfig;
}

export interface LocalStack {
  temporal: DevServer;
  env: SimEnvironment;
  services: Services;
  taskQueue: string;
  kubeconfigPath: string;
  stop(): Promise<void>;
}

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => void freePort().then(resolvePort));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolvePort(preferred)));
  });
}

/**
 * The demo's runbook: the shipped torghut-ws runbook, with the PR merged on approval (nobody can
 * click merge in the simulator) and the new pod's stability watched for 10 seconds, not 2 minutes.
 */
export function demoRunbook(runbook: RunbookConfig): RunbookConfig {
  return {
    ...runbook,
    gitops: { ...runbook.gitops, merge: 'auto' },
    verification: { ...runbook.verification, stableFor: '10 seconds' },
    argo: { enabled: true, application: runbook.argo?.application ?? 'torghut', syncTimeout: runbook.argo?.syncTimeout ?? '10 minutes' },
  };
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  quietTemporalRuntime('WARN');
  const stateDir = resolve(options.stateDir ?? '.temporal');
  mkdirSync(stateDir, { recursive: true });
  // The Temporal state lives for one run of the stack, as the simulated environment does: a kept
  // history would describe simulated systems that no longer exist — its restarts would trip the
  // next demo's cool-down, and an incident still holding its alert's re-sends would absorb its alert.
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(join(stateDir, `dev.sqlite${suffix}`), { force: true });
  const temporal = await startDevServer({
    dbFile: join(stateDir, 'dev.sqlite'),
    port: await portOr(options.temporalPort ?? 7233),
    uiPort: await portOr(options.uiPort ?? 8233),
  });
  // Everything started so far, stopped in reverse order — by `stop`, or when a later step fails.
  const started: Array<() => Promise<void>> = [() => temporal.stop()];
  const stop = async () => {
    const errors: unknown[] = [];
    for (const stopOne of started.splice(0).reverse()) {
      await stopOne().catch((err: unknown) => errors.push(err));
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'stopping the local stack failed');
  };
  try {
    const env = await startSimEnvironment({
      scenario: options.scenario ?? 'alpaca-406',
      adjustRunbook: options.adjustRunbook ?? demoRunbook,
      verifyPollIntervalMs: 1000,
      temporalUiUrl: temporal.uiUrl ?? undefined,
    });
    started.push(() => env.close());
    const taskQueue = 'agentruns';
    const services = await startServices({
      address: temporal.address,
      namespace: temporal.namespace,
      taskQueue,
      temporalUiUrl: temporal.uiUrl ?? undefined,
      env,
      ingressPort: await portOr(options.ingressPort ?? 8080),
    });
    started.push(() => services.stop());
    const kubeconfigPath = await writeKubeconfig(env.kube, stateDir);
    return { temporal, env, services, taskQueue, kubeconfigPath, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
