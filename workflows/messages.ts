/**
 * Messages of the incident workflow, importable by the ingress and CLI without loading the workflow.
 * Signals are what the Temporal Web UI and `temporal workflow signal` can send; the `decide` Update
 * gives programmatic callers (Slack, CLI) an immediate refusal through its validator.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AlertInfo, DecisionInput, DecisionRecord, IncidentState } from '../domain/incident';

export const statusQuery = defineQuery<IncidentState>('status');
export const approveSignal = defineSignal<[DecisionInput]>('approve');
export const rejectSignal = defineSignal<[DecisionInput]>('reject');
export const alertFiredSignal = defineSignal<[AlertInfo]>('alertFired');
export const alertResolvedSignal = defineSignal<[AlertInfo]>('alertResolved');

export interface DecideInput extends DecisionInput {
  decision: 'approve' | 'reject';
}
export const decideUpdate = defineUpdate<DecisionRecord, [DecideInput]>('decide');

export const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';
export const TASK_QUEUE_DEFAULT = 'agentruns';
