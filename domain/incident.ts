/**
 * The incident's contract: what a start carries, the state the `status` query returns, outcomes,
 * and the decisions people send. Imported by the workflow, the ingress and the CLI alike.
 *
 * Trust: a start names a runbook by ID only; the worker resolves the runbook from the config it
 * loaded. A decision carries who it is for and which run and step it is meant for; the channel it
 * came through and the caller's identity are established by the worker, never taken from the sender.
 */
import type { ArgoOwnership } from './argo-ownership';
import type { Classification } from './classification';
import type { DecisionRecord, RefusalRecord } from './decision';
import type { Diagnosis } from './diagnosis';
import type { PrerequisiteEvidence } from './prerequisite-evidence';
import type { RunbookConfig } from './runbook-config';

export const OUTCOMES = [
  'healthy-no-action',
  'rejected',
  'expired',
  'remediated',
  'verification-failed',
  'needs-human',
  'failed',
  /** The start was not one this worker accepts (unknown runbook, inline config, foreign ID): nothing was read or written. */
  'refused',
  /** Ready again by the time the restart was about to happen: nothing was restarted. */
  'recovered-before-action',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type Phase =
  | 'resolving'
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
  /**
   * How many deliveries of this alert the signal stands for (the ingress coalesces Alertmanager's
   * re-sends of one alert that arrive while a call for the target is in flight); absent: one.
   */
  repeats?: number;
}

