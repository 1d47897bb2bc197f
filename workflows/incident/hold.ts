/**
 * Phase 6 — hold re-sends: an incident that closed without changing anything (needs-human: a human
 * must act; healthy-no-action: there was nothing to do) stays open to Alertmanager's re-sends of its
 * alert for the runbook's `timeouts.resendHold`. Each `repeat_interval` is then one more count on
 * this incident's record — and one reply in its Slack thread — not a new incident with a new
 * diagnosis and a new Slack post every few minutes (issue: 46 incidents for 20 targets in a storm).
 *
 * The hold ends when its window passes or the alert resolves: the next firing opens a new incident
 * as before. It gives way to a new incident at once when something changed — an alert this incident
 * never saw, or a start by hand — by continuing as new: the same workflow ID (still one incident per
 * target), a new run, the alert that changed things as its trigger.
 *
 * Not held: a dry run, an incident that opened a PR or restarted anything (a new alert after a
 * change is news), and incidents begun before this phase (no marker: they close as they always did).
 */
import { allHandlersFinished, condition, makeContinueAsNewFunc, patched, workflowInfo } from '@temporalio/workflow';
import { clip } from '../../domain/bounds';
import { durationMs } from '../../domain/duration';
import { alertKey, type AlertInfo, type IncidentInput, type IncidentState, type IncidentTrigger, type Outcome, type ResendHold } from '../../domain/incident';
import { resendHoldReply } from '../../domain/slack-replies';
import { runbookKey, targetKey } from '../../domain/search-attributes';
import { notify } from './activities';
import { failureText, type Incident } from './context';

export const RESEND_HOLD_PATCH = 'agentruns-resend-hold';

const HELD_OUTCOMES: ReadonlySet<Outcome> = new Set<Outcome>(['needs-human', 'healthy-no-action']);

/** Whether a closed incident holds its alert's re-sends (before the marker is asked for). */
function holds(incident: Incident): boolean {
  const { state } = incident;
  const window = incident.resolved?.runbook.timeouts.resendHold;
  return (
    !!window &&
    window !== 'off' &&
    !state.dryRun &&
    state.outcome !== null &&
    HELD_OUTCOMES.has(state.outcome) &&
    !state.pullRequest &&
    !state.restart &&
    state.resolvedAt === undefined
  );
}

/** A start by hand (`agentruns start`): the CLI's alert names its source. Always a new incident. */
function byHand(alert: AlertInfo): boolean {
  return alert.labels.source === 'cli';
}

interface Ending {
  why: NonNullable<ResendHold['ended']>['why'];
  detail?: string;
  /** For a new incident: what starts it. */
  trigger?: IncidentTrigger;
}

/**
 * Holds the closed incident's re-sends (see above) and returns its final state; or continues as
 * new when a change opens a new incident.
 */
export async function holdResends(incident: Incident): Promise<IncidentState> {
  const { state } = incident;
  if (!holds(incident) || !patched(RESEND_HOLD_PATCH)) return state;
  const windowMs = durationMs(incident.r.runbook.timeouts.resendHold);
  const hold: ResendHold = { until: new Date(Date.now() + windowMs).toISOString(), count: 0 };
  state.resends = hold;
  const known = incident.firedBeforeClose;
  if (state.trigger.alert) known.add(alertKey(state.trigger.alert));

  let ending: Ending | null = null;
  let replyDue = false;
  incident.holding = (status, alert) => {
    if (ending) return;
    const at = new Date().toISOString();
    if (status === 'resolved') ending = { why: 'resolved' };
    else if (byHand(alert)) ending = { why: 'new-incident', detail: `started by hand by ${alert.labels.by ?? 'someone'}`, trigger: { source: 'cli', ...(alert.labels.by ? { by: alert.labels.by } : {}) } };
    else if (!known.has(alertKey(alert))) ending = { why: 'new-incident', detail: `an alert this incident had not seen (${alert.alertname ?? alert.labels.alertname ?? 'unnamed'})`, trigger: { source: 'alertmanager', alert } };
    else {
      hold.count += alert.repeats ?? 1;
      hold.lastAt = at;
      if (hold.reply === undefined) replyDue = true;
    }
    incident.showDetails();
  };
  for (const event of incident.sinceClose.splice(0)) incident.holding(event.status, event.alert);
  incident.showDetails();

  for (;;) {
    const left = Date.parse(hold.until) - Date.now();
    if (left <= 0 || !(await condition(() => replyDue || ending !== null, left))) break;
    if (ending) break;
    replyDue = false;
    await replyOnce(incident, hold);
  }
  const ended: Ending = ending ?? { why: 'window' };
  incident.holding = null;
  // A handler still publishing finishes before the run ends (or continues as new).
  await condition(allHandlersFinished);
  hold.ended = { at: new Date().toISOString(), why: ended.why, ...(ended.detail ? { detail: clip(ended.detail, 300) } : {}) };
  if (ended.why === 'new-incident') incident.note(`a new incident opened from this one: ${ended.detail ?? ''}`);
  incident.showDetails();
  if (hold.count > 0 || ended.why === 'new-incident') await incident.publish();
  if (ended.trigger) await reopen(incident, ended.trigger, ended.detail ?? '');
  return state;
}

/** The one thread reply of the hold, at its first re-send, and the message updated with the count. */
async function replyOnce(incident: Incident, hold: ResendHold): Promise<void> {
  const { state } = incident;
  hold.reply = null;
  if (state.slack) {
    try {
      hold.reply = await notify.postThreadReply({ thread: state.slack, workflowId: state.workflowId, runId: state.runId, key: 'resend-hold', text: resendHoldReply(state) });
    } catch (err) {
      incident.note(`the Slack reply about re-sends could not be posted: ${failureText(err)}`);
    }
  }
  await incident.publish();
}

/** A new incident of the same target: a new run of this workflow ID, with the search attributes of a fresh start. */
async function reopen(incident: Incident, trigger: IncidentTrigger, why: string): Promise<never> {
  const { state } = incident;
  const input: IncidentInput = { runbookId: state.runbookId, trigger: { ...trigger, reopened: `${why}, after run ${workflowInfo().runId} closed as ${state.outcome}` } };
  const next = makeContinueAsNewFunc<(input: IncidentInput) => Promise<IncidentState>>({
    typedSearchAttributes: [
      { key: runbookKey, value: incident.r.runbook.id },
      { key: targetKey, value: `${incident.r.runbook.target.namespace}/${incident.r.runbook.target.deployment}` },
    ],
  });
  return next(input);
}

/**
 * The first moves of an incident opened from a hold: the alert that opened it is recorded as its
 * first firing event (no signal-with-start delivered it to this run), and why it opened is noted.
 */
export function openedFromHold(incident: Incident, input: IncidentInput): void {
  if (!workflowInfo().continuedFromExecutionRunId) return;
  const trigger = input?.trigger;
  const alert = trigger?.alert ?? { labels: { source: 'cli', ...(trigger?.by ? { by: trigger.by } : {}) } };
  incident.recordAlert('firing', alert);
  if (typeof trigger?.reopened === 'string') incident.note(`opened: ${clip(trigger.reopened, 400)}`);
}
