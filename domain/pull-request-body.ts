/**
 * The texts of the incident's pull requests: what was found, who approved what through which
 * channel, and how to roll back. Evidence is log text from the cluster, so it is redacted and
 * fenced with a fence longer than any run of backticks inside it (CommonMark closes a fence only
 * with at least as many), so a log line cannot end the block and inject markdown.
 */
import type { Classification } from './classification';
import type { DecisionRecord } from './decision';
import { redact } from './redact';

/** A code block that its content cannot close. */
export function fenced(lines: readonly string[]): string[] {
  const longest = Math.max(0, ...lines.map((line) => Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence, ...lines, fence];
}

/** One line of prose from outside (a comment): no line breaks, no markdown that could pass for ours. */
function inline(text: string): string {
  return redact(text).replace(/\s+/g, ' ').replace(/[<>`*_[\]|]/g, (c) => `\\${c}`).slice(0, 500);
}

export interface RestartPullRequestText {
  namespace: string;
  deployment: string;
  runbookId: string;
  workflowId: string;
  workflowLink: string;
  classification: Classification;
  decision: DecisionRecord;
  /** The human prerequisite of procedures B/C the approver confirmed. */
  prerequisite: string | null;
}

export function restartPullRequestBody(t: RestartPullRequestText): string {
  const c = t.classification;
  const d = t.decision;
  const via = `${d.channel}${d.slackUser ? ` (Slack user ${d.slackUser})` : ''}${d.identity ? `, Temporal identity \`${inline(d.identity)}\`` : ''}`;
  return [
    `Automated restart of \`${t.namespace}/${t.deployment}\` by AgentRuns (runbook \`${t.runbookId}\`).`,
    '',
    `**Diagnosis:** \`${c.class}\` — procedure ${c.procedure ?? 'none'} (${c.basis})`,
    `**Action:** ${c.action}`,
    `**Approved by:** ${d.by} through ${via} at ${d.at}${d.comment ? ` — “${inline(d.comment)}”` : ''}`,
    ...(t.prerequisite ? [`**Prerequisite confirmed by ${d.by}:** ${t.prerequisite}`] : []),
    `**Workflow:** ${t.workflowLink}`,
    '',
    '**Evidence** (redacted):',
    ...fenced(c.evidence.slice(0, 15).map((e) => `[${e.source}] ${redact(e.text)}`)),
    ...(c.notes.length ? ['', '**Notes:**', ...c.notes.map((n) => `- ${inline(n)}`)] : []),
    '',
    'Rollback: revert this PR and let Argo CD sync (that rolls the pods once more).',
  ].join('\n');
}

export function revertPullRequestBody(t: { number: number; deployment: string; rediagnosedClass: string; approvedBy: string; channel: string }): string {
  return [
    `Reverts #${t.number}: the restart did not bring ${t.deployment} back (${t.rediagnosedClass}).`,
    '',
    'Reverting the restart annotation is itself a change of the pod template: when Argo CD syncs it, the',
    'Deployment rolls out once more (a new ReplicaSet; the pods restart one more time).',
    '',
    `Approved by ${t.approvedBy} through ${t.channel}.`,
  ].join('\n');
}
