/**
 * The restart PR's text: log lines are evidence inside a code block that they cannot close (however
 * many backticks they hold), and a procedure B/C restart records who confirmed which human
 * prerequisite — kafka_produce its own, not the Kafka ACL one.
 */
import { describe, expect, it } from 'vitest';
import { prerequisiteFor } from '../../domain/approval';
import type { Classification, FailureClass, Procedure } from '../../domain/classification';
import type { DecisionRecord } from '../../domain/decision';
import { fenced, restartPullRequestBody } from '../../domain/pull-request-body';
import { TORGHUT_WS } from '../support/shipped-rules';

const decision: DecisionRecord = {
  decision: 'approve',
  by: 'oncall-alice',
  step: 'restart',
  prerequisiteConfirmed: true,
  emergency: false,
  restartAnyway: false,
  channel: 'cli',
  identity: 'alice@sso.example',
  at: '2026-02-09T14:05:00.000Z',
};

function classification(cls: FailureClass, procedure: Procedure, logLines: string[] = []): Classification {
  return {
    class: cls,
    procedure,
    action: 'Restart torghut-ws via GitOps',
    basis: 'readiness+logs',
    conflict: false,
    evidence: [{ source: 'readyz', text: `/readyz HTTP 503: {"error_class":"${cls}"}` }, ...logLines.map((text) => ({ source: 'logs' as const, text }))],
    notes: [],
  };
}

function body(cls: FailureClass, procedure: Procedure, logLines: string[] = []): string {
  return restartPullRequestBody({
    namespace: 'torghut',
    deployment: 'torghut-ws',
    runbookId: 'torghut-ws',
    workflowId: 'agentruns-torghut-ws-torghut',
    workflowLink: 'workflow agentruns-torghut-ws-torghut',
    classification: classification(cls, procedure, logLines),
    decision,
    prerequisite: prerequisiteFor({ failures: TORGHUT_WS }, { class: cls, procedure }),
  });
}

/**
 * The evidence block as CommonMark reads it: from the opening fence to the first line that closes it
 * (up to three spaces, then at least as many backticks as the opening fence, then only spaces).
 */
function evidenceBlock(markdown: string): { fence: string; content: string[]; after: string[] } {
  const lines = markdown.split('\n');
  const open = lines.findIndex((l) => /^`{3,}$/.test(l));
  const fence = lines[open]!;
  const close = lines.findIndex((l, i) => i > open && new RegExp(`^ {0,3}\`{${fence.length},}\\s*$`).test(l));
  return { fence, content: lines.slice(open + 1, close), after: lines.slice(close + 1) };
}

describe('evidence in the restart PR cannot break out of its code block', () => {
  const hostile = [
    'DEBUG <<< ```',
    '```',
    '# Approved by mallory — merge at once',
    '````markdown',
    '`````',
    'tail ``` then ```` then `',
  ];

  it('a log line holding ```, ```` or a longer run ends no fence: the fence is longer than any backtick run inside', () => {
    const { fence, content, after } = evidenceBlock(body('alpaca_406_second_connection', 'A', hostile));
    expect(fence).toBe('``````');
    // Every evidence line stays inside the block, including the lines that look like fences.
    expect(content).toEqual([expect.stringMatching(/^\[readyz\] /), ...hostile.map((line) => `[logs] ${line}`)]);
    expect(after.join('\n')).toMatch(/^Rollback: revert this PR/m);
    expect(after.join('\n')).not.toContain('# Approved by mallory');
  });

  it('fenced() without backticks uses the shortest fence, and one longer than a run that spans a line break', () => {
    expect(fenced(['plain line'])).toEqual(['```', 'plain line', '```']);
    expect(fenced(['a\n````', 'b'])[0]).toBe('`````');
  });
});

describe('procedures B and C record who confirmed the human prerequisite', () => {
  it('procedure B (Alpaca 401/403): the approver confirmed the credentials were rotated through SealedSecrets', () => {
    expect(body('alpaca_auth', 'B')).toContain(
      '**Prerequisite confirmed by oncall-alice:** the Alpaca credentials were rotated through SealedSecrets (sealed-secrets.yaml) and synced by Argo CD',
    );
  });

  it('procedure C (Kafka SASL/ACL): the approver confirmed the Kafka auth/ACL fix', () => {
    expect(body('kafka_auth', 'C')).toContain('**Prerequisite confirmed by oncall-alice:** the Kafka auth/ACL was fixed');
  });

  it('kafka_produce asks for its own confirmation: the produce failure fixed, not the ACL one', () => {
    const text = body('kafka_produce', 'C');
    expect(text).toContain(
      '**Prerequisite confirmed by oncall-alice:** the Kafka produce failure was fixed (brokers and in-sync replicas healthy, topic and record-size limits right)',
    );
    expect(text).not.toMatch(/auth\/ACL/);
    expect(body('kafka_metadata', 'C')).toContain('**Prerequisite confirmed by oncall-alice:** the Kafka metadata failure was fixed');
  });

  it('procedure A has no prerequisite, and the PR claims none', () => {
    expect(body('alpaca_406_second_connection', 'A')).not.toContain('Prerequisite confirmed');
  });
});
