/**
 * Records the history of a full remediated incident (406 → approve → PR → merge → Argo sync →
 * verified) on a fresh dev server, for the replay test: `npm run record-history`. Re-record only when
 * a workflow change is deliberately incompatible; otherwise the replay test is what catches it.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { decide, openIncident } from '../control/incidents';
import type { IncidentState } from '../domain/incident';
import { createIncidentWorker } from '../worker/create-worker';
import { demoRunbook } from './local-stack';
import { startSimEnvironment, type SimEnvironment } from './sim-environment';
import { ensureTemporalCli, startDevServer, type DevServer } from './temporal-dev-server';

export const REMEDIATED_HISTORY = 'test/fixtures/histories/remediated-406.json';

/** Runs one incident to its end on `server` and writes its history. */
async function record(server: DevServer, env: SimEnvironment, native: NativeConnection, connection: Connection): Promise<void> {
  const client = new Client({ connection, namespace: server.namespace });
  const worker = await createIncidentWorker({ connection: native, namespace: server.namespace, taskQueue: 'record', activities: env.activities });
  const state = await worker.runUntil(async () => {
    const opened = await openIncident({ client, taskQueue: 'record' }, env.runbook, {
      source: 'alertmanager',
      alert: { alertname: 'TorghutWsNotReady', labels: { alertname: 'TorghutWsNotReady', namespace: 'torghut' } },
    });
    const handle = client.workflow.getHandle(opened.workflowId, opened.runId);
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        await decide(client, opened.workflowId, 'approve', { by: 'oncall-alice', comment: 'recorded run', runId: opened.runId, step: 'restart' });
        break;
      } catch {
        /* not waiting yet */
      }
    }
    const result = (await handle.result()) as IncidentState;
    // The Temporal CLI's JSON export is the format `Worker.runReplayHistory` reads back.
    const shown = spawnSync(
      ensureTemporalCli(),
      ['workflow', 'show', '--address', server.address, '--workflow-id', opened.workflowId, '--run-id', opened.runId, '--output', 'json'],
      { encoding: 'utf8' },
    );
    if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
    await writeFile(REMEDIATED_HISTORY, shown.stdout);
    return result;
  });
  console.log(`recorded ${REMEDIATED_HISTORY}: outcome ${state.outcome}`);
  if (state.outcome !== 'remediated') process.exitCode = 1;
}

// Each part is stopped in `finally`, so that a failure at any step leaves nothing running (an open
// connection would also keep this script from exiting).
const server = await startDevServer({ headless: true });
try {
  const env = await startSimEnvironment({ scenario: 'alpaca-406-two-replicas', adjustRunbook: demoRunbook });
  try {
    const native = await NativeConnection.connect({ address: server.address });
    try {
      const connection = await Connection.connect({ address: server.address });
      try {
        await record(server, env, native, connection);
      } finally {
        await connection.close();
      }
    } finally {
      await native.close();
    }
  } finally {
    await env.close();
  }
} finally {
  await server.stop();
}
