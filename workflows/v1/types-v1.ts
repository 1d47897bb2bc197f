/**
 * FROZEN (workflow v1, see incident-v1.ts). The incident's contract as v1 knew it: workflow input, the state the `status` query returns, outcomes, and the
 * pure rules of who may decide. Imported by the workflow, the ingress and the CLI alike.
 */
import type { Classification } from '../../domain/classification';
import type { Diagnosis } from './diagnosis-v1';
import type { RunbookConfig } from '../../domain/runbook-config';

export const OUTCOMES = [
  'healthy-no-action',
  'rejected',
  'expired',
  'remediated',
  'verification-failed',
  'needs-human',
  'failed',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type Phase =
  | 'diagnosing'
  | 'awaiting-approval'
  | 'opening-pr'
  | 'awaiting-merge'
  | 'syncing'
  | 'verifying'
  | 'awaiting-rollback-approval'
  | 'rolling-back'
  | 'closed';

export interface AlertInfo {
  alertname?: string;
  fingerprint?: string;
  startsAt?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  generatorURL?: string;
}

export interface IncidentTrigger {
  source: 'alertmanager' | 'cli' | 'demo';
  /** Who started it by hand (CLI), when not an alert. */
  by?: string;
  alert?: AlertInfo;
}

export interface IncidentInputV1 {
  /** The validated runbook config, frozen into history at start so replay never depends on files. */
  runbook: RunbookConfig;
  trigger: IncidentTrigger;
  /** Do everything but write: no PR, no merge, no sync, no restart. */
  dryRun?: boolean;
  /** Base URL of the Temporal Web UI, for links in PRs and Slack messages. */
  temporalUiUrl?: string;
}

/** A decision sent by a human, through any channel. */
export interface DecisionInput {
  by: string;
  comment?: string;
  /**
   * Procedures B and C: the approver confirms the human prerequisite is done (credentials rotated
   * through SealedSecrets / Kafka auth or ACL fixed). Without it a restart is refused.
   */
  prerequisiteConfirmed?: boolean;
  /** Ask for the emergency direct restart instead of the GitOps PR (only when the runbook enables it). */
  emergency?: boolean;
  /** Where the decision came from, for the audit trail. */
  channel?: DecisionChannel;
  /**
   * The step this decision is meant for. When given it must match the step the incident waits at,
   * so a stale button (or a late command) for the restart can never approve a rollback.
   */
  step?: DecisionStep;
}

export type DecisionStep = 'restart' | 'rollback';
export const DECISION_CHANNELS = ['temporal-signal', 'update', 'cli', 'slack'] as const;

export type DecisionChannel = (typeof DECISION_CHANNELS)[number];

export interface DecisionRecord {
  decision: 'approve' | 'reject';
  by: string;
  comment?: string;
  prerequisiteConfirmed: boolean;
  emergency: boolean;
  channel: DecisionChannel;
  at: string;
}

export interface RefusalRecord {
  by: string;
  decision: 'approve' | 'reject';
  channel: DecisionChannel;
  reason: string;
  at: string;
}

export interface AlertEvent {
  status: 'firing' | 'resolved';
  at: string;
  alert: AlertInfo;
}

export interface PullRequestRecord {
  number: number;
  url: string;
  branch: string;
  headSha?: string;
  merged: boolean;
  mergedAt?: string;
  mergeSha?: string;
  /** True when dry-run computed the change but wrote nothing. */
  dryRun?: boolean;
  /** The patched manifest diff summary (what changed). */
  changes: string[];
}

export interface VerificationRecord {
  ok: boolean;
  checkedAt: string;
  detail: string;
  /** The new diagnosis' class when verification failed. */
  rediagnosedClass?: string;
}

export interface PhaseTiming {
  startedAt: string;
  endedAt?: string;
  ms?: number;
}

export interface IncidentState {
  workflowId: string;
  /** This incident's run: every incident of a target shares the workflow ID, never the run ID. */
  runId: string;
  runbookId: string;
  target: { namespace: string; deployment: string };
  phase: Phase;
  outcome: Outcome | null;
  startedAt: string;
  closedAt?: string;
  trigger: IncidentTrigger;
  dryRun: boolean;
  alerts: AlertEvent[];
  resolvedAt?: string;
  diagnosis: Diagnosis | null;
  classification: Classification | null;
  /** What the approver is asked to confirm before approving, if anything. */
  prerequisite: string | null;
  decision: DecisionRecord | null;
  refusals: RefusalRecord[];
  pullRequest: PullRequestRecord | null;
  argoSync: {
    application: string;
    status: string;
    health: string;
    operation?: string;
    revision?: string;
    operationStartedAt?: string;
    /** True when an operation already running (e.g. auto-sync) was waited for instead of a new sync. */
    adopted?: boolean;
    at: string;
  } | null;
  verification: VerificationRecord | null;
  rollback: { offered: boolean; decision?: DecisionRecord; pullRequest?: PullRequestRecord } | null;
  timings: Record<string, PhaseTiming>;
  /** The Slack message that mirrors this incident, when the runbook has a channel. */
  slack?: { channel: string; ts: string } | null;
  notes: string[];
  error?: string;
}

/** The state of an incident as it opens: diagnosing, nothing decided, nothing written. */
export function openingState(opening: {
  workflowId: string;
  runId: string;
  runbook: { id: string; target: { namespace: string; deployment: string } };
  trigger: IncidentTrigger;
  dryRun?: boolean;
  startedAt: string;
}): IncidentState {
  return {
    workflowId: opening.workflowId,
    runId: opening.runId,
    runbookId: opening.runbook.id,
    target: { namespace: opening.runbook.target.namespace, deployment: opening.runbook.target.deployment },
    phase: 'diagnosing',
    outcome: null,
    startedAt: opening.startedAt,
    trigger: opening.trigger,
    dryRun: opening.dryRun === true,
    // Alerts arrive as alertFired signals (signal-with-start), so the first one is not counted twice.
    alerts: [],
    diagnosis: null,
    classification: null,
    prerequisite: null,
    decision: null,
    refusals: [],
    pullRequest: null,
    argoSync: null,
    verification: null,
    rollback: null,
    timings: {},
    slack: null,
    notes: [],
  };
}
