/**
 * FROZEN (workflow v1, see incident-v1.ts). Messages of the incident workflow, importable by the ingress and CLI without loading the workflow.
 * Signals are what the Temporal Web UI and `temporal workflow signal` can send; the `decide` Update
 * gives programmatic callers (Slack, CLI) an immediate refusal through its validator.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AlertInfo, DecisionChannel, DecisionInput, DecisionRecord, IncidentState } from './types-v1';

export const statusQuery = defineQuery<IncidentState>('status');
export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
export const alertFiredSignal = defineSignal<[AlertInfo]>('alertFired');
export const alertResolvedSignal = defineSignal<[AlertInfo]>('alertResolved');

/**
 * A decision refused before it reached the workflow (the `decide` Update's validator, or the Slack
 * ingress for a user who is no approver): sent afterwards so the refusal is in the incident's audit
 * trail. It only records; it can never approve anything.
 */
export const decisionRefusedSignal = defineSignal<[RefusalInput]>('decisionRefused');
export interface RefusalInput {
  by: string;
  decision: 'approve' | 'reject';
  channel: DecisionChannel;
  reason: string;
}

export interface DecideInput extends DecisionInput {
  decision: 'approve' | 'reject';
}
export const decideUpdate = defineUpdate<DecisionRecord, [DecideInput]>('decide');

export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';
export const TASK_QUEUE_DEFAULT = 'agentruns';
