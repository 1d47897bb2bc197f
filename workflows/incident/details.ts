/**
 * What the Temporal Web UI shows above the event history (the workflow's "current details",
 * Markdown): the phase, the class and procedure, the top evidence lines, the prerequisite to
 * confirm, the PR, and — while a decision is awaited — exactly how to approve or reject from that
 * very page: the signal to send and the JSON to paste, with this run's ID and step filled in.
 *
 * Setting the details is no command: it changes nothing the replayer checks, so it needs no patch.
 * Rendered from the state alone, so it is the same on every replay.
 */
import { setCurrentDetails } from '@temporalio/workflow';
import { stepOf } from '../../domain/approval';
import type { DecisionRecord } from '../../domain/decision';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';

/** Evidence lines shown; the rest is in the `status` query and the report. */
const TOP_EVIDENCE = 5;

export function showDetails(state: IncidentState, runbook: RunbookConfig | undefined, pending: DecisionRecord | null): void {
  setCurrentDetails(incidentDetails(state, runbook, pending));
}

/** The details' Markdown; `pending` is a decision accepted for the step the incident still waits at. */
export function incidentDetails(state: IncidentState, runbook: RunbookConfig | undefined, pending: DecisionRecord | null = null): string {
  const target = state.target ? `${state.target.namespace}/${state.target.deployment}` : 'target not resolved';
  const lines = [
    `**${state.outcome ? `Closed: ${state.outcome}` : `Phase: ${state.phase}`}** · ${target} · runbook \`${state.runbookId}\`${state.dryRun ? ' · dry run' : ''}`,
  ];
  const c = state.classification;
  if (c) {
    lines.push('', `**Class:** \`${c.class}\`${c.procedure ? ` — procedure ${c.procedure}` : ' — no procedure: a human diagnoses'}`, `**Action:** ${c.action}`);
    if (c.evidence.length) {
      lines.push('', '**Evidence**', ...c.evidence.slice(0, TOP_EVIDENCE).map((e) => `- \`${e.source}\` ${oneLine(e.text)}`));
      if (c.evidence.length > TOP_EVIDENCE) lines.push(`- … ${c.evidence.length - TOP_EVIDENCE} more in the \`status\` query`);
    }
  }
  if (state.prerequisite) lines.push('', `**Prerequisite to confirm before approving:** ${state.prerequisite}`);
  const decision = pending ?? state.decision;
  if (decision) lines.push('', `**Decision:** ${decision.decision} (${decision.step}) by ${decision.by} via ${decision.channel} at ${decision.at}`);
  const pr = state.pullRequest;
  if (pr && !pr.dryRun) lines.push('', `**PR:** [#${pr.number}](${pr.url}) ${pr.merged ? 'merged' : pr.closed ? 'closed' : 'open'}`);
  if (state.argoSync) lines.push(`**Argo CD:** ${state.argoSync.application} ${state.argoSync.status}/${state.argoSync.health}`);
  if (state.verification) lines.push(`**Verification:** ${state.verification.ok ? 'passed' : 'failed'} — ${oneLine(state.verification.detail)}`);
  if (state.refusals.length) lines.push(`**Refused decisions:** ${state.refusals.length + state.refusalsDropped} (see the \`status\` query)`);

  const step = state.outcome || pending ? null : stepOf(state.phase);
  if (step && runbook) lines.push('', ...howToDecide(state, runbook, step));
  const hold = state.resends;
  if (hold && !hold.ended) {
    lines.push('', `**Holding re-sends** until ${hold.until}: ${hold.count} so far. The alert resolving, an alert this incident has not seen, or \`agentruns start\` opens a new incident.`);
  } else if (hold?.ended) {
    lines.push('', `**Re-sends after the close:** ${hold.count}; the hold ended (${hold.ended.why}) at ${hold.ended.at}.`);
  }
  if (state.outcome) lines.push('', `The whole story: \`agentruns report ${state.workflowId}\` (also posted on the PR and in the Slack thread).`);
  return lines.join('\n');
}

function howToDecide(state: IncidentState, runbook: RunbookConfig, step: 'restart' | 'rollback'): string[] {
  const what = step === 'restart' ? 'the restart' : 'the rollback (a revert PR)';
  if (!runbook.approval.channels.includes('temporal')) {
    return [`### Waiting for a decision on ${what}`, `This runbook does not take decisions from the Temporal UI (channels: ${runbook.approval.channels.join(', ')}).`];
  }
  const approve = {
    by: 'YOUR-APPROVER-ID',
    runId: state.runId,
    step,
    ...(step === 'restart' && state.prerequisite ? { prerequisiteConfirmed: true } : {}),
    comment: 'why',
  };
  const reject = { by: 'YOUR-APPROVER-ID', runId: state.runId, step, comment: 'why' };
  const pinned = runbook.approvers.filter((a) => a.temporalIdentities).map((a) => a.id);
  return [
    `### Approve or reject ${what} from this page`,
    `**More Actions → Send a Signal**, signal \`approve\` (or \`reject\`), encoding \`json/plain\`, Data:`,
    '```json',
    JSON.stringify(approve),
    '```',
    'or, to reject:',
    '```json',
    JSON.stringify(reject),
    '```',
    `\`by\` is one of: ${runbook.approvers.map((a) => `\`${a.id}\``).join(', ')}.` +
      (state.prerequisite && step === 'restart' ? ' `prerequisiteConfirmed: true` states that the prerequisite above is done.' : ''),
    ...(pinned.length ? [`${pinned.map((id) => `\`${id}\``).join(', ')} must decide through the CLI or Slack (their Temporal identity is pinned; the UI sends none).`] : []),
  ];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 240);
}
