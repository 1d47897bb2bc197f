/**
 * Decisions: what a person sends to approve or reject a step, and what the incident records of it.
 * The channel and the caller identity are established by the worker from the path the decision took
 * (signal or Update, with or without the ingress's Slack proof), never read from the sender's fields.
 */

/** The step a decision is for: the restart, or the rollback offered after a failed verification. */
export type DecisionStep = 'restart' | 'rollback';
export const DECISION_STEPS: readonly DecisionStep[] = ['restart', 'rollback'];

/**
 * Channels a decision can take, set by its path: `temporal` — an `approve`/`reject` signal (Temporal
 * Web UI, `temporal workflow signal`); `cli` — the `decide` Update (the agentruns CLI, or any
 * Temporal client); `slack` — the `decide` Update carrying proof that only the ingress can make.
 */
export const DECISION_CHANNELS = ['temporal', 'slack', 'cli'] as const;
export type DecisionChannel = (typeof DECISION_CHANNELS)[number];

/** Proof that a decision came through the ingress from a verified Slack click (HMAC, see decision-proof.ts). */
export interface SlackDecisionProof {
  /** The Slack member who clicked. */
  user: string;
  /** When the ingress vouched for the click (ISO time); proofs older than a few minutes are refused. */
  issuedAt: string;
  /** hex HMAC-SHA256 over the decision's fields, with a key only the ingress and the worker hold. */
  signature: string;
}

/** A decision sent by a human, through any channel. */
export interface DecisionInput {
  /** The approver (an `approvers[].id` of the runbook). */
  by: string;
  /** The incident run this decision is for: a decision for another run is refused. */
  runId: string;
  /** The step this decision is for: a restart approval can never approve a rollback. */
  step: DecisionStep;
  comment?: string;
  /**
   * Procedures B and C: the approver confirms the human prerequisite is done (credentials rotated
   * through SealedSecrets / Kafka auth, ACL or producer fixed). Without it a restart is refused.
   */
  prerequisiteConfirmed?: boolean;
  /** Ask for the emergency direct restart instead of the GitOps PR (only when the runbook enables it). */
  emergency?: boolean;
  /** Restart even when the pre-flight finds the service Ready again. */
  restartAnyway?: boolean;
  /** Only on the Slack path: the ingress's proof of the verified click. */
  slack?: SlackDecisionProof;
}

export interface DecisionRecord {
  decision: 'approve' | 'reject';
  by: string;
  step: DecisionStep;
  comment?: string;
  prerequisiteConfirmed: boolean;
  emergency: boolean;
  restartAnyway: boolean;
  /** The path the decision took (never what the sender claimed). */
  channel: DecisionChannel;
  /** The caller identity Temporal recorded for the signal or Update (null when unreadable). */
  identity: string | null;
  /** The Slack member who clicked, for a verified Slack decision. */
  slackUser?: string;
  at: string;
}

export interface RefusalRecord {
  by: string;
  decision: 'approve' | 'reject';
  /** The path the attempt took; `reported` = a refusal the ingress or CLI reported (unverified). */
  channel: DecisionChannel | 'reported';
  identity?: string | null;
  reason: string;
  at: string;
}

