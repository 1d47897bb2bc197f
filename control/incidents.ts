/**
 * Client-side operations on incidents, shared by the ingress, the CLI and the demo: open (or attach
 * to) the incident of a target, resolve alerts, decide, read status, list. All of them go through
 * Temporal; none touches the cluster.
 */
import { randomUUID } from 'node:crypto';
import { isGrpcServiceError, ServiceError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
// The file itself: the built CLI runs on Node's own resolver, which imports no directory.
import { encodeToPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { boundAlert } from '../domain/bounds';
import type { DecisionInput, DecisionRecord } from '../domain/decision';
import { incidentWorkflowId, type AlertInfo, type IncidentInput, type IncidentState, type IncidentTrigger } from '../domain/incident';
import type { RunbookConfig } from '../domain/runbook-config';
import { classKey, outcomeKey, targetKey } from '../domain/search-attributes';
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
}

export interface OpenedIncident {
  workflowId: string;
  runId: string;
  /** True when an open incident for the target already existed and this alert was attached to it. */
  attached: boolean;
}

// Enum values of temporal.api.enums.v1 (WorkflowIdConflictPolicy, WorkflowIdReusePolicy).
const CONFLICT_USE_EXISTING = 2;
const REUSE_ALLOW_DUPLICATE = 1;

/**
 * Starts the incident of the runbook's target with the alert as its first `alertFired` signal, or
 * signals the one already open: one signal-with-start call (atomic, so no alert is lost between the
 * two), whose answer says whether it started the run — so concurrent first alerts of one target
 * are counted as one start and the rest as attaches. The start names the runbook by ID only.
 */
export async function openIncident(
  options: IncidentClientOptions,
  runbook: Pick<RunbookConfig, 'id' | 'target'>,
  trigger: IncidentTrigger,
  extra: { dryRun?: boolean } = {},
): Promise<OpenedIncident> {
  const { client } = options;
  const workflowId = incidentWorkflowId(runbook.target, { dryRun: extra.dryRun });
  // Whatever the alert carried, the incident keeps it bounded (a 900 KB annotation never reaches Temporal).
  const alert: AlertInfo = boundAlert(trigger.alert ?? { labels: { source: trigger.source, ...(trigger.by ? { by: trigger.by } : {}) } });
  const input: IncidentInput = { runbookId: runbook.id, trigger: { ...trigger, ...(trigger.alert ? { alert } : {}) }, ...(extra.dryRun ? { dryRun: true } : {}) };
  const converter = client.options.loadedDataConverter;
  try {
    const response = await client.workflowService.signalWithStartWorkflowExecution({
      namespace: client.options.namespace,
      workflowId,
      workflowType: { name: INCIDENT_WORKFLOW_TYPE },
      taskQueue: { name: options.taskQueue },
      input: { payloads: await encodeToPayloads(converter, input) },
      signalName: alertFiredSignal.name,
      signalInput: { payloads: await encodeToPayloads(converter, alert) },
      identity: client.options.identity,
      requestId: randomUUID(),
      workflowIdConflictPolicy: CONFLICT_USE_EXISTING,
      workflowIdReusePolicy: REUSE_ALLOW_DUPLICATE,
    });
    return { workflowId, runId: response.runId ?? '', attached: response.started !== true };
  } catch (err) {
    if (isGrpcServiceError(err)) throw new ServiceError(`signal-with-start of ${workflowId} failed: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Signals `alertResolved` to the open incident of the target; false when none is open. */
export async function resolveIncidentAlert(options: IncidentClientOptions, runbook: Pick<RunbookConfig, 'target'>, alert: AlertInfo): Promise<boolean> {
  const workflowId = incidentWorkflowId(runbook.target);
  try {
    await options.client.workflow.getHandle(workflowId).signal(alertResolvedSignal, boundAlert(alert));
    return true;
  } catch (err) {
    // No open incident (never opened, or already closed): nothing to tell.
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
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
 * Sends a decision through the `decide` Update, to the run it names (`input.runId`): a refusal comes
 * back at once as DecisionRefusedError (and is reported to the incident's `refusals`, since a
 * rejected Update leaves no trace in history); a run that has closed refuses it too.
 */
export async function decide(client: Client, workflowId: string, decision: 'approve' | 'reject', input: DecisionInput): Promise<DecisionRecord> {
  try {
    return await client.workflow.getHandle(workflowId, input.runId).executeUpdate(decideUpdate, { args: [{ ...input, decision }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = err.cause?.message ?? err.message;
      await recordRefusal(client, workflowId, { by: input.by, decision, channel: input.slack ? 'slack' : 'cli', reason });
      throw new DecisionRefusedError(reason);
    }
    if (isInvalidArgument(err)) throw new DecisionRefusedError(`${input.runId} is not a run of incident ${workflowId}`);
    if (err instanceof WorkflowNotFoundError || isAlreadyCompleted(err)) {
      const closed = isAlreadyCompleted(err) ? ': it has already closed' : '';
      throw new DecisionRefusedError(`no open incident ${workflowId} (run ${input.runId})${closed}`);
    }
    throw err;
  }
}

/** gRPC INVALID_ARGUMENT (code 3), e.g. a run ID that is not one. */
function isInvalidArgument(err: unknown): boolean {
  const cause = err instanceof Error ? err.cause : undefined;
  return isGrpcServiceError(cause) && Number(cause.code) === 3;
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
