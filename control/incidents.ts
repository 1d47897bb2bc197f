/**
 * Client-side operations on incidents, shared by the ingress, the CLI and the demo: open (or attach
 * to) the incident of a target, resolve alerts, decide, read status, list. All of them go through
 * Temporal; none touches the cluster.
 */
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { incidentWorkflowId, type AlertInfo, type DecisionInput, type DecisionRecord, type IncidentInput, type IncidentState } from '../domain/incident';
import type { RunbookConfig } from '../domain/runbook-config';
import { classKey, outcomeKey, runbookKey, targetKey } from '../domain/search-attributes';
import {
  alertFiredSignal,
  alertResolvedSignal,
  decideUpdate,
  decisionRefusedSignal,
  INCIDENT_WORKFLOW_TYPE,
  statusQuery,
  type RefusalInput,
} from '../workflows/messages';

export interface IncidentClientOptions {
  client: Client;
  taskQueue: string;
  temporalUiUrl?: string;
}

export interface OpenedIncident {
  workflowId: string;
  runId: string;
  /** True when an open incident for the target already existed and this alert was attached to it. */
  attached: boolean;
}

async function runningRunId(client: Client, workflowId: string): Promise<string | null> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING' ? description.runId : null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * Starts the incident of the runbook's target with the alert as its first `alertFired` signal, or
 * signals the one already open (signal-with-start: atomic, so no alert is lost between the two).
 */
export async function openIncident(
  options: IncidentClientOptions,
  runbook: RunbookConfig,
  trigger: IncidentInput['trigger'],
  extra: { dryRun?: boolean } = {},
): Promise<OpenedIncident> {
  const workflowId = incidentWorkflowId(runbook, { dryRun: extra.dryRun });
  const before = await runningRunId(options.client, workflowId);
  const input: IncidentInput = { runbook, trigger, dryRun: extra.dryRun, temporalUiUrl: options.temporalUiUrl };
  const alert: AlertInfo = trigger.alert ?? { labels: { source: trigger.source, ...(trigger.by ? { by: trigger.by } : {}) } };
  const handle = await options.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: options.taskQueue,
    args: [input],
    signal: alertFiredSignal,
    signalArgs: [alert],
    typedSearchAttributes: [
      { key: runbookKey, value: runbook.id },
      { key: targetKey, value: `${runbook.target.namespace}/${runbook.target.deployment}` },
    ],
  });
  return { workflowId, runId: handle.signaledRunId, attached: before !== null && before === handle.signaledRunId };
}

/** Signals `alertResolved` to the open incident of the target; false when none is open. */
export async function resolveIncidentAlert(options: IncidentClientOptions, runbook: RunbookConfig, alert: AlertInfo): Promise<boolean> {
  const workflowId = incidentWorkflowId(runbook);
  if ((await runningRunId(options.client, workflowId)) === null) return false;
  await options.client.workflow.getHandle(workflowId).signal(alertResolvedSignal, alert);
  return true;
}

export class DecisionRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecisionRefusedError';
  }
}

/** Records a refused decision in the incident's audit trail (`refusals`); best effort. */
export async function recordRefusal(client: Client, workflowId: string, refusal: RefusalInput): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowId).signal(decisionRefusedSignal, refusal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends a decision through the `decide` Update: a refusal comes back at once as DecisionRefusedError
 * (and is recorded in the incident's `refusals`, since a rejected Update leaves no trace in history).
 */
export async function decide(
  client: Client,
  workflowId: string,
  decision: 'approve' | 'reject',
  input: DecisionInput,
  /** Pin the decision to one incident run (a Slack message's); a closed run refuses it. */
  runId?: string,
): Promise<DecisionRecord> {
  try {
    return await client.workflow.getHandle(workflowId, runId).executeUpdate(decideUpdate, { args: [{ ...input, decision }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = err.cause?.message ?? err.message;
      await recordRefusal(client, workflowId, { by: input.by, decision, channel: input.channel ?? 'update', reason });
      throw new DecisionRefusedError(reason);
    }
    if (err instanceof WorkflowNotFoundError || isAlreadyCompleted(err)) {
      const closed = isAlreadyCompleted(err) ? ': it has already closed' : '';
      throw new DecisionRefusedError(`no open incident ${workflowId}${runId ? ` (run ${runId})` : ''}${closed}`);
    }
    throw err;
  }
}

function isAlreadyCompleted(err: unknown): boolean {
  return err instanceof Error && /already completed|workflow execution.*(completed|closed)/i.test(err.message);
}

export async function incidentStatus(client: Client, workflowId: string): Promise<IncidentState> {
  const handle: WorkflowHandle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  if (description.status.name === 'RUNNING') return handle.query(statusQuery);
  if (description.status.name === 'COMPLETED') return (await handle.result()) as IncidentState;
  throw new Error(`incident ${workflowId} ended as ${description.status.name}`);
}

export interface IncidentSummary {
  workflowId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime?: string;
  target?: string;
  class?: string;
  outcome?: string;
}

/** Open and recent incidents, newest first, from the visibility store (search attributes). */
export async function listIncidents(client: Client, opts: { runbookId?: string; limit?: number } = {}): Promise<IncidentSummary[]> {
  const query = [`WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`];
  if (opts.runbookId) query.push(`AgentRunsRunbook = '${opts.runbookId.replace(/'/g, '')}'`);
  const out: IncidentSummary[] = [];
  for await (const wf of client.workflow.list({ query: query.join(' AND ') })) {
    const attrs = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      status: wf.status.name,
      startTime: wf.startTime.toISOString(),
      closeTime: wf.closeTime?.toISOString(),
      target: attrs.get(targetKey),
      class: attrs.get(classKey),
      outcome: attrs.get(outcomeKey),
    });
    if (out.length >= (opts.limit ?? 20)) break;
  }
  return out;
}
