/**
 * Who may decide what, and when. Pure rules used by the workflow's decision intake: the quick checks
 * run before anything is looked up (the Update validator answers them at once), the identity check
 * once the worker has read the caller's identity from the history.
 */
import type { FailureClass, Procedure } from './classification';
import type { FailureKnowledge, ProcedureSpec, RestartPolicy } from './failure-knowledge';
import type { DecisionChannel, DecisionInput, DecisionStep } from './decision';
import type { Phase } from './incident';
import type { RunbookConfig } from './runbook-config';

export interface DecisionContext {
  phase: Phase;
  /** The incident run that waits: a decision must name it. */
  runId: string;
  classification: { class: FailureClass; procedure: Procedure | null } | null;
  runbook: Pick<RunbookConfig, 'id' | 'approvers' | 'emergency' | 'approval' | 'failures'>;
}

/** The procedure of a class, as the workflow routes on it: the engine's verdicts have none. */
export function procedureOf(knowledge: FailureKnowledge | undefined, cls: FailureClass): ProcedureSpec | null {
  if (cls === 'healthy') return null;
  return knowledge?.classes[cls]?.procedure ?? null;
}

type Classified = { class: FailureClass; procedure: Procedure | null } | null | undefined;

/**
 * Whether the classified failure may be restarted, from the runbook's failure knowledge. A runbook
 * snapshot taken before runbooks declared their failures (an incident in flight across the upgrade)
 * follows the rules of then: no procedure, no restart.
 */
export function restartPolicyOf(runbook: Pick<RunbookConfig, 'failures'>, classification: Classified): RestartPolicy {
  if (!classification) return 'forbidden';
  if (!runbook.failures) return classification.procedure === null ? 'forbidden' : classification.procedure === 'A' ? 'allowed' : 'needs-prerequisite';
  return procedureOf(runbook.failures, classification.class)?.restart ?? 'forbidden';
}

/**
 * The human step an approver must confirm before a restart, or null when none: the prerequisite
 * of the class's procedure in the runbook (torghut-ws: procedures B and C). A runbook snapshot
 * without failure knowledge follows the rules of then ({@link legacyPrerequisiteFor}).
 */
export function prerequisiteFor(runbook: Pick<RunbookConfig, 'failures'>, classification: Classified): string | null {
  if (!runbook.failures) return legacyPrerequisiteFor(classification?.class, classification?.procedure ?? null);
  const procedure = classification ? procedureOf(runbook.failures, classification.class) : null;
  return procedure?.restart === 'needs-prerequisite' ? (procedure.prerequisite ?? null) : null;
}

/** torghut-ws's prerequisites as they were written in TypeScript, for runbook snapshots without `failures`. */
export function legacyPrerequisiteFor(cls: FailureClass | null | undefined, procedure: Procedure | null): string | null {
  if (procedure === 'B') return 'the Alpaca credentials were rotated through SealedSecrets (sealed-secrets.yaml) and synced by Argo CD';
  if (procedure !== 'C') return null;
  switch (cls) {
    case 'kafka_metadata':
      return 'the Kafka metadata failure was fixed (KAFKA_BOOTSTRAP correct, brokers reachable, topics exist)';
    case 'kafka_produce':
      return 'the Kafka produce failure was fixed (brokers and in-sync replicas healthy, topic and record-size limits right)';
    default:
      return 'the Kafka auth/ACL was fixed (KafkaUser Ready with its Secret, ACLs granted, KAFKA_BOOTSTRAP correct)';
  }
}

/** The step the incident waits for in this phase, or null when it waits for none. */
export function stepOf(phase: Phase): DecisionStep | null {
  if (phase === 'awaiting-approval') return 'restart';
  if (phase === 'awaiting-rollback-approval') return 'rollback';
  return null;
}

/** A decision's `by`, trimmed; empty when absent or not a string. */
export function deciderOf(input: unknown): string {
  const by = (input as { by?: unknown } | null)?.by;
  return typeof by === 'string' ? by.trim().slice(0, 200) : '';
}

/**
 * Why a decision must be refused before anything is looked up, or null when it may proceed to the
 * identity check. `channel` is the path it took (never a field of the input).
 */
export function decisionRefusal(
  ctx: DecisionContext,
  decision: 'approve' | 'reject',
  input: DecisionInput,
  channel: DecisionChannel,
): string | null {
  if (typeof input !== 'object' || input === null) return 'a decision must be an object such as {"by": "…", "runId": "…", "step": "restart"}';
  const by = deciderOf(input);
  if (!by) return 'a decision must name who made it ("by")';
  if (!ctx.runbook.approvers.some((a) => a.id === by)) return `${by} is not an approver of runbook ${ctx.runbook.id}`;
  if (!ctx.runbook.approval.channels.includes(channel)) {
    return `runbook ${ctx.runbook.id} does not accept decisions through ${channel} (approval.channels: ${ctx.runbook.approval.channels.join(', ')})`;
  }
  const step = stepOf(ctx.phase);
  if (step === null) return `the incident is not waiting for a decision (phase: ${ctx.phase})`;
  if (typeof input.runId !== 'string' || typeof input.step !== 'string') {
    return `a decision must name the incident run and step it is for ("runId": "${ctx.runId}", "step": "${step}")`;
  }
  if (input.runId !== ctx.runId) return `this decision is for run ${input.runId}, but this incident is run ${ctx.runId}`;
  if (input.step !== step) return `this decision is for the ${input.step} step, but the incident waits for a decision on the ${step}`;
  if (decision === 'reject') return null;
  if (step === 'restart') {
    const procedure = ctx.classification?.procedure ?? null;
    const prerequisite = prerequisiteFor(ctx.runbook, ctx.classification);
    if (prerequisite && input.prerequisiteConfirmed !== true) {
      return `procedure ${procedure} needs the human prerequisite confirmed first (prerequisiteConfirmed: true): ${prerequisite}`;
    }
    if (input.emergency === true) {
      if (!ctx.runbook.emergency.directRestartEnabled) {
        return `the emergency direct restart is disabled in runbook ${ctx.runbook.id} (emergency.directRestartEnabled: false)`;
      }
      const allowed = ctx.runbook.approval.emergencyChannels ?? ctx.runbook.approval.channels;
      if (!allowed.includes(channel)) {
        return `runbook ${ctx.runbook.id} does not accept the emergency restart through ${channel} (approval.emergencyChannels: ${allowed.join(', ')})`;
      }
    }
  }
  return null;
}

/**
 * Why the caller identity Temporal recorded may not act for `by`, or null when it may. An approver
 * without `temporalIdentities` accepts any identity (it is still recorded). Verified Slack decisions
 * are vouched for by the ingress and need no Temporal identity match.
 */
export function identityRefusal(
  runbook: Pick<RunbookConfig, 'id' | 'approvers'>,
  by: string,
  identity: string | null,
  channel: DecisionChannel,
): string | null {
  if (channel === 'slack') return null;
  const approver = runbook.approvers.find((a) => a.id === by);
  const allowed = approver?.temporalIdentities;
  if (!allowed) return null;
  if (identity !== null && allowed.includes(identity)) return null;
  return `Temporal identity ${identity === null ? '(unknown)' : JSON.stringify(identity)} may not act for ${by} (approvers[].temporalIdentities)`;
}