/** An alert's identity across Alertmanager's re-sends: its fingerprint, else its labels. */
export function alertKey(alert: AlertInfo): string {
  if (alert.fingerprint) return `fp:${alert.fingerprint}`;
  return `labels:${JSON.stringify(Object.entries(alert.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
}

export interface IncidentTrigger {
  source: 'alertmanager' | 'cli' | 'demo';
  /** Who started it by hand (CLI), when not an alert. */
  by?: string;
  alert?: AlertInfo;
  /**
   * Set on an incident opened from a closed one that was holding its alert's re-sends (the run it
   * continues): why this alert is a new incident rather than one more re-send.
   */
  reopened?: string;
}

/**
 * What a start carries, and all it may carry: the runbook by ID and what triggered it. Anything
 * else (an inline runbook, a UI link) makes the worker refuse the start.
 */
export interface IncidentInput {
  runbookId: string;
  trigger: IncidentTrigger;
  /** Do everything but write: no PR, no merge, no sync, no restart. */
  dryRun?: boolean;
}
export const INCIDENT_INPUT_KEYS: readonly string[] = ['runbookId', 'trigger', 'dryRun'];

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
  /** Closed without being merged. */
  closed?: boolean;
  /** True when dry-run computed the change but wrote nothing. */
  dryRun?: boolean;
  /** The patched manifest diff summary (what changed). */
  changes: string[];
}

export interface VerificationRecord {
  ok: boolean;
  checkedAt: string;
  detail: string;
  /**
   * Whether the restart reached the cluster: false when the Deployment never carried our
   * restartedAt (nothing restarted: no rollback to offer); absent when that could not be read.
   */
  restarted?: boolean;
  /** Checks that could not be made (e.g. the readiness probe, refused by the API server), each with why. */
  unchecked?: string[];
  /** The new diagnosis' class when verification failed. */
  rediagnosedClass?: string;
  /**
   * The runbook's checks after the rollout and readiness, each with its evidence: the new pods
   * staying Ready without restarts (`stability`), its PromQL status check (`status`).
   */
  checks?: RecoveryCheck[];
  /** Which check failed, when one did: `rollout` (rollout or readiness), `stability` or `status`. */
  failedCheck?: 'rollout' | 'stability' | 'status';
}

export interface RecoveryCheck {
  name: 'stability' | 'status';
  /** passed, failed, or could not be made (no Prometheus configured). */
  result: 'passed' | 'failed' | 'unchecked';
  /** What was watched or asked: "Ready without restarts for 2 minutes", the PromQL expression. */
  what: string;
  detail: string;
  checkedAt: string;
}

export interface PhaseTiming {
  startedAt: string;
  endedAt?: string;
  ms?: number;
}

/** What a pre-flight found right before acting: the present, not the alert of an hour ago. */
export interface PreflightRecord {
  /** Before which action it ran. */
  before: 'pull-request' | 'sync';
  at: string;
  /** Readiness answered 200 on every current pod. */
  ready: boolean;
  replicas: number | null;
  /** The live pod-template restartedAt annotation. */
  restartedAt: string | null;
  /** What it concluded, in a sentence. */
  finding: string;
}

/** The restart this incident caused: asked for when, and when it really reached the cluster. */
export interface RestartRecord {
  how: 'gitops' | 'emergency';
  /** The restartedAt value written (the GitOps change or the API patch). */
  restartedAt: string;
  /** When the change really took effect: merge (no Argo sync), Argo sync, or the API patch. */
  happenedAt?: string;
}

export interface IncidentState {
  workflowId: string;
  /** This incident's run: every incident of a target shares the workflow ID, never the run ID. */
  runId: string;
  /** The runbook the start named (resolved by the worker; unknown IDs are refused). */
  runbookId: string;
  /** Null until the runbook is resolved (and for a refused start). */
  target: { namespace: string; deployment: string } | null;
  phase: Phase;
  outcome: Outcome | null;
  startedAt: string;
  closedAt?: string;
  trigger: IncidentTrigger;
  dryRun: boolean;
  /** The most recent alert events (bounded); `alertCounts` counts them all. */
  alerts: AlertEvent[];
  alertCounts: { firing: number; resolved: number };
  resolvedAt?: string;
  diagnosis: Diagnosis | null;
  classification: Classification | null;
  /** What the approver is asked to confirm before approving, if anything. */
  prerequisite: string | null;
  /** Evidence for that prerequisite (procedures B and C), gathered before asking; absent otherwise. */
  prerequisiteEvidence?: PrerequisiteEvidence;
  decision: DecisionRecord | null;
  refusals: RefusalRecord[];
  /** Refusals not kept in `refusals` (beyond its cap): counted, never silently dropped. */
  refusalsDropped: number;
  preflights: PreflightRecord[];
  /** Whether Argo CD applies the file the restart PR changes, checked before the PR (absent: not reached, or an older incident). */
  argoOwnership?: ArgoOwnership;
  restart: RestartRecord | null;
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
  rollback: {
    offered: boolean;
    decision?: DecisionRecord;
    pullRequest?: PullRequestRecord;
    /** What became of the revert PR: merged and verified, or closed when the incident ended. */
    result?: string;
  } | null;
  timings: Record<string, PhaseTiming>;
  /** The Slack message that mirrors this incident, when the runbook has a channel. */
  slack?: { channel: string; ts: string } | null;
  /**
   * After a close that changed nothing (needs-human, healthy-no-action), the run stays to hold
   * Alertmanager's re-sends of the same alert (counted here, one Slack reply) until `until`, the
   * alert resolving, or a change (workflows/incident/hold.ts).
   */
  resends?: ResendHold;
  /** Where the incident report was posted at close (a PR comment, a Slack thread reply). */
  report?: { comment: { id: number; url: string } | null; slackReply: { channel: string; ts: string } | null };
  notes: string[];
  /** Notes not kept (beyond the cap). */
  notesDropped: number;
  error?: string;
}

export interface ResendHold {
  until: string;
  /** Deliveries of the incident's alerts after the close, attached here instead of opening incidents. */
  count: number;
  lastAt?: string;
  /** The Slack thread reply that says so (posted at the first re-send). */
  reply?: { channel: string; ts: string } | null;
  /** How the hold ended: the window passed, the alert resolved, or a new incident opened. */
  ended?: { at: string; why: 'window' | 'resolved' | 'new-incident'; detail?: string };
}

/** The Kubernetes object an incident remediates; one open incident per target, whatever the runbook. */
export interface IncidentTarget {
  namespace: string;
  deployment: string;
}

/**
 * The workflow ID of the one open incident of a target (namespace and Deployment): two runbooks that
 * name one Deployment share it, so they can never remediate it at once. Dry runs get their own ID,
 * so a rehearsal never absorbs (or is absorbed by) a real incident's alerts.
 */
export function incidentWorkflowId(target: IncidentTarget, options: { dryRun?: boolean } = {}): string {
  return `agentruns-${target.deployment}-${target.namespace}${options.dryRun ? '-dry-run' : ''}`;
}

/** The workflow ID of the incident of a runbook's target. */
export function runbookWorkflowId(runbook: Pick<RunbookConfig, 'target'>, options: { dryRun?: boolean } = {}): string {
  return incidentWorkflowId(runbook.target, options);
}

export function isApprover(config: Pick<RunbookConfig, 'approvers'>, who: string): boolean {
  return config.approvers.some((a) => a.id === who);
}

/** The state of an incident as it opens: nothing resolved, nothing decided, nothing written. */
export function openingState(opening: {
  workflowId: string;
  runId: string;
  runbookId: string;
  trigger: IncidentTrigger;
  dryRun?: boolean;
  startedAt: string;
}): IncidentState {
  return {
    workflowId: opening.workflowId,
    runId: opening.runId,
    runbookId: opening.runbookId,
    target: null,
    phase: 'resolving',
    outcome: null,
    startedAt: opening.startedAt,
    trigger: opening.trigger,
    dryRun: opening.dryRun === true,
    // Alerts arrive as alertFired signals (signal-with-start), so the first one is not counted twice.
    alerts: [],
    alertCounts: { firing: 0, resolved: 0 },
    diagnosis: null,
    classification: null,
    prerequisite: null,
    decision: null,
    refusals: [],
    refusalsDropped: 0,
    preflights: [],
    restart: null,
    pullRequest: null,
    argoSync: null,
    verification: null,
    rollback: null,
    timings: {},
    slack: null,
    notes: [],
    notesDropped: 0,
  };
}
