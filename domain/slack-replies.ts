/**
 * The short replies an incident adds to its Slack thread (one per step, and the one of the hold of
 * re-sends after a close). Pure, and free of zod: the workflow renders them, and its bundle stays
 * small (domain/slack-message.ts, with its button schema, is the activities' and the ingress').
 */
import type { DecisionRecord } from './decision';
import type { IncidentState, PullRequestRecord } from './incident';
import { clip, escapeMrkdwn } from './mrkdwn';
import { redact } from './redact';

/** The short thread replies of an incident's steps (one each, in the order taken). */
export const stepReplies = {
  decision: (d: Pick<DecisionRecord, 'decision' | 'step' | 'by' | 'channel' | 'comment'>): string =>
    `${d.decision === 'approve' ? ':white_check_mark: Approved' : ':no_entry: Rejected'}: the ${d.step} by ${escapeMrkdwn(clip(d.by, 100))} via ${d.channel}` +
    (d.comment ? ` — “${escapeMrkdwn(clip(redact(d.comment), 300))}”` : '') +
    '.',
  pullRequest: (pr: Pick<PullRequestRecord, 'number' | 'url'>, merge: 'auto' | 'wait', what = 'restart'): string =>
    `:git-pull-request: Opened the ${what} PR <${pr.url}|#${pr.number}>; ${merge === 'auto' ? 'merging it now' : 'waiting for a human to merge it'}.`,
  merged: (pr: Pick<PullRequestRecord, 'number' | 'url' | 'mergedAt'>): string => `:twisted_rightwards_arrows: PR <${pr.url}|#${pr.number}> merged${pr.mergedAt ? ` at ${pr.mergedAt}` : ''}.`,
  synced: (sync: { application: string; status: string; health: string; revision?: string }): string =>
    `:arrows_counterclockwise: Argo CD synced ${escapeMrkdwn(sync.application)} (the Deployment only): ${sync.status}/${sync.health}${sync.revision ? ` at ${sync.revision.slice(0, 12)}` : ''}; verifying the rollout.`,
};

/**
 * The thread reply at the first re-send after a close that changed nothing: why no new incident
 * opened for it, until when, and what would open one.
 */
export function resendHoldReply(state: IncidentState): string {
  const alert = state.trigger.alert?.alertname ?? state.alerts.find((a) => a.alert.alertname)?.alert.alertname ?? 'the alert';
  const until = state.resends?.until ?? '(unknown)';
  return (
    `:repeat: Alertmanager is still sending ${escapeMrkdwn(clip(alert, 100))}. This incident closed as *${state.outcome ?? 'closed'}*, so its re-sends until ${until} ` +
    'are counted here instead of opening new incidents. The alert resolving, an alert this incident has not seen, or `agentruns start` opens a new one.'
  );
}
