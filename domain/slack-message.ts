/**
 * The incident's Slack message as Block Kit, rendered from the `status` state alone: pure, so the
 * activity that posts it, the ingress that reads its buttons and the tests share one definition.
 *
 * The message shows the class, the procedure and its action, the top evidence lines (redacted again
 * here: the message leaves the cluster's trust boundary), the human prerequisite of procedures B/C,
 * links to the Temporal UI and the PR, and — only while the incident waits for a decision — Approve
 * and Reject buttons. Once a decision is taken or the incident closed, the buttons are gone and the
 * decision and outcome are shown instead, so a stale message can never be clicked into a second
 * decision (the workflow would refuse it anyway).
 *
 * Each button's `value` is JSON `{ workflowId, decision, prerequisiteConfirmed? }`, parsed back by
 * `parseDecisionButtonValue` with a schema: the value comes back from Slack as untrusted input.
 */
import type { KnownBlock } from '@slack/types';
import { z } from 'zod';
import type { IncidentState } from './incident';
import { clip, escapeMrkdwn } from './mrkdwn';
import { redact } from './redact';

export { escapeMrkdwn } from './mrkdwn';
export { resendHoldReply, stepReplies } from './slack-replies';

export const APPROVE_ACTION_ID = 'agentruns_approve';
export const REJECT_ACTION_ID = 'agentruns_reject';
export const DECISION_ACTION_IDS: readonly string[] = [APPROVE_ACTION_ID, REJECT_ACTION_ID];

/** Evidence lines shown in the message; the full list is in the Temporal UI. */
export const EVIDENCE_LINES_SHOWN = 5;
const EVIDENCE_LINE_MAX = 280;
/** Slack limits: header text 150, section text 3000, button value 2000, fallback text 4000 characters. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

export const decisionButtonValueSchema = z
  .object({
    workflowId: z.string().min(1).max(500),
    /** The incident run the message belongs to: a click on an old message never reaches a newer incident. */
    runId: z.string().min(1).max(100),
    decision: z.enum(['approve', 'reject']),
    /** The step the buttons were shown for (restart or rollback). */
    step: z.enum(['restart', 'rollback']),
    /** Set on the Approve button of procedures B/C: clicking it confirms the human prerequisite. */
    prerequisiteConfirmed: z.boolean().optional(),
  })
  .strict();
export type DecisionButtonValue = z.infer<typeof decisionButtonValueSchema>;

export function decisionButtonValue(value: DecisionButtonValue): string {
  return JSON.stringify(value);
}

/** Parses a button value sent back by Slack; a reason string when it is not one of ours. */
export function parseDecisionButtonValue(raw: string | undefined): { ok: true; value: DecisionButtonValue } | { ok: false; reason: string } {
  if (raw === undefined || raw === '') return { ok: false, reason: 'the button carries no value' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'the button value is not JSON' };
  }
  const result = decisionButtonValueSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, reason: `the button value is not a decision: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}` };
  }
  return { ok: true, value: result.data };
}

export interface SlackMessageOptions {
  /** Base URL of the Temporal Web UI, e.g. http://127.0.0.1:8233. No link when absent. */
  temporalUiUrl?: string;
  /** Temporal namespace, for the UI link; default `default`. */
  namespace?: string;
}

export interface SlackMessage {
  /** Fallback text for notifications and clients that cannot show blocks. */
  text: string;
  blocks: KnownBlock[];
}


