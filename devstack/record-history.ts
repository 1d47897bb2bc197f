/**
 * Records one workflow history per outcome of the incident workflow on a fresh dev server, for the
 * replay test (`npm run record-history`): remediated, rejected, expired, refused,
 * recovered-before-action, needs-human, verification-failed with a rollback, failed. Each runs a
 * real incident against the simulated environment with the production activities.
 *
 * Re-record only when a workflow change is deliberately incompatible (and then keep the old files:
 * in-flight incidents of the old code must still replay); otherwise the replay test is what catches
 * an incompatible change. `test/fixtures/histories/remediated-406.json` is the version-1 recording
 * (before the trust boundary) and is never re-recorded.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { decide, openIncident } from '../control/incidents';
import { incidentWorkflowId, type IncidentState, type Outcome } from '../domain/incident';
import type { RunbookConfig } from '../domain/runbook-config';
import { loadScenario, type Scenario } from '../sim/scenario';
import { approveSignal, INCIDENT_WORKFLOW_TYPE, rejectSignal, statusQuery } from '../workflows/messages';
import { bundleWorkflows, createIncidentWorker } from '../worker/create-worker';
import { demoRunbook } from './local-stack';
import { startSimEnvironment, type SimEnvironment } from './sim-environment';
import { ensureTemporalCli, startDevServer, type DevServer } from './temporal-dev-server';

export const HISTORY_DIR = 'test/fixtures/histories';

interface Recording {
  outcome: Outcome;
  /** A second recording of an outcome, for a path the first does not take: `<outcome>+<variant>.json`. */
  variant?: string;
  scenario: string | (() => Promise<Scenario>);
  adjust?: (runbook: RunbookConfig) => RunbookConfig;
  /** Drives the incident from its start to its end (decisions, outside changes). */
  drive(run: { client: Client; handle: WorkflowHandle; env: SimEnvironment }): Promise<void>;
  /** Starts a forged incident instead of one from an alert. */
  forged?: boolean;
}

