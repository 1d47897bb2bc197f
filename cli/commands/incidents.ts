/**
 * The incident loop from a terminal: `start`, `approve`, `reject`, `status ID`, `list`. Decisions go
 * through the `decide` Update, so a refusal is printed at once with its reason (exit 1).
 */
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadRunbookConfig } from '../../config/load-runbook';
import { decide, DecisionRefusedError, incidentStatus, listIncidents, openIncident } from '../../control/incidents';
import { incidentWorkflowId, type IncidentState } from '../../domain/incident';
import { loadSettings, type Settings } from '../../runtime/settings';
import { temporalConnectionOptions } from '../../runtime/temporal-connection';
import { statusQuery } from '../../workflows/messages';
import { CliError, EXIT } from '../errors';
import { printJson } from '../io';
import { USAGE } from '../usage';

export const connectionOptions = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  'task-queue': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function connect(values: { address?: string; namespace?: string; 'task-queue'?: string }): Promise<{ client: Client; settings: Settings; close: () => Promise<void> }> {
  const settings = loadSettings({
    ...process.env,
    ...(values.address ? { TEMPORAL_ADDRESS: values.address } : {}),
    ...(values.namespace ? { TEMPORAL_NAMESPACE: values.namespace } : {}),
    ...(values['task-queue'] ? { TEMPORAL_TASK_QUEUE: values['task-queue'] } : {}),
  });
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: '5 seconds' });
  } catch (err) {
    throw new CliError(`cannot reach Temporal at ${settings.TEMPORAL_ADDRESS}: ${(err as Error).message}`, EXIT.failure);
  }
  // The identity Temporal records for every call of this CLI (decisions are audited with it).
  const identity = `agentruns-cli:${userInfo().username}@${hostname()}`;
  return { client: new Client({ connection, namespace: settings.TEMPORAL_NAMESPACE, identity }), settings, close: () => connection.close() };
}

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...connectionOptions, runbook: { type: 'string' }, by: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    strict: true,
  });
  const { client, settings, close } = await connect(values);
  try {
    const runbook = await loadRunbookConfig(values.runbook ?? settings.AGENTRUNS_RUNBOOK);
    const opened = await openIncident(
      { client, taskQueue: settings.TEMPORAL_TASK_QUEUE },
      runbook,
      { source: 'cli', by: values.by ?? process.env.USER ?? 'cli' },
      { dryRun: values['dry-run'] },
    );
    if (values.json) printJson(opened);
    else if (!opened.attached) console.log(`started incident ${opened.workflowId} (run ${opened.runId})`);
    else {
      // The run may have closed already and be holding its alert's re-sends: a start by hand then
      // opens a new incident, as a new run of the same ID.
      const held = await client.workflow.getHandle(opened.workflowId, opened.runId).query(statusQuery).then((s) => s.outcome, () => null);
      console.log(
        held
          ? `incident ${opened.workflowId} (run ${opened.runId}) had closed as ${held}: a new incident opens as a new run of it (agentruns status ${opened.workflowId})`
          : `attached to open incident ${opened.workflowId} (run ${opened.runId})`,
      );
    }
    return EXIT.ok;
  } finally {
    await close();
  }
}

/** Which run and step of an incident wait for a decision now, as a hint for the command line. */
async function whatWaits(client: Client, workflowId: string): Promise<string> {
  try {
    const state = await incidentStatus(client, workflowId);
    const step = state.phase === 'awaiting-approval' ? 'restart' : state.phase === 'awaiting-rollback-approval' ? 'rollback' : null;
    return step
      ? `incident ${workflowId} waits for a decision on the ${step} of run ${state.runId} (add --run ${state.runId} --step ${step})`
      : `incident ${workflowId} (run ${state.runId}) waits for no decision now (phase ${state.phase})`;
  } catch (err) {
    return `incident ${workflowId} could not be read (${(err as Error).message})`;
  }
}

