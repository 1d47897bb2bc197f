/**
 * FROZEN (workflow v1, see incident-v1.ts). Who may decide what, and when. One pure function used by the workflow's signal handlers (refusals
 * are recorded and ignored) and by its Update validator (refusals are returned to the caller at once).
 */
import type { Procedure } from '../../domain/classification';
import type { DecisionInput, Phase } from './types-v1';
import type { RunbookConfig } from '../../domain/runbook-config';

export interface DecisionContext {
  phase: Phase;
  procedure: Procedure | null;
  runbook: Pick<RunbookConfig, 'id' | 'approvers' | 'emergency'>;
}

const PREREQUISITES: Partial<Record<Procedure, string | null>> = {
  A: null,
  B: 'Alpaca credentials were rotated through SealedSecrets (sealed-secrets.yaml) and synced by Argo CD',
  C: 'Kafka auth/ACL was fixed (KafkaUser Secret present, KAFKA_BOOTSTRAP correct)',
};

/** The human step an approver must confirm before a restart, or null when none. */
export function prerequisiteFor(procedure: Procedure | null): string | null {
  return procedure ? (PREREQUISITES[procedure] ?? null) : null;
}

/** Why a decision must be refused, or null when it is acceptable. */
export function decisionRefusal(ctx: DecisionContext, decision: 'approve' | 'reject', input: DecisionInput): string | null {
  const by = typeof input?.by === 'string' ? input.by.trim() : '';
  if (!by) return 'a decision must name who made it ("by")';
  if (!ctx.runbook.approvers.some((a) => a.id === by)) {
    return `${by} is not an approver of runbook ${ctx.runbook.id}`;
  }
  if (ctx.phase !== 'awaiting-approval' && ctx.phase !== 'awaiting-rollback-approval') {
    return `the incident is not waiting for a decision (phase: ${ctx.phase})`;
  }
  const step = ctx.phase === 'awaiting-approval' ? 'restart' : 'rollback';
  if (input.step !== undefined && input.step !== step) {
    return `this decision is for the ${input.step} step, but the incident waits for a decision on the ${step}`;
  }
  if (decision === 'reject') return null;
  if (ctx.phase === 'awaiting-approval') {
    const prerequisite = prerequisiteFor(ctx.procedure);
    if (prerequisite && input.prerequisiteConfirmed !== true) {
      return `procedure ${ctx.procedure} needs the human prerequisite confirmed first (prerequisiteConfirmed: true): ${prerequisite}`;
    }
    if (input.emergency === true && !ctx.runbook.emergency.directRestartEnabled) {
      return `the emergency direct restart is disabled in runbook ${ctx.runbook.id} (emergency.directRestartEnabled: false)`;
    }
  }
  return null;
}
