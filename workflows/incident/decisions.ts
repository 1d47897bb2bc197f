/**
 * Decision intake: how a human's approve or reject becomes the incident's decision, or a recorded
 * refusal. The channel is the path the decision took, never a field the sender wrote:
 *
 * - `approve` / `reject` signals (Temporal Web UI, `temporal workflow signal`) → channel `temporal`;
 * - the `decide` Update → channel `cli`, or `slack` when it carries the ingress's HMAC proof and the
 *   worker verifies it (a proof that fails is refused, never downgraded).
 *
 * Every decision must name the run and step it is for. The quick rules (approver, phase, run, step,
 * channel, prerequisite, emergency) are checked at once — the Update's validator answers them
 * without touching history; then the worker reads the caller identity Temporal recorded for the
 * signal or Update (and checks a Slack proof) in the `authenticateDecision` activity, and the
 * approver's `temporalIdentities`, when listed, must contain it. Decisions are taken one at a time,
 * so two approvals racing can never both count.
 */
import { ApplicationFailure, condition, currentUpdateInfo, patched } from '@temporalio/workflow';
import { decisionRefusal, deciderOf, identityRefusal, stepOf } from '../../domain/approval';
import { clip, STATE_BOUNDS } from '../../domain/bounds';
import type { DecisionChannel, DecisionInput, DecisionRecord } from '../../domain/decision';
import type { DecideInput, RefusalInput } from '../messages';
import type { DecisionOrigin } from '../../activities/trust';
import { trust } from './activities';
import { failureText, type Incident } from './context';

/** Marks incidents where a decision queued behind another is refused without authenticating once the step was decided. */
export const DECISION_QUEUE_RECHECK_PATCH = 'agentruns-decision-queue-recheck';

type Verdict = { ok: true; record: DecisionRecord } | { ok: false; reason: string };

export class DecisionIntake {
  /** Signals seen per name, in history order: the ordinal finds a signal's event in the history. */
  private readonly signalsSeen: Record<string, number> = {};
  private busy = false;

  constructor(private readonly incident: Incident) {}

  /** The quick rules, for a decision taking `channel`; null when it may go on to authentication. */
  quickRefusal(decision: 'approve' | 'reject', input: DecisionInput, channel: DecisionChannel): string | null {
    const { incident } = this;
    if (!incident.resolved) return 'the incident is not waiting for a decision (it has not started yet)';
    if (incident.pending) return 'a decision was already taken for this step';
    return decisionRefusal(
      { phase: incident.state.phase, runId: incident.state.runId, classification: incident.state.classification, runbook: incident.resolved.runbook },
      decision,
      input,
      channel,
    );
  }

  /** An `approve` / `reject` signal. Refusals are recorded; the signal itself cannot answer. */
  async fromSignal(decision: 'approve' | 'reject', input: DecisionInput): Promise<void> {
    // Counted before anything else, refused or not: the ordinal must match the history's order.
    const ordinal = (this.signalsSeen[decision] = (this.signalsSeen[decision] ?? 0) + 1);
    await this.take(decision, input, 'temporal', { kind: 'signal', signalName: decision, ordinal });
  }

  /** The `decide` Update's validator: refuses at once what the quick rules refuse. */
  validateUpdate(input: DecideInput): void {
    if (input?.decision !== 'approve' && input?.decision !== 'reject') throw new Error('decision must be "approve" or "reject"');
    const reason = this.quickRefusal(input.decision, input, channelOfUpdate(input));
    if (reason) throw new Error(reason);
  }

  /** The `decide` Update: the accepted record, or a failure carrying the refusal. */
  async fromUpdate(input: DecideInput): Promise<DecisionRecord> {
    const updateId = currentUpdateInfo()?.id ?? '';
    const verdict = await this.take(input.decision, input, channelOfUpdate(input), { kind: 'update', updateId });
    if (!verdict.ok) throw ApplicationFailure.create({ type: 'DecisionRefused', message: verdict.reason, nonRetryable: true });
    return verdict.record;
  }

  /** A refusal the ingress or CLI reports (its validator refused it, or a Slack user who is no approver). */
  reported(r: RefusalInput): void {
    this.incident.refuse({
      by: typeof r?.by === 'string' ? r.by : '(missing)',
      decision: r?.decision === 'reject' ? 'reject' : 'approve',
      channel: 'reported',
      reason: `${typeof r?.channel === 'string' ? clip(r.channel, 20) : '?'}: ${typeof r?.reason === 'string' ? r.reason : ''}`,
    });
  }