/** Link to the workflow in the Temporal Web UI, or null when no UI URL is known. */
export function temporalUiLink(workflowId: string, options: SlackMessageOptions): string | null {
  if (!options.temporalUiUrl) return null;
  const base = options.temporalUiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(options.namespace ?? 'default')}/workflows/${encodeURIComponent(workflowId)}`;
}

/** True while the incident waits for a human decision that has not been taken. */
export function awaitsDecision(state: IncidentState): boolean {
  if (state.outcome !== null) return false;
  if (state.phase === 'awaiting-approval') return state.decision === null;
  if (state.phase === 'awaiting-rollback-approval') return !state.rollback?.decision;
  return false;
}

const PHASE_TEXT: Record<IncidentState['phase'], string> = {
  resolving: 'starting',
  diagnosing: 'diagnosing',
  'awaiting-approval': 'waiting for approval',
  'opening-pr': 'opening the restart PR',
  'awaiting-merge': 'waiting for the PR to be merged',
  syncing: 'syncing',
  verifying: 'verifying the rollout',
  'awaiting-rollback-approval': 'verification failed: waiting for a rollback decision',
  'rolling-back': 'rolling back',
  closed: 'closed',
};

const OUTCOME_EMOJI: Record<NonNullable<IncidentState['outcome']>, string> = {
  'healthy-no-action': ':white_check_mark:',
  rejected: ':no_entry_sign:',
  expired: ':hourglass:',
  remediated: ':white_check_mark:',
  'verification-failed': ':x:',
  'needs-human': ':raising_hand:',
  failed: ':x:',
  refused: ':no_entry:',
  'recovered-before-action': ':white_check_mark:',
};

/** `namespace/deployment`, or the runbook when the target is not known (a refused start). */
function targetName(state: IncidentState): string {
  return state.target ? `${state.target.namespace}/${state.target.deployment}` : `runbook ${state.runbookId}`;
}

function evidenceBlock(state: IncidentState): KnownBlock | null {
  const evidence = state.classification?.evidence ?? [];
  if (evidence.length === 0) return null;
  const lines = evidence
    .slice(0, EVIDENCE_LINES_SHOWN)
    .map((e) => `[${e.source}] ${clip(redact(e.text).replace(/\s+/g, ' ').trim(), EVIDENCE_LINE_MAX)}`)
    .map((line) => escapeMrkdwn(line).replace(/```/g, "'''"));
  const more = evidence.length > EVIDENCE_LINES_SHOWN ? `\n_${evidence.length - EVIDENCE_LINES_SHOWN} more in the Temporal UI_` : '';
  return { type: 'section', text: { type: 'mrkdwn', text: clip(`*Evidence*\n\`\`\`${lines.join('\n')}\`\`\`${more}`, SECTION_MAX) } };
}

function decisionText(state: IncidentState): string | null {
  const d = state.rollback?.decision ?? state.decision;
  if (!d) return null;
  const verb = d.decision === 'approve' ? 'Approved' : 'Rejected';
  const comment = d.comment ? ` — “${clip(redact(d.comment), 200)}”` : '';
  return `${verb} by *${escapeMrkdwn(d.by)}* via ${d.channel} at ${d.at}${escapeMrkdwn(comment)}`;
}

function buttons(state: IncidentState): KnownBlock {
  const rollback = state.phase === 'awaiting-rollback-approval';
  const prerequisite = !rollback && state.prerequisite ? state.prerequisite : null;
  const target = { workflowId: state.workflowId, runId: state.runId, step: rollback ? ('rollback' as const) : ('restart' as const) };
  const approveValue: DecisionButtonValue = { ...target, decision: 'approve', ...(prerequisite ? { prerequisiteConfirmed: true } : {}) };
  return {
    type: 'actions',
    block_id: 'agentruns_decision',
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION_ID,
        style: 'primary',
        text: { type: 'plain_text', text: rollback ? 'Approve rollback' : prerequisite ? 'Prerequisite done, approve' : 'Approve restart' },
        value: decisionButtonValue(approveValue),
        confirm: {
          title: { type: 'plain_text', text: rollback ? 'Roll back?' : 'Restart via GitOps?' },
          text: {
            type: 'mrkdwn',
            text: clip(
              prerequisite
                ? `You confirm that ${escapeMrkdwn(prerequisite)}. A PR will bump the restart annotation of ${targetName(state)}.`
                : rollback
                  ? `A PR will revert the restart of ${targetName(state)}.`
                  : `A PR will bump the restart annotation of ${targetName(state)}.`,
              300,
            ),
          },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      {
        type: 'button',
        action_id: REJECT_ACTION_ID,
        style: 'danger',
        text: { type: 'plain_text', text: rollback ? 'Keep as is' : 'Reject' },
        value: decisionButtonValue({ ...target, decision: 'reject' }),
      },
    ],
  };
}

/** The evidence gathered for the prerequisite (procedures B/C): what Git and the cluster say, for the human to weigh. */
function prerequisiteEvidenceText(state: IncidentState): string | null {
  const lines = state.prerequisiteEvidence?.summary ?? [];
  if (lines.length === 0) return null;
  const shown = lines.slice(0, 8).map((l) => `• ${escapeMrkdwn(clip(redact(l), EVIDENCE_LINE_MAX))}`);
  return `*Evidence for the prerequisite* (procedure ${state.prerequisiteEvidence!.procedure}; you still confirm it)\n${shown.join('\n')}`;
}

/** What changed since the diagnosis: the alert resolving while the incident waits, and the latest pre-flight. */
function presentText(state: IncidentState): string | null {
  const lines: string[] = [];
  if (state.resolvedAt && state.phase !== 'closed') {
    lines.push(`:large_green_circle: The alert resolved at ${state.resolvedAt} while this incident waits; the pre-flight re-checks readiness before anything is restarted.`);
  }
  const preflight = state.preflights.at(-1);
  if (preflight) lines.push(`*Pre-flight* (${preflight.at}): ${escapeMrkdwn(clip(redact(preflight.finding), 500))}`);
  const held = resendHoldText(state);
  if (held) lines.push(held);
  return lines.length ? lines.join('\n') : null;
}

