/**
 * Running real incidents in tests: a simulated torghut environment, a worker on its own task queue
 * with the production activities pointed at it, and an incident started as the ingress starts one.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { Activities } from '../../activities';
import type { Worker } from '@temporalio/worker';
import { openIncident } from '../../control/incidents';
import { startSimEnvironment, type SimEnvironment, type SimEnvironmentOptions } from '../../devstack/sim-environment';
import type { DecisionInput } from '../../domain/decision';
import type { IncidentState, Phase } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { statusQuery } from '../../workflows/messages';
import { createTestWorker, uniqueTaskQueue, type TemporalTestContext } from './temporal';

export interface IncidentHarness {
  env: SimEnvironment;
  worker: Worker;
  taskQueue: string;
  /** The activities the worker runs (the environment's, wrapped when the test wraps them). */
  activities: Activities;
  runbook: RunbookConfig;
  /** Runs the worker until `fn` settles, then shuts it down. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  start(extra?: { dryRun?: boolean; alertname?: string; startsAt?: string }): Promise<WorkflowHandle>;
  close(): Promise<void>;
}

/**
 * A runbook unique to the test — its own id and its own target namespace — so each test owns its
 * incident's workflow ID (which derives from the target). Alert matchers follow the namespace.
 * The hold of re-sends after a close and the stability watch after a restart are off unless the test
 * turns them on (`adjust`): they are waits by design (hours, minutes), and each has its own tests
 * (resend-hold.test.ts, recovery-checks.test.ts).
 */
export function uniqueRunbook(runbook: RunbookConfig, adjust?: (r: RunbookConfig) => RunbookConfig): RunbookConfig {
  const name = `t-${randomUUID().slice(0, 12)}`;
  const unique: RunbookConfig = {
    ...runbook,
    id: name,
    target: { ...runbook.target, namespace: name },
    alerts: runbook.alerts.map((a) => ({ labels: { ...a.labels, ...(a.labels.namespace ? { namespace: name } : {}) } })),
    timeouts: { ...runbook.timeouts, resendHold: 'off' },
    verification: { ...runbook.verification, stableFor: 'off' },
  };
  return adjust ? adjust(unique) : unique;
}

/**
 * A runbook that acts quickly in a test: merged automatically (polled every 200 ms), short approval
 * and verification windows, and the Argo CD application `torghut` synced.
 */
export function fastRunbook(r: RunbookConfig, windows: { approval?: string; verification?: string } = {}): RunbookConfig {
  return {
    ...r,
    gitops: { ...r.gitops, merge: 'auto', mergePollInterval: '200ms' },
    timeouts: { ...r.timeouts, approval: windows.approval ?? '1 minute', verification: windows.verification ?? '20 seconds' },
    argo: { enabled: true, application: 'torghut', syncTimeout: '30 seconds' },
  };
}

/** {@link fastRunbook}, but a human merges the PR (the incident watches for it). */
export function withMergeWait(r: RunbookConfig, windows?: { approval?: string; verification?: string }): RunbookConfig {
  const fast = fastRunbook(r, windows);
  return { ...fast, gitops: { ...fast.gitops, merge: 'wait' } };
}

/** A decision for the run and step the incident waits at, as the CLI and Slack send them. */
export function decisionFor(state: Pick<IncidentState, 'runId' | 'phase'>, by: string, extra: Partial<DecisionInput> = {}): DecisionInput {
  return { by, runId: state.runId, step: state.phase === 'awaiting-rollback-approval' ? 'rollback' : 'restart', ...extra };
}

export async function incidentHarness(
  ctx: TemporalTestContext,
  options: Omit<SimEnvironmentOptions, 'adjustRunbook'> & {
    adjust?: (r: RunbookConfig) => RunbookConfig;
    /** Fault injection around the real activities. */
    wrapActivities?: (activities: Activities) => Activities;
    /** A shorter shutdown grace, for tests that roll workers. */
    shutdownGraceTime?: string;
  },
): Promise<IncidentHarness> {
  const { adjust, wrapActivities, shutdownGraceTime, ...envOptions } = options;
  const env = await startSimEnvironment({
    temporalUiUrl: ctx.uiUrl || undefined,
    ...envOptions,
    adjustRunbook: (r) => uniqueRunbook(r, adjust),
  });
  const taskQueue = uniqueTaskQueue();
  const activities = wrapActivities ? wrapActivities(env.activities) : env.activities;
  const worker = await createTestWorker(ctx, taskQueue, activities, { shutdownGraceTime });
  return {
    env,
    worker,
    taskQueue,
    activities,
    runbook: env.runbook,
    run: (fn) => worker.runUntil(fn),
    async start(extra = {}) {
      const opened = await openIncident(
        { client: ctx.client, taskQueue },
        env.runbook,
        {
          source: 'alertmanager',
          alert: {
            alertname: extra.alertname ?? 'TorghutWsNotReady',
            labels: { alertname: extra.alertname ?? 'TorghutWsNotReady', namespace: env.runbook.target.namespace },
            ...(extra.startsAt ? { startsAt: extra.startsAt } : {}),
          },
        },
        { dryRun: extra.dryRun },
      );
      return ctx.client.workflow.getHandle(opened.workflowId, opened.runId);
    },
    close: () => env.close(),
  };
}

/** A decision pinned to the run and step the incident waits at right now (as the CLI and Slack send it). */
export async function pinned(handle: WorkflowHandle, input: { by: string } & Partial<DecisionInput>): Promise<DecisionInput> {
  return decisionFor(await handle.query(statusQuery), input.by, input);
}

/** Polls the `status` query until the incident reaches one of the phases (or closes). */
export async function waitForPhase(handle: WorkflowHandle, phases: Phase[], timeoutMs = 60_000): Promise<IncidentState> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentState | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      if (phases.includes(last.phase)) return last;
      if (last.phase === 'closed') break;
    } catch (err) {
      // The first workflow task may not have run yet.
      if (!/not found|no poller|query/i.test((err as Error).message)) throw err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`incident did not reach ${phases.join('|')} within ${timeoutMs} ms; last state: ${JSON.stringify(last?.phase)} ${last?.error ?? ''} ${last?.notes.join('; ') ?? ''}`);
}
