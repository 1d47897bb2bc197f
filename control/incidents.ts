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
import { redact, redactStringMap } from '../domain/redact';
import type { DecisionInput, DecisionRecord } from '../domain/decision';
import { incidentWorkflowId, type AlertInfo, type IncidentInput, type IncidentState, type IncidentTrigger } from '../domain/incident';
import type { RunbookConfig } from '../domain/runbook-config';
import { classKey, outcomeKey, targetKey } from '../domain/search-attributes';
import {
  alertFiredSignal,
  alertsFiredSignal,
  ALERTS_PER_SIGNAL,
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
 * Starts the incident of the runbook's target with the alert as its first `alertFired` signal (with
 * `also`, the other alerts of the same call: one `alertsFired` signal carrying them all), or
 * signals the one already open: one signal-with-start call (atomic, so no alert is lost between the
 * two), whose answer says whether it started the run — so concurrent first alerts of one target
 * are counted as one start and the rest as attaches. The start names the runbook by ID only.
 */
export async function openIncident(
  options: IncidentClientOptions,
  runbook: Pick<RunbookConfig, 'id' | 'target'>,
  trigger: IncidentTrigger,
  extra: { dryRun?: boolean; also?: AlertInfo[] } = {},
): Promise<OpenedIncident> {
  const { client } = options;
  const workflowId = incidentWorkflowId(runbook.target, { dryRun: extra.dryRun });
  // Whatever the alert carried, the incident keeps it bounded (a 900 KB annotation never reaches
  // Temporal) and redacted (a description quoting a log line never puts its secret in the history).
  const alert: AlertInfo = incidentAlert(trigger.alert ?? { labels: { source: trigger.source, ...(trigger.by ? { by: trigger.by } : {}) } });
  // Other alerts of the target delivered in the same call (other fingerprints): one `alertsFired` signal.
  const also = (extra.also ?? []).slice(0, ALERTS_PER_SIGNAL - 1).map(incidentAlert);
  const signal = also.length > 0 ? { name: alertsFiredSignal.name, args: [[alert, ...also]] } : { name: alertFiredSignal.name, args: [alert] };
  const input: IncidentInput = { runbookId: runbook.id, trigger: { ...trigger, ...(trigger.alert ? { alert } : {}) }, ...(extra.dryRun ? { dryRun: true } : {}) };
  const converter = client.options.loadedDataConverter;
  try {
    const response = await client.workflowService.signalWithStartWorkflowExecution({
      namespace: client.options.namespace,
      workflowId,
      workflowType: { name: INCIDENT_WORKFLOW_TYPE },
      taskQueue: { name: options.taskQueue },
      input: { payloads: await encodeToPayloads(converter, input) },
      signalName: signal.name,
      signalInput: { payloads: await encodeToPayloads(converter, ...signal.args) },
      identity: client.options.identity,
      requestId: randomUUID(),
      workflowIdConflictPolicy: CONFLICT_USE_EXISTING,
      workflowIdReusePolicy: REUSE_ALLOW_DUPLICATE,
      // What the Temporal UI lists the incident as; applied only when this call starts the run.
      userMetadata: {
        summary: (await encodeToPayloads(converter, staticSummary(runbook, input.trigger, extra.dryRun)))?.[0] ?? null,
        details: (await encodeToPayloads(converter, STATIC_DETAILS))?.[0] ?? null,
      },
    });
    return { workflowId, runId: response.runId ?? '', attached: response.started !== true };
  } catch (err) {
    if (isGrpcServiceError(err)) throw new ServiceError(`signal-with-start of ${workflowId} failed: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * The incident's one-line title in the Temporal UI (a start's static summary): the target and what
 * started it. The class is not known at the start: the workflow's current details carry it.
 */
export function staticSummary(runbook: Pick<RunbookConfig, 'id' | 'target'>, trigger: IncidentTrigger, dryRun?: boolean): string {
  const cause = trigger.alert?.alertname ?? trigger.alert?.labels.alertname ?? (trigger.by ? `started by ${trigger.by}` : `started from ${trigger.source}`);
  return `${dryRun ? 'Dry run: ' : ''}${runbook.target.namespace}/${runbook.target.deployment} — ${cause} (runbook ${runbook.id})`.slice(0, 200);
}

const STATIC_DETAILS =
  'AgentRuns incident: read-only diagnosis, classification, a human decision, then a GitOps restart and verification. ' +
  'The current details show the phase, the class and its evidence, and how to approve or reject from this page; ' +
  'each event in the history is summarised as the runbook step it is.';

/**
 * An alert as it may enter Temporal: only the known fields, each bounded ({@link boundAlert}), and
 * every label, annotation and field value redacted — the start input and the signals are stored in
 * the workflow history for its whole retention, and alert text is written by whoever can reach the
 * ingress or Alertmanager.
 */
export function incidentAlert(raw: unknown): AlertInfo {
  const bounded = boundAlert(raw);
  const alert: AlertInfo = { labels: redactStringMap(bounded.labels) };
  if (bounded.annotations) alert.annotations = redactStringMap(bounded.annotations);
  for (const field of ['alertname', 'fingerprint', 'startsAt', 'generatorURL'] as const) {
    const value = bounded[field];
    if (value !== undefined) alert[field] = redact(value);
  }
  if (bounded.repeats) alert.repeats = bounded.repeats;
  return alert;
}

/** Signals `alertResolved` to the open incident of the target; false when none is open. */
export async function resolveIncidentAlert(options: IncidentClientOptions, runbook: Pick<RunbookConfig, 'target'>, alert: AlertInfo): Promise<boolean> {
  const workflowId = incidentWorkflowId(runbook.target);
  try {
    await options.client.workflow.getHandle(workflowId).signal(alertResolvedSignal, incidentAlert(alert));
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