/** What the hold of re-sends after the close counted, and how it ended (workflows/incident/hold.ts). */
function resendHoldText(state: IncidentState): string | null {
  const hold = state.resends;
  if (!hold || (hold.count === 0 && hold.ended?.why !== 'new-incident')) return null;
  const times = `${hold.count} re-send${hold.count === 1 ? '' : 's'} of the alert after the close attached here`;
  if (!hold.ended) return `:repeat: ${times} (held until ${hold.until}).`;
  const why = { window: `the hold ended at ${hold.ended.at}`, resolved: `the alert resolved at ${hold.ended.at}`, 'new-incident': `a new incident opened at ${hold.ended.at}` }[hold.ended.why];
  return `:repeat: ${times}; ${why}${hold.ended.detail ? `: ${escapeMrkdwn(clip(redact(hold.ended.detail), 300))}` : ''}.`;
}

/** Renders the incident's message from its state. Pure: same state, same message. */
export function renderIncidentMessage(state: IncidentState, options: SlackMessageOptions = {}): SlackMessage {
  const target = targetName(state);
  const cls = state.classification?.class ?? 'not classified yet';
  const procedure = state.classification?.procedure ?? null;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${target}: ${cls}`, HEADER_MAX) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Class*\n${escapeMrkdwn(cls)}` },
        { type: 'mrkdwn', text: `*Procedure*\n${procedure ?? 'none'}` },
        { type: 'mrkdwn', text: `*Phase*\n${PHASE_TEXT[state.phase]}` },
        { type: 'mrkdwn', text: `*Outcome*\n${state.outcome ? `${OUTCOME_EMOJI[state.outcome]} ${state.outcome}` : 'open'}` },
      ],
    },
  ];
  if (state.classification?.action) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Action*\n${escapeMrkdwn(redact(state.classification.action))}`, SECTION_MAX) } });
  }
  const notes = state.classification?.notes ?? [];
  if (notes.length > 0) {
    const shown = notes.slice(0, 3).map((n) => `• ${escapeMrkdwn(clip(redact(n), 300))}`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Notes*\n${shown.join('\n')}`, SECTION_MAX) } });
  }
  const evidence = evidenceBlock(state);
  if (evidence) blocks.push(evidence);
  if (state.prerequisite) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`:warning: *Before approving, a human must make sure that:* ${escapeMrkdwn(state.prerequisite)}`, SECTION_MAX) },
    });
  }
  const prerequisiteEvidence = prerequisiteEvidenceText(state);
  if (prerequisiteEvidence) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(prerequisiteEvidence, SECTION_MAX) } });

  const present = presentText(state);
  if (present) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(present, SECTION_MAX) } });

  const links: string[] = [];
  const ui = temporalUiLink(state.workflowId, options);
  if (ui) links.push(`<${ui}|Temporal UI: ${escapeMrkdwn(state.workflowId)}>`);
  else links.push(`Workflow \`${escapeMrkdwn(state.workflowId)}\``);
  if (state.pullRequest && !state.pullRequest.dryRun) links.push(`<${state.pullRequest.url}|PR #${state.pullRequest.number}>${state.pullRequest.merged ? ' (merged)' : ''}`);
  if (state.rollback?.pullRequest && !state.rollback.pullRequest.dryRun) {
    links.push(`<${state.rollback.pullRequest.url}|Rollback PR #${state.rollback.pullRequest.number}>`);
  }
  if (state.dryRun) links.push('_dry run: nothing is written_');
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(links.join('  ·  '), SECTION_MAX) }] });

  const decided = decisionText(state);
  if (awaitsDecision(state)) {
    blocks.push(buttons(state));
  } else if (decided || state.outcome) {
    const lines = [decided, state.outcome ? `*Outcome:* ${OUTCOME_EMOJI[state.outcome]} ${state.outcome}` : null];
    const lastNote = state.outcome ? state.notes.at(-1) : undefined;
    if (lastNote) lines.push(escapeMrkdwn(clip(redact(lastNote), 500)));
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.filter((l) => l !== null).join('\n'), SECTION_MAX) } });
  }

  const text = clip(
    `${target}: ${cls}${procedure ? ` (procedure ${procedure})` : ''} — ${state.outcome ?? PHASE_TEXT[state.phase]}`,
    4000,
  );
  return { text, blocks };
}
