/** Who may decide what, and when: the rules behind the `decide` Update's validator and the signals. */
import { describe, expect, it } from 'vitest';
import { decisionRefusal, identityRefusal, prerequisiteFor, type DecisionContext } from '../../domain/approval';
import type { DecisionInput } from '../../domain/decision';
import { TORGHUT_WS } from '../support/shipped-rules';

const runbook: DecisionContext['runbook'] = {
  id: 'torghut-ws',
  approvers: [{ id: 'oncall-alice', temporalIdentities: ['alice@example.com'] }, { id: 'oncall-bob' }],
  emergency: { directRestartEnabled: false },
  approval: { channels: ['temporal', 'slack', 'cli'] },
  failures: TORGHUT_WS,
};
const RUN = 'run-1';
const waiting = (over: Partial<DecisionContext> = {}): DecisionContext => ({
  phase: 'awaiting-approval',
  runId: RUN,
  classification: { class: 'alpaca_406_second_connection', procedure: 'A' },
  runbook,
  ...over,
});
const as = (by: string, extra: Partial<DecisionInput> = {}): DecisionInput => ({ by, runId: RUN, step: 'restart', ...extra });

describe('approval rules', () => {
  it('an approver of the runbook may approve or reject a waiting 406 incident through any channel', () => {
    for (const channel of ['temporal', 'slack', 'cli'] as const) {
      expect(decisionRefusal(waiting(), 'approve', as('oncall-alice'), channel)).toBeNull();
      expect(decisionRefusal(waiting(), 'reject', as('oncall-bob'), channel)).toBeNull();
    }
  });

  it('someone not in the runbook is refused, and so is a decision without a name', () => {
    expect(decisionRefusal(waiting(), 'approve', as('mallory'), 'cli')).toBe('mallory is not an approver of runbook torghut-ws');
    expect(decisionRefusal(waiting(), 'approve', as('  '), 'cli')).toMatch(/must name who made it/);
  });

  it('an incident that is not waiting refuses every decision', () => {
    for (const phase of ['resolving', 'diagnosing', 'opening-pr', 'awaiting-merge', 'verifying', 'closed'] as const) {
      expect(decisionRefusal(waiting({ phase }), 'approve', as('oncall-alice'), 'cli')).toBe(`the incident is not waiting for a decision (phase: ${phase})`);
    }
  });

  it('a decision without its run and step is refused, saying which ones wait', () => {
    const bare = { by: 'oncall-alice' } as DecisionInput;
    expect(decisionRefusal(waiting(), 'approve', bare, 'temporal')).toBe(
      'a decision must name the incident run and step it is for ("runId": "run-1", "step": "restart")',
    );
    expect(decisionRefusal(waiting(), 'approve', as('oncall-alice', { runId: 'an-older-run' }), 'cli')).toBe(
      'this decision is for run an-older-run, but this incident is run run-1',
    );
  });

  it('procedure B and C need the human prerequisite that fits the class confirmed before a restart; rejecting does not', () => {
    expect(prerequisiteFor(runbook, { class: 'alpaca_auth', procedure: 'B' })).toMatch(/SealedSecrets/);
    expect(prerequisiteFor(runbook, { class: 'kafka_auth', procedure: 'C' })).toMatch(/Kafka auth\/ACL/);
    expect(prerequisiteFor(runbook, { class: 'kafka_produce', procedure: 'C' })).toMatch(/produce failure was fixed/);
    expect(prerequisiteFor(runbook, { class: 'kafka_produce', procedure: 'C' })).not.toMatch(/ACL/);
    expect(prerequisiteFor(runbook, { class: 'kafka_metadata', procedure: 'C' })).toMatch(/metadata failure was fixed/);
    expect(prerequisiteFor(runbook, { class: 'alpaca_406_second_connection', procedure: 'A' })).toBeNull();
    for (const [cls, procedure] of [['alpaca_auth', 'B'], ['kafka_auth', 'C']] as const) {
      const ctx = waiting({ classification: { class: cls, procedure } });
      expect(decisionRefusal(ctx, 'approve', as('oncall-alice'), 'cli')).toMatch(new RegExp(`procedure ${procedure} needs the human prerequisite`));
      expect(decisionRefusal(ctx, 'approve', as('oncall-alice', { prerequisiteConfirmed: true }), 'cli')).toBeNull();
      expect(decisionRefusal(ctx, 'reject', as('oncall-alice'), 'cli')).toBeNull();
    }
  });

  it('the emergency direct restart is refused unless the runbook enables it, and only through its channels', () => {
    expect(decisionRefusal(waiting(), 'approve', as('oncall-alice', { emergency: true }), 'cli')).toMatch(/emergency direct restart is disabled/);
    const enabled = { ...runbook, emergency: { directRestartEnabled: true }, approval: { channels: runbook.approval.channels, emergencyChannels: ['cli' as const] } };
    expect(decisionRefusal(waiting({ runbook: enabled }), 'approve', as('oncall-alice', { emergency: true }), 'cli')).toBeNull();
    expect(decisionRefusal(waiting({ runbook: enabled }), 'approve', as('oncall-alice', { emergency: true }), 'temporal')).toMatch(
      /does not accept the emergency restart through temporal/,
    );
  });

  it('a channel the runbook does not allow is refused', () => {
    const slackOnly = { ...runbook, approval: { channels: ['slack' as const] } };
    expect(decisionRefusal(waiting({ runbook: slackOnly }), 'approve', as('oncall-bob'), 'temporal')).toBe(
      'runbook torghut-ws does not accept decisions through temporal (approval.channels: slack)',
    );
    expect(decisionRefusal(waiting({ runbook: slackOnly }), 'approve', as('oncall-bob'), 'slack')).toBeNull();
  });

  it('a decision meant for the restart never approves a rollback, and the reverse', () => {
    const rollback = waiting({ phase: 'awaiting-rollback-approval' });
    expect(decisionRefusal(rollback, 'approve', as('oncall-alice'), 'cli')).toBe(
      'this decision is for the restart step, but the incident waits for a decision on the rollback',
    );
    expect(decisionRefusal(rollback, 'approve', as('oncall-alice', { step: 'rollback' }), 'cli')).toBeNull();
    expect(decisionRefusal(waiting(), 'approve', as('oncall-alice', { step: 'rollback' }), 'cli')).toMatch(/for the rollback step/);
    // The rollback needs no prerequisite, even for procedure B.
    const b = waiting({ phase: 'awaiting-rollback-approval', classification: { class: 'alpaca_auth', procedure: 'B' } });
    expect(decisionRefusal(b, 'approve', as('oncall-bob', { step: 'rollback' }), 'cli')).toBeNull();
  });

  it('an approver who lists Temporal identities is acted for only by those; one who lists none by anyone (recorded)', () => {
    expect(identityRefusal(runbook, 'oncall-alice', 'alice@example.com', 'temporal')).toBeNull();
    expect(identityRefusal(runbook, 'oncall-alice', 'mallory@laptop', 'temporal')).toBe(
      'Temporal identity "mallory@laptop" may not act for oncall-alice (approvers[].temporalIdentities)',
    );
    expect(identityRefusal(runbook, 'oncall-alice', null, 'cli')).toMatch(/\(unknown\) may not act/);
    expect(identityRefusal(runbook, 'oncall-bob', 'anyone', 'temporal')).toBeNull();
    // A verified Slack click is vouched for by the ingress, whatever Temporal identity the ingress has.
    expect(identityRefusal(runbook, 'oncall-alice', 'ingress@pod', 'slack')).toBeNull();
  });
});
