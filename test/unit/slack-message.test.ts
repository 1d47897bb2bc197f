import { describe, expect, it } from 'vitest';
import type { Classification } from '../../domain/classification';
import { openingState, type IncidentState } from '../../domain/incident';
import {
  resendHoldReply,
  stepReplies,
  APPROVE_ACTION_ID,
  parseDecisionButtonValue,
  REJECT_ACTION_ID,
  renderIncidentMessage,
  temporalUiLink,
} from '../../domain/slack-message';
import { compareKafkaBootstrap, summarizeEvidence } from '../../domain/prerequisite-evidence';
import { blockKitProblem } from '../../sim/slack';

const WORKFLOW_ID = 'agentruns-torghut-ws-torghut';

function classification(over: Partial<Classification> = {}): Classification {
  return {
    class: 'alpaca_406_second_connection',
    procedure: 'A',
    action: 'Ensure replicas is 1 and restart torghut-ws through the GitOps restartedAt annotation',
    basis: 'readiness+logs',
    conflict: false,
    evidence: [
      { source: 'readyz', text: '{"status":"not_ready","error_class":"alpaca_406_second_connection"}' },
      { source: 'logs', text: '[{"T":"error","code":406,"msg":"connection limit exceeded"}]' },
      { source: 'deployment', text: 'spec.replicas=2 (expected 1)' },
      { source: 'logs', text: 'auth frame {"action":"auth","key":"PKTESTKEY1234567890","secret":"s3cr3tValue"}' },
      { source: 'events', text: 'Readiness probe failed: HTTP probe failed with statuscode: 503' },
      { source: 'pods', text: 'torghut-ws-7d9f-abc: ready=false restarts=4' },
      { source: 'logs', text: 'sixth line, not shown' },
    ],
    notes: ['replicas is 2: a second replica causes Alpaca 406'],
    ...over,
  };
}

function state(over: Partial<IncidentState> = {}): IncidentState {
  return {
    ...openingState({
      workflowId: WORKFLOW_ID,
      runId: 'run-0001',
      runbookId: 'torghut-ws',
      trigger: { source: 'alertmanager' },
      startedAt: '2026-03-01T10:16:00.000Z',
    }),
    target: { namespace: 'torghut', deployment: 'torghut-ws' },
    phase: 'awaiting-approval',
    classification: classification(),
    ...over,
  };
}

interface Element {
  action_id?: string;
  value?: string;
  style?: string;
  text: { text: string };
  confirm?: { text: { text: string } };
}
type AnyBlock = { type: string; block_id?: string; text?: { text: string }; fields?: { text: string }[]; elements?: Element[] };
const blocksOf = (s: IncidentState, opts = {}) => renderIncidentMessage(s, opts).blocks as unknown as AnyBlock[];
const allText = (blocks: AnyBlock[]) => JSON.stringify(blocks);
const actions = (blocks: AnyBlock[]) => blocks.find((b) => b.type === 'actions');