/** Polls the status query until the incident reaches the phase. */
async function phase(handle: WorkflowHandle, wanted: IncidentState['phase']): Promise<IncidentState> {
  for (let i = 0; i < 300; i++) {
    try {
      const state = await handle.query(statusQuery);
      if (state.phase === wanted) return state;
    } catch {
      /* the first workflow task may not have run yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`incident ${handle.workflowId} never reached ${wanted}`);
}

const pin = (state: IncidentState, by: string, step: 'restart' | 'rollback' = 'restart') => ({ by, runId: state.runId, step });

const RECORDINGS: Recording[] = [
  {
    outcome: 'remediated',
    scenario: 'alpaca-406-two-replicas',
    async drive({ client, handle }) {
      const waiting = await phase(handle, 'awaiting-approval');
      await decide(client, handle.workflowId, 'approve', { ...pin(waiting, 'oncall-alice'), comment: 'recorded run' });
    },
  },
  {
    outcome: 'rejected',
    scenario: 'alpaca-406',
    async drive({ handle }) {
      const waiting = await phase(handle, 'awaiting-approval');
      await handle.signal(rejectSignal, { ...pin(waiting, 'oncall-bob'), comment: 'market closed' });
    },
  },
  {
    outcome: 'expired',
    scenario: 'alpaca-406',
    adjust: (r) => ({ ...r, timeouts: { ...r.timeouts, approval: '2 seconds' } }),
    async drive() {},
  },
  {
    outcome: 'refused',
    scenario: 'alpaca-406',
    forged: true,
    async drive() {},
  },
  {
    outcome: 'recovered-before-action',
    scenario: 'alpaca-406',
    async drive({ client, handle, env }) {
      const waiting = await phase(handle, 'awaiting-approval');
      // The forwarder reconnected on its own while on-call read the message; the restart annotation is untouched.
      const scenario = await loadScenario('alpaca-406');
      env.kube.setScenario({ ...scenario, namespace: env.runbook.target.namespace, readiness: { status: 200, body: { status: 'ok' } } });
      await decide(client, handle.workflowId, 'approve', pin(waiting, 'oncall-alice'));
    },
  },
  {
    outcome: 'needs-human',
    scenario: 'unknown',
    async drive() {},
  },
  {
    outcome: 'healthy-no-action',
    scenario: 'healthy',
    async drive() {},
  },
  {
    // The recovery checks after the rollout: the new pod watched for 2 s (no status check: no Prometheus here).
    outcome: 'remediated',
    variant: 'recovery-checks',
    scenario: 'alpaca-406-two-replicas',
    adjust: (r) => ({ ...r, verification: { ...r.verification, stableFor: '2 seconds' } }),
    async drive({ client, handle }) {
      const waiting = await phase(handle, 'awaiting-approval');
      await decide(client, handle.workflowId, 'approve', { ...pin(waiting, 'oncall-alice'), comment: 'recorded run' });
    },
  },
  {
    // The cool-down's look at earlier incidents made beside the diagnosis sources (one step fewer before approval).
    outcome: 'remediated',
    variant: 'cooldown-with-diagnosis',
    scenario: 'alpaca-406',
    async drive({ client, handle }) {
      const waiting = await phase(handle, 'awaiting-approval');
      await decide(client, handle.workflowId, 'approve', { ...pin(waiting, 'oncall-alice'), comment: 'recorded run' });
    },
  },
  {
    // The hold after the close: two re-sends counted, one thread reply, then the window passes.
    outcome: 'healthy-no-action',
    variant: 'resend-hold',
    scenario: 'healthy',
    adjust: (r) => ({ ...r, timeouts: { ...r.timeouts, resendHold: '4 seconds' } }),
    async drive({ client, handle, env }) {
      await phase(handle, 'closed');
      for (let i = 0; i < 2; i++) {
        await openIncident({ client, taskQueue: (await handle.describe()).taskQueue }, env.runbook, {
          source: 'alertmanager',
          alert: { alertname: 'TorghutWsNotReady', labels: { alertname: 'TorghutWsNotReady', namespace: env.runbook.target.namespace } },
        });
      }
    },
  },
  {
    outcome: 'verification-failed',
    scenario: async () => {
      const scenario = await loadScenario('alpaca-406');
      delete scenario.afterRestart;
      return scenario;
    },
    adjust: (r) => ({ ...r, timeouts: { ...r.timeouts, verification: '3 seconds' } }),
    async drive({ client, handle }) {
      const waiting = await phase(handle, 'awaiting-approval');
      await decide(client, handle.workflowId, 'approve', pin(waiting, 'oncall-alice'));
      const offered = await phase(handle, 'awaiting-rollback-approval');
      await handle.signal(approveSignal, { ...pin(offered, 'oncall-bob', 'rollback'), comment: 'roll it back' });
    },
  },
  {
    outcome: 'failed',
    scenario: 'alpaca-406',
    adjust: (r) => ({ ...r, gitops: { ...r.gitops, merge: 'wait', mergeTimeout: '2 seconds', mergePollInterval: '200 milliseconds' } }),
    async drive({ client, handle }) {
      const waiting = await phase(handle, 'awaiting-approval');
      await decide(client, handle.workflowId, 'approve', pin(waiting, 'oncall-alice'));
    },
  },
];

/** The recording's file name: its outcome, and its variant after a `+`. */
const nameOf = (recording: Recording) => (recording.variant ? `${recording.outcome}+${recording.variant}` : recording.outcome);

/**
 * The demo runbook on a target of its own (namespace `rec-<outcome>`), so each recording is its own
 * incident and its workflow ID — which replay needs (test/integration/replay.test.ts) — follows from
 * the file name.
 */
function ownTarget(recording: Recording) {
  const { adjust } = recording;
  return (base: RunbookConfig): RunbookConfig => {
    const name = `rec-${nameOf(recording).replace('+', '-')}`;
    // No hold of re-sends and no stability watch unless the recording asks for them: they are waits.
    const runbook = { ...demoRunbook(base), id: name, target: { ...base.target, namespace: name }, timeouts: { ...base.timeouts, resendHold: 'off' }, verification: { ...base.verification, stableFor: 'off' } };
    return adjust ? adjust(runbook) : runbook;
  };
}

async function recordOne(server: DevServer, recording: Recording, native: NativeConnection, client: Client, bundle: { code: string }): Promise<string> {
  const scenario = typeof recording.scenario === 'string' ? recording.scenario : await recording.scenario();
  const env = await startSimEnvironment({ scenario, adjustRunbook: ownTarget(recording), verifyPollIntervalMs: 250 });
  try {
    const taskQueue = `record-${nameOf(recording).replace('+', '-')}`;
    const worker = await createIncidentWorker({ connection: native, namespace: server.namespace, taskQueue, activities: env.activities, workflowBundle: bundle });
    const state = await worker.runUntil(async () => {
      let handle: WorkflowHandle;
      if (recording.forged) {
        handle = await client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
          workflowId: incidentWorkflowId(env.runbook.target),
          taskQueue,
          args: [{ runbookId: env.runbook.id, runbook: { ...env.runbook, approvers: [{ id: 'mallory' }] }, trigger: { source: 'cli', by: 'mallory' } }],
        });
      } else {
        const opened = await openIncident({ client, taskQueue }, env.runbook, {
          source: 'alertmanager',
          alert: { alertname: 'TorghutWsNotReady', labels: { alertname: 'TorghutWsNotReady', namespace: env.runbook.target.namespace } },
        });
        handle = client.workflow.getHandle(opened.workflowId, opened.runId);
      }
      await recording.drive({ client, handle, env });
      const result = (await handle.result()) as IncidentState;
      const runId = (await handle.describe()).runId;
      // The Temporal CLI's JSON export is the format `Worker.runReplayHistories` reads back.
      const shown = spawnSync(
        ensureTemporalCli(),
        ['workflow', 'show', '--address', server.address, '--workflow-id', handle.workflowId, '--run-id', runId, '--output', 'json'],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
      const file = `${HISTORY_DIR}/${nameOf(recording)}.json`;
      await writeFile(file, shown.stdout);
      return { result, file };
    });
    if (state.result.outcome !== recording.outcome) {
      throw new Error(`recording ${recording.outcome} ended as ${state.result.outcome}: ${state.result.notes.join('; ')}`);
    }
    return state.file;
  } finally {
    await env.close();
  }
}

// Each part is stopped in `finally`, so that a failure at any step leaves nothing running (an open
// connection would also keep this script from exiting).
const only = process.argv.slice(2);
const server = await startDevServer({ headless: true });
try {
  const native = await NativeConnection.connect({ address: server.address });
  try {
    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: server.namespace });
      const bundle = await bundleWorkflows();
      for (const recording of RECORDINGS.filter((r) => only.length === 0 || only.includes(nameOf(r)))) {
        const file = await recordOne(server, recording, native, client, bundle);
        console.log(`recorded ${file}: outcome ${recording.outcome}`);
      }
    } finally {
      await connection.close();
    }
  } finally {
    await native.close();
  }
} finally {
  await server.stop();
}
