/**
 * Messages of the incident workflow, importable by the ingress and CLI without loading the workflow.
 * Signals are what the Temporal Web UI and `temporal workflow signal` can send; the `decide` Update
 * gives programmatic callers (Slack through the ingress, the CLI) an immediate refusal through its
 * validator. Every decision names the run and step it is for (`runId`, `step`).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionInput, DecisionRecord } from '../domain/decision';
import type { AlertInfo, IncidentState } from '../domain/incident';

export const statusQuery = defineQuery<IncidentState>('status');
export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
export const alertFiredSignal = defineSignal<[AlertInfo]>('alertFired');
/**
 * Several alerts of one target in one signal (the ingress' coalesced call for a target whose
 * alerts have different fingerprints), each with its own `repeats`; at most
 * {@link ALERTS_PER_SIGNAL} are read.
 */
export const alertsFiredSignal = defineSignal<[AlertInfo[]]>('alertsFired');
export const ALERTS_PER_SIGNAL = 100;
export const alertResolvedSignal = defineSignal<[AlertInfo]>('alertResolved');

/**
 * A decision refused before it reached the workflow (the `decide` Update's validator, or the Slack
 * ingress for a user who is no approver): sent afterwards so the attempt is in the incident's audit
 * trail, recorded as `reported` (its sender is not verified). It only records; it can never approve.
 */
export const decisionRefusedSignal = defineSignal<[RefusalInput]>('decisionRefused');
export interface RefusalInput {
  by: string;
  decision: 'approve' | 'reject';
  /** Where the reporter saw the attempt (e.g. `slack`, `cli`); kept as reported. */
  channel: string;
  reason: string;
}

export interface DecideInput extends DecisionInput {
  decision: 'approve' | 'reject';
}
export const decideUpdate = defineUpdate<DecisionRecord, [DecideInput]>('decide');

export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';
export const TASK_QUEUE_DEFAULT = 'agentruns';
