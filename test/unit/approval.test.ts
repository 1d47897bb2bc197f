/** Who may decide what, and when: the rules behind the `decide` Update's validator and the signals. */
import { describe, expect, it } from 'vitest';
import { decisionRefusal, prerequisiteFor, type DecisionContext } from '../../domain/approval';

const runbook: DecisionContext['runbook'] = {
  id: 'torghut-ws',
  approvers: [{ id: 'oncall-alice' }, { id: 'oncall-bob' }],
  emergency: { directRestartEnabled: false },
};
const waiting = (over: Partial<DecisionContext> = {}): DecisionContext => ({ phase: 'awaiting-approval', procedure: 'A', runbook, ...over });

describe('approval rules', () => {
  it('an approver of the runbook may approve or reject a waiting 406 incident', () => {
    expect(decisionRefusal(waiting(), 'approve', { by: 'oncall-alice' })).toBeNull();
    expect(decisionRefusal(waiting(), 'reject', { by: 'oncall-bob' })).toBeNull();
  });

  it('someone not in the runbook is refused, and so is a decision without a name', () => {
    expect(decisionRefusal(waiting(), 'approve', { by: 'mallory' })).toBe('mallory is not an approver of runbook torghut-ws');
    expect(decisionRefusal(waiting(), 'approve', { by: '  ' })).toMatch(/must name who made it/);
  });

  it('an incident that is not waiting refuses every decision', () => {
    for (const phase of ['diagnosing', 'opening-pr', 'awaiting-merge', 'verifying', 'closed'] as const) {
      expect(decisionRefusal(waiting({ phase }), 'approve', { by: 'oncall-alice' })).toBe(`the incident is not waiting for a decision (phase: ${phase})`);
    }
  });

  it('procedure B and C need the human prerequisite confirmed before a restart; rejecting does not', () => {
    expect(prerequisiteFor('B')).toMatch(/SealedSecrets/);
    expect(prerequisiteFor('C')).toMatch(/Kafka auth\/ACL/);
    expect(prerequisiteFor('A')).toBeNull();
    for (const procedure of ['B', 'C'] as const) {
      expect(decisionRefusal(waiting({ procedure }), 'approve', { by: 'oncall-alice' })).toMatch(new RegExp(`procedure ${procedure} needs the human prerequisite`));
      expect(decisionRefusal(waiting({ procedure }), 'approve', { by: 'oncall-alice', prerequisiteConfirmed: true })).toBeNull();
      expect(decisionRefusal(waiting({ procedure }), 'reject', { by: 'oncall-alice' })).toBeNull();
    }
  });

  it('the emergency direct restart is refused unless the runbook enables it', () => {
    expect(decisionRefusal(waiting(), 'approve', { by: 'oncall-alice', emergency: true })).toMatch(/emergency direct restart is disabled/);
    const enabled = { ...runbook, emergency: { directRestartEnabled: true } };
    expect(decisionRefusal(waiting({ runbook: enabled }), 'approve', { by: 'oncall-alice', emergency: true })).toBeNull();
  });

  it('a decision meant for the restart never approves a rollback, and the reverse', () => {
    const rollback = waiting({ phase: 'awaiting-rollback-approval' });
    expect(decisionRefusal(rollback, 'approve', { by: 'oncall-alice', step: 'restart' })).toBe(
      'this decision is for the restart step, but the incident waits for a decision on the rollback',
    );
    expect(decisionRefusal(rollback, 'approve', { by: 'oncall-alice', step: 'rollback' })).toBeNull();
    expect(decisionRefusal(waiting(), 'approve', { by: 'oncall-alice', step: 'rollback' })).toMatch(/for the rollback step/);
    // The rollback needs no prerequisite, even for procedure B.
    expect(decisionRefusal(waiting({ phase: 'awaiting-rollback-approval', procedure: 'B' }), 'approve', { by: 'oncall-bob' })).toBeNull();
  });
});