export function decisionCommand(decision: 'approve' | 'reject') {
  return async (argv: string[]): Promise<number> => {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...connectionOptions,
        by: { type: 'string' },
        comment: { type: 'string' },
        run: { type: 'string' },
        step: { type: 'string' },
        'prerequisite-confirmed': { type: 'boolean', default: false },
        emergency: { type: 'boolean', default: false },
        'restart-anyway': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new CliError(`expected one incident ID\nusage: agentruns ${USAGE[decision]}`);
    if (!values.by) throw new CliError(`--by APPROVER is required\nusage: agentruns ${USAGE[decision]}`);
    if (values.step !== undefined && values.step !== 'restart' && values.step !== 'rollback') {
      throw new CliError(`--step must be restart or rollback, not ${values.step}`);
    }
    const workflowId = positionals[0]!;
    const { client, close } = await connect(values);
    try {
      if (!values.run || !values.step) {
        // A decision is pinned to one run and step: say which ones wait now, but never guess them.
        throw new CliError(`--run RUN_ID and --step restart|rollback are required: ${await whatWaits(client, workflowId)}`);
      }
      const record = await decide(client, workflowId, decision, {
        by: values.by,
        runId: values.run,
        step: values.step,
        ...(values.comment ? { comment: values.comment } : {}),
        prerequisiteConfirmed: values['prerequisite-confirmed'],
        emergency: values.emergency,
        restartAnyway: values['restart-anyway'],
      });
      if (values.json) printJson({ accepted: true, record });
      else console.log(`${decision} accepted for ${workflowId} by ${record.by} (${record.channel}, identity ${record.identity ?? 'unknown'})`);
      return EXIT.ok;
    } catch (err) {
      if (!(err instanceof DecisionRefusedError)) throw err;
      if (values.json) printJson({ accepted: false, reason: err.message });
      else console.error(`refused: ${err.message}`);
      return EXIT.failure;
    } finally {
      await close();
    }
  };
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...connectionOptions, runbook: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const { client, settings, close } = await connect(values);
  try {
    const id = positionals[0] ?? incidentWorkflowId((await loadRunbookConfig(values.runbook ?? settings.AGENTRUNS_RUNBOOK)).target);
    let state: IncidentState;
    try {
      state = await incidentStatus(client, id);
    } catch (err) {
      throw new CliError(`incident ${id}: ${(err as Error).message}`, EXIT.failure);
    }
    if (values.json) printJson(state);
    else process.stdout.write(renderStatus(state));
    return EXIT.ok;
  } finally {
    await close();
  }
}

export async function listCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...connectionOptions, 'runbook-id': { type: 'string' }, limit: { type: 'string' } },
    strict: true,
  });
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive integer');
  const { client, close } = await connect(values);
  try {
    const incidents = await listIncidents(client, { runbookId: values['runbook-id'], limit });
    if (values.json) printJson(incidents);
    else {
      if (incidents.length === 0) console.log('no incidents');
      for (const i of incidents) {
        console.log(`${i.startTime}  ${i.status.padEnd(10)} ${(i.outcome ?? '-').padEnd(20)} ${(i.class ?? '-').padEnd(30)} ${i.workflowId}`);
      }
    }
    return EXIT.ok;
  } finally {
    await close();
  }
}

function renderStatus(s: IncidentState): string {
  const lines = [
    `incident ${s.workflowId} run ${s.runId} (${s.runbookId}, ${s.target ? `${s.target.namespace}/${s.target.deployment}` : 'target unknown'})`,
    `phase:     ${s.phase}${s.outcome ? ` → ${s.outcome}` : ''}`,
    `class:     ${s.classification?.class ?? '-'} (procedure ${s.classification?.procedure ?? '-'})`,
    `action:    ${s.classification?.action ?? '-'}`,
  ];
  if (s.prerequisite) lines.push(`requires:  ${s.prerequisite}`);
  if (s.decision) {
    lines.push(`decision:  ${s.decision.decision} by ${s.decision.by} via ${s.decision.channel} (identity ${s.decision.identity ?? 'unknown'}) at ${s.decision.at}`);
  }
  for (const r of s.refusals) lines.push(`refused:   ${r.by} (${r.channel}): ${r.reason}`);
  if (s.refusalsDropped) lines.push(`refused:   … and ${s.refusalsDropped} more`);
  for (const p of s.preflights) lines.push(`preflight: before ${p.before}: ${p.finding}`);
  if (s.resolvedAt) lines.push(`alert:     resolved at ${s.resolvedAt}`);
  if (s.pullRequest) lines.push(`PR:        ${s.pullRequest.url || '(dry run)'} ${s.pullRequest.merged ? 'merged' : 'open'}`);
  if (s.argoSync) lines.push(`argo:      ${s.argoSync.application} ${s.argoSync.status}/${s.argoSync.health}`);
  if (s.verification) lines.push(`verified:  ${s.verification.ok ? 'yes' : 'no'} — ${s.verification.detail}`);
  for (const e of s.classification?.evidence.slice(0, 8) ?? []) lines.push(`evidence:  [${e.source}] ${e.text}`);
  for (const n of s.notes) lines.push(`note:      ${n}`);
  return `${lines.join('\n')}\n`;
}
