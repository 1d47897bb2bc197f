/**
 * The proof that a decision came from a verified Slack click: the ingress (which checked Slack's
 * request signature) signs the decision's fields with HMAC-SHA256 under AGENTRUNS_DECISION_KEY, a
 * key only the ingress and the worker hold; the worker checks it in an activity. The key is never in
 * a workflow input, a signal or the history, so whoever can reach Temporal cannot make a decision
 * that is recorded as Slack's — and a proof is bound to one run, step, decision and approver, and
 * expires after a few minutes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DecisionStep } from './decision';

/** A proof older than this (or this far in the future) is refused. */
export const DECISION_PROOF_MAX_AGE_MS = 5 * 60_000;
/** The shortest key accepted: 32 bytes of entropy, e.g. `openssl rand -hex 32`. */
export const DECISION_KEY_MIN_LENGTH = 32;

export interface ProvenDecision {
  workflowId: string;
  runId: string;
  step: DecisionStep;
  decision: 'approve' | 'reject';
  by: string;
  prerequisiteConfirmed: boolean;
  emergency: boolean;
  restartAnyway: boolean;
  /** The Slack member who clicked. */
  user: string;
  issuedAt: string;
}

function canonical(d: ProvenDecision): string {
  // JSON of a fixed key order: no field can bleed into another.
  return JSON.stringify([
    'agentruns-decision-v1',
    d.workflowId,
    d.runId,
    d.step,
    d.decision,
    d.by,
    d.prerequisiteConfirmed,
    d.emergency,
    d.restartAnyway,
    d.user,
    d.issuedAt,
  ]);
}

export function signDecision(key: string, decision: ProvenDecision): string {
  return createHmac('sha256', key).update(canonical(decision)).digest('hex');
}

export type ProofCheck = { ok: true } | { ok: false; reason: string };

export function verifyDecisionProof(key: string | undefined, decision: ProvenDecision, signature: string, nowMs: number): ProofCheck {
  if (!key) return { ok: false, reason: 'the worker has no AGENTRUNS_DECISION_KEY, so it cannot verify Slack decisions' };
  const issued = Date.parse(decision.issuedAt);
  if (!Number.isFinite(issued)) return { ok: false, reason: 'the Slack proof has no valid issue time' };
  if (Math.abs(nowMs - issued) > DECISION_PROOF_MAX_AGE_MS) return { ok: false, reason: 'the Slack proof has expired (older than 5 minutes)' };
  const expected = Buffer.from(signDecision(key, decision), 'hex');
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(expected.length);
  const match = timingSafeEqual(expected, given) && given.length === expected.length && /^[0-9a-f]{64}$/.test(signature);
  return match ? { ok: true } : { ok: false, reason: 'the Slack proof does not match the decision (not signed by this ingress)' };
}