  /** Waits for the decision of the step just opened, up to `timeoutMs`; null when none came. */
  async awaitDecision(timeoutMs: number): Promise<DecisionRecord | null> {
    // The timer's summary names what it waits for, in the UI's event history (metadata, no command).
    const summary = `wait for approve / reject of the ${stepOf(this.incident.state.phase) ?? 'step'} (up to ${Math.round(timeoutMs / 60_000)} min)`;
    const decided = await condition(() => this.incident.pending !== null, timeoutMs, { summary });
    // A decision being authenticated when the time ran out still counts: it arrived in time.
    if (!decided && this.busy) await condition(() => !this.busy);
    return this.incident.pending;
  }

  private async take(decision: 'approve' | 'reject', input: DecisionInput, channel: DecisionChannel, origin: DecisionOrigin): Promise<Verdict> {
    const by = deciderOf(input);
    const early = this.quickRefusal(decision, input, channel);
    if (early) {
      this.incident.refuse({ by, decision, channel, reason: early });
      return { ok: false, reason: early };
    }
    if (this.busy) {
      await condition(() => !this.busy);
      // A click storm queues here: once one decision was taken the rest are refused at once,
      // without authenticating each (one activity per click).
      const meanwhile = this.quickRefusal(decision, input, channel);
      if (meanwhile && patched(DECISION_QUEUE_RECHECK_PATCH)) {
        this.incident.refuse({ by, decision, channel, reason: meanwhile });
        return { ok: false, reason: meanwhile };
      }
    }
    this.busy = true;
    try {
      const verdict = await this.authenticate(decision, input, channel, origin);
      if (!verdict.ok) this.incident.refuse({ by, decision, channel, reason: verdict.reason, identity: verdict.identity });
      else {
        this.incident.pending = verdict.record;
        this.incident.showDetails();
      }
      return verdict;
    } finally {
      this.busy = false;
    }
  }

  private async authenticate(
    decision: 'approve' | 'reject',
    input: DecisionInput,
    channel: DecisionChannel,
    origin: DecisionOrigin,
  ): Promise<Verdict & { identity?: string | null }> {
    const by = deciderOf(input);
    const slack = channel === 'slack' && input.slack ? input.slack : undefined;
    let identity: string | null;
    try {
      const checked = await trust.authenticateDecision({
        origin,
        ...(slack
          ? {
              slack: {
                decision: {
                  workflowId: this.incident.state.workflowId,
                  runId: this.incident.state.runId,
                  step: input.step,
                  decision,
                  by,
                  prerequisiteConfirmed: input.prerequisiteConfirmed === true,
                  emergency: input.emergency === true,
                  restartAnyway: input.restartAnyway === true,
                  user: String(slack.user),
                  issuedAt: String(slack.issuedAt),
                },
                signature: String(slack.signature),
              },
            }
          : {}),
      });
      identity = checked.identity;
      if (slack && !checked.slack?.ok) {
        return { ok: false, reason: `Slack decision not verified: ${checked.slack?.ok === false ? checked.slack.reason : 'no proof check'}`, identity };
      }
    } catch (err) {
      return { ok: false, reason: `the decision could not be authenticated: ${failureText(err)}`, identity: null };
    }
    // The incident may have moved on while the identity was read.
    const late = this.quickRefusal(decision, input, channel);
    if (late) return { ok: false, reason: late, identity };
    const mismatch = identityRefusal(this.incident.r.runbook, by, identity, channel);
    if (mismatch) return { ok: false, reason: mismatch, identity };
    const step = stepOf(this.incident.state.phase)!;
    return {
      ok: true,
      record: {
        decision,
        by,
        step,
        ...(typeof input.comment === 'string' && input.comment ? { comment: clip(input.comment, STATE_BOUNDS.commentBytes) } : {}),
        prerequisiteConfirmed: input.prerequisiteConfirmed === true,
        emergency: input.emergency === true,
        restartAnyway: input.restartAnyway === true,
        channel,
        identity: identity === null ? null : clip(identity, 200),
        ...(slack ? { slackUser: clip(String(slack.user), 50) } : {}),
        at: new Date().toISOString(),
      },
    };
  }
}

/** The Update path is the CLI's, or Slack's when it carries the ingress's proof. */
function channelOfUpdate(input: DecideInput): DecisionChannel {
  return typeof input?.slack === 'object' && input.slack !== null ? 'slack' : 'cli';
}