describe('the incident Slack message', () => {
  it('406 awaiting approval → class, procedure A, action, notes, Approve and Reject buttons', () => {
    const message = renderIncidentMessage(state(), { temporalUiUrl: 'http://127.0.0.1:8233/' });
    const blocks = message.blocks as unknown as AnyBlock[];
    expect(message.text).toBe('torghut/torghut-ws: alpaca_406_second_connection (procedure A) — waiting for approval');
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'torghut/torghut-ws: alpaca_406_second_connection' } });
    expect(blocks[1]!.fields!.map((f) => f.text)).toEqual([
      '*Class*\nalpaca_406_second_connection',
      '*Procedure*\nA',
      '*Phase*\nwaiting for approval',
      '*Outcome*\nopen',
    ]);
    expect(allText(blocks)).toContain('replicas is 2: a second replica causes Alpaca 406');
    const buttons = actions(blocks)!.elements!;
    expect(buttons.map((b) => [b.action_id, b.text.text, b.style])).toEqual([
      [APPROVE_ACTION_ID, 'Approve restart', 'primary'],
      [REJECT_ACTION_ID, 'Reject', 'danger'],
    ]);
    expect(buttons.map((b) => parseDecisionButtonValue(b.value))).toEqual([
      // Pinned to this incident's run and step: a click on an old message never decides a newer incident.
      { ok: true, value: { workflowId: WORKFLOW_ID, runId: 'run-0001', step: 'restart', decision: 'approve' } },
      { ok: true, value: { workflowId: WORKFLOW_ID, runId: 'run-0001', step: 'restart', decision: 'reject' } },
    ]);
  });

  it('shows the top 5 evidence lines, redacted again, and says how many more there are', () => {
    const evidence = blocksOf(state()).find((b) => b.text?.text.startsWith('*Evidence*'))!.text!.text;
    const lines = evidence.split('```')[1]!.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('[readyz] {"status":"not_ready","error_class":"alpaca_406_second_connection"}');
    expect(evidence).not.toContain('s3cr3tValue');
    expect(evidence).not.toContain('PKTESTKEY1234567890');
    expect(evidence).toContain('[REDACTED]');
    expect(evidence).not.toContain('sixth line');
    expect(evidence).toContain('_2 more in the Temporal UI_');
  });

  it('escapes Slack control characters so log text cannot forge links or mentions', () => {
    const s = state({ classification: classification({ evidence: [{ source: 'logs', text: 'error <!channel> <http://evil|click> a&b' }] }) });
    const evidence = blocksOf(s).find((b) => b.text?.text.startsWith('*Evidence*'))!.text!.text;
    expect(evidence).toContain('error &lt;!channel&gt; &lt;http://evil|click&gt; a&amp;b');
  });

  it('procedure B → the prerequisite is spelled out and Approve confirms it', () => {
    const prerequisite = 'Alpaca credentials were rotated through SealedSecrets (sealed-secrets.yaml) and synced by Argo CD';
    const blocks = blocksOf(state({ classification: classification({ class: 'alpaca_auth', procedure: 'B' }), prerequisite }));
    expect(allText(blocks)).toContain(`:warning: *Before approving, a human must make sure that:* ${prerequisite}`);
    const approve = actions(blocks)!.elements![0];
    expect(approve!.text.text).toBe('Prerequisite done, approve');
    expect(parseDecisionButtonValue(approve!.value)).toEqual({ ok: true, value: { workflowId: WORKFLOW_ID, runId: 'run-0001', step: 'restart', decision: 'approve', prerequisiteConfirmed: true } });
    expect(approve!.confirm!.text.text).toContain('You confirm that Alpaca credentials were rotated');
  });

  it('procedure B with the sealed credentials changed in Git since the failure began → commit, author and time shown beside the prerequisite', () => {
    const evidence = {
      procedure: 'B' as const,
      collectedAt: '2026-03-01T10:17:00.000Z',
      sealedSecrets: {
        ok: true as const,
        value: {
          path: 'argocd/applications/torghut/sealed-secrets.yaml',
          branch: 'main',
          since: '2026-03-01T10:02:00.000Z',
          sinceFrom: "the alert's startsAt",
          commits: [{ sha: '0f1e2d3c4b5a69788796a5b4c3d2e1f00a1b2c3d', author: 'carol', at: '2026-03-01T10:09:41Z', subject: 'Rotate Alpaca key (sealed) <!channel>' }],
          truncated: false,
        },
      },
    };
    const withEvidence = state({ classification: classification({ class: 'alpaca_auth', procedure: 'B' }), prerequisite: 'credentials rotated', prerequisiteEvidence: { ...evidence, summary: summarizeEvidence(evidence) } });
    const text = allText(blocksOf(withEvidence));
    expect(text).toContain('*Evidence for the prerequisite* (procedure B; you still confirm it)');
    expect(text).toContain("• argocd/applications/torghut/sealed-secrets.yaml changed on main since 2026-03-01T10:02:00.000Z (the alert's startsAt): 1 commit");
    // The commit subject is Git input: Slack control sequences in it are escaped.
    expect(text).toContain('•   0f1e2d3 by carol at 2026-03-01T10:09:41Z: Rotate Alpaca key (sealed) &lt;!channel&gt;');
    // Still the human's call: Approve confirms the prerequisite as before.
    expect(actions(blocksOf(withEvidence))!.elements![0]!.text.text).toBe('Prerequisite done, approve');

    const none = { ...evidence, sealedSecrets: { ok: true as const, value: { ...evidence.sealedSecrets.value, commits: [] } } };
    expect(allText(blocksOf(state({ ...withEvidence, prerequisiteEvidence: { ...none, summary: summarizeEvidence(none) } })))).toContain(
      'has NOT changed on main since 2026-03-01T10:02:00.000Z',
    );
  });

  it('procedure C → KAFKA_BOOTSTRAP in Git, live and as the runbook expects it, side by side, the mismatch called out', () => {
    const git = { ok: true as const, value: 'kafka-kafka-bootstrap.kafka:9092' };
    const live = { ok: true as const, value: 'kafka-bootstrap.old:9092' };
    const expected = 'kafka-kafka-bootstrap.kafka:9092';
    const evidence = {
      procedure: 'C' as const,
      collectedAt: '2026-03-01T10:17:00.000Z',
      kafkaBootstrap: { git, live, expected, mismatches: compareKafkaBootstrap(git, live, expected) },
    };
    const text = allText(blocksOf(state({ classification: classification({ class: 'kafka_metadata', procedure: 'C' }), prerequisiteEvidence: { ...evidence, summary: summarizeEvidence(evidence) } })));
    expect(text).toContain('• KAFKA_BOOTSTRAP — Git: kafka-kafka-bootstrap.kafka:9092; live ConfigMap: kafka-bootstrap.old:9092; runbook expects: kafka-kafka-bootstrap.kafka:9092');
    expect(text).toContain('• MISMATCH: KAFKA_BOOTSTRAP differs: Git has kafka-kafka-bootstrap.kafka:9092, the live ConfigMap has kafka-bootstrap.old:9092');
    expect(text).toContain('• MISMATCH: KAFKA_BOOTSTRAP differs: the live ConfigMap has kafka-bootstrap.old:9092, the runbook has kafka-kafka-bootstrap.kafka:9092');
    expect(text).not.toContain('Git has kafka-kafka-bootstrap.kafka:9092, the runbook has');
  });

  it('links to the workflow in the Temporal UI of its namespace', () => {
    expect(temporalUiLink(WORKFLOW_ID, { temporalUiUrl: 'http://ui:8233/', namespace: 'prod ns' })).toBe(
      'http://ui:8233/namespaces/prod%20ns/workflows/agentruns-torghut-ws-torghut',
    );
    const context = blocksOf(state(), { temporalUiUrl: 'http://ui:8233' }).find((b) => b.type === 'context')!;
    expect((context.elements![0] as unknown as { text: string }).text).toBe(`<http://ui:8233/namespaces/default/workflows/${WORKFLOW_ID}|Temporal UI: ${WORKFLOW_ID}>`);
    expect(temporalUiLink(WORKFLOW_ID, {})).toBeNull();
  });

  it('once approved the buttons are gone and who approved, through which channel, is shown', () => {
    const blocks = blocksOf(
      state({
        phase: 'opening-pr',
        decision: {
          decision: 'approve',
          by: 'oncall-alice',
          step: 'restart',
          prerequisiteConfirmed: false,
          emergency: false,
          restartAnyway: false,
          channel: 'slack',
          identity: 'agentruns-ingress',
          slackUser: 'U0ALICE01',
          at: '2026-03-01T10:20:00.000Z',
        },
      }),
    );
    expect(actions(blocks)).toBeUndefined();
    expect(allText(blocks)).toContain('Approved by *oncall-alice* via slack at 2026-03-01T10:20:00.000Z');
  });

  it('remediated → outcome, PR link, last note, no buttons', () => {
    const blocks = blocksOf(
      state({
        phase: 'closed',
        outcome: 'remediated',
        decision: {
          decision: 'approve',
          by: 'oncall-bob',
          step: 'restart',
          prerequisiteConfirmed: false,
          emergency: false,
          restartAnyway: false,
          channel: 'cli',
          identity: 'bob@laptop',
          at: '2026-03-01T10:20:00.000Z',
        },
        pullRequest: { number: 42, url: 'https://github.com/proompteng/lab/pull/42', branch: 'agentruns/x', merged: true, changes: [] },
        notes: ['rollout complete, /readyz 200'],
      }),
    );
    expect(actions(blocks)).toBeUndefined();
    const text = allText(blocks);
    expect(text).toContain('<https://github.com/proompteng/lab/pull/42|PR #42> (merged)');
    expect(text).toContain('*Outcome:* :white_check_mark: remediated');
    expect(text).toContain('rollout complete, /readyz 200');
  });

  it('what changed since the diagnosis: the alert resolving while it waits, the latest pre-flight, and re-sends held after the close', () => {
    const waiting = allText(
      blocksOf(
        state({
          phase: 'awaiting-approval',
          resolvedAt: '2026-03-01T10:25:00.000Z',
          preflights: [{ before: 'pull-request', at: '2026-03-01T10:26:00.000Z', ready: false, replicas: 1, restartedAt: null, finding: 'not ready (503 alpaca_406): going ahead' }],
        }),
      ),
    );
    expect(waiting).toContain('The alert resolved at 2026-03-01T10:25:00.000Z while this incident waits');
    expect(waiting).toContain('*Pre-flight* (2026-03-01T10:26:00.000Z): not ready (503 alpaca_406): going ahead');

    const held = state({ phase: 'closed', outcome: 'healthy-no-action', resends: { until: '2026-03-01T16:20:00.000Z', count: 3 } });
    expect(allText(blocksOf(held))).toContain(':repeat: 3 re-sends of the alert after the close attached here (held until 2026-03-01T16:20:00.000Z).');
    const ended = { ...held, resends: { ...held.resends!, count: 4, ended: { at: '2026-03-01T11:00:00.000Z', why: 'new-incident' as const, detail: 'an alert this incident had not seen (TorghutWsDown)' } } };
    expect(allText(blocksOf(ended))).toContain('4 re-sends of the alert after the close attached here; a new incident opened at 2026-03-01T11:00:00.000Z: an alert this incident had not seen (TorghutWsDown).');
    expect(resendHoldReply(held)).toMatch(/closed as \*healthy-no-action\*, so its re-sends until 2026-03-01T16:20:00.000Z are counted here instead of opening new incidents/);
  });

  it('step replies: short, one per step, the comment redacted', () => {
    const decision = { decision: 'approve' as const, step: 'restart' as const, by: 'oncall-alice', channel: 'slack' as const, comment: 'token ghp_abcdefghijklmnopqrstuvwxyz0123456789 rotated' };
    const text = stepReplies.decision(decision);
    expect(text).toMatch(/^:white_check_mark: Approved: the restart by oncall-alice via slack — “/);
    expect(text).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(stepReplies.pullRequest({ number: 7, url: 'https://github.com/o/r/pull/7' }, 'wait')).toBe(':git-pull-request: Opened the restart PR <https://github.com/o/r/pull/7|#7>; waiting for a human to merge it.');
    expect(stepReplies.synced({ application: 'torghut', status: 'Synced', health: 'Healthy', revision: '0123456789abcdef' })).toContain('Synced/Healthy at 0123456789ab');
  });

  it('expired with no decision → outcome shown, no buttons left to click', () => {
    const blocks = blocksOf(state({ phase: 'closed', outcome: 'expired' }));
    expect(actions(blocks)).toBeUndefined();
    expect(allText(blocks)).toContain('*Outcome:* :hourglass: expired');
  });

  it('verification failed, rollback offered → rollback buttons', () => {
    const blocks = blocksOf(state({ phase: 'awaiting-rollback-approval', rollback: { offered: true } }));
    expect(actions(blocks)!.elements!.map((b) => b.text.text)).toEqual(['Approve rollback', 'Keep as is']);
    expect(actions(blocks)!.elements!.map((b) => parseDecisionButtonValue(b.value))).toEqual([
      { ok: true, value: { workflowId: WORKFLOW_ID, runId: 'run-0001', step: 'rollback', decision: 'approve' } },
      { ok: true, value: { workflowId: WORKFLOW_ID, runId: 'run-0001', step: 'rollback', decision: 'reject' } },
    ]);
  });

  it('still diagnosing → no buttons yet', () => {
    expect(actions(blocksOf(state({ phase: 'diagnosing', classification: null })))).toBeUndefined();
  });

  it("stays within Slack's Block Kit limits even with huge evidence and long names", () => {
    const huge = 'x'.repeat(10_000);
    const s = state({
      target: { namespace: 'n'.repeat(63), deployment: 'd'.repeat(63) },
      classification: classification({ action: huge, notes: [huge, huge, huge, huge], evidence: Array.from({ length: 20 }, () => ({ source: 'logs' as const, text: huge })) }),
      prerequisite: huge,
    });
    expect(blockKitProblem(renderIncidentMessage(s).blocks)).toBeNull();
    expect(blockKitProblem(renderIncidentMessage(state()).blocks)).toBeNull();
  });

  it('is pure: the same state renders the same message', () => {
    expect(renderIncidentMessage(state())).toEqual(renderIncidentMessage(state()));
  });
});

describe('decision button values coming back from Slack', () => {
  it('junk, foreign JSON and extra fields are refused with a reason', () => {
    expect(parseDecisionButtonValue(undefined)).toEqual({ ok: false, reason: 'the button carries no value' });
    expect(parseDecisionButtonValue('approve')).toEqual({ ok: false, reason: 'the button value is not JSON' });
    const wrong = parseDecisionButtonValue(JSON.stringify({ workflowId: WORKFLOW_ID, decision: 'merge' }));
    expect(wrong.ok === false && wrong.reason).toContain('decision');
    expect(parseDecisionButtonValue(JSON.stringify({ workflowId: WORKFLOW_ID, decision: 'approve', emergency: true })).ok).toBe(false);
  });
});
