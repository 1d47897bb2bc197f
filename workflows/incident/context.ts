/**
 * One incident's working set, passed to every phase: its state (what the `status` query returns and
 * the workflow returns at the end — the audit record), the runbook the worker resolved for it, and
 * the few moves every phase makes — enter a phase, note something, publish to Slack, close.
 *
 * Everything kept is bounded (domain/bounds.ts): notes and refusals are capped and counted.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, log, patched, TimeoutFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { boundAlert, clip, pushCapped, STATE_BOUNDS } from '../../domain/bounds';
import { diagnosisTarget } from '../../domain/collect-diagnosis';
import type { DecisionChannel, DecisionRecord } from '../../domain/decision';
import type { DiagnosisTarget } from '../../domain/diagnosis';
import { alertKey, openingState, type AlertInfo, type IncidentInput, type IncidentState, type Outcome, type Phase } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { outcomeKey } from '../../domain/search-attributes';
import { notify } from './activities';
import { showDetails } from './details';

/** The runbook and what follows from it, once the worker resolved it. */
export interface Resolved {
  runbook: RunbookConfig;
  target: DiagnosisTarget;
  temporalUiUrl?: string;
  /** Where this incident's GitOps change lives: its own branch per run, in the runbook's repository. */
  change: {
    workflowId: string;
    runId: string;
    owner: string;
    repo: string;
    baseBranch: string;
    deploymentPath: string;
  };
}

/** Marks incidents that post their report (PR comment, Slack thread reply) at close. */
export const INCIDENT_REPORT_PATCH = 'agentruns-incident-report';

/** Marks incidents whose steps (decision, PR, merge, sync) each add a short reply in the Slack thread. */
export const STEP_REPLIES_PATCH = 'agentruns-step-replies';

export class Incident {
  readonly state: IncidentState;
  /** Set by the resolve phase; every later phase runs only once it is. */
  resolved: Resolved | null = null;
  /** The decision accepted for the step the incident waits at; cleared when a new step opens. */
  pending: DecisionRecord | null = null;
  /** After a close that changed nothing: what takes the alert's re-sends (./hold.ts). */
  holding: ((status: 'firing' | 'resolved', alert: AlertInfo) => void) | null = null;
  /** The alerts (by {@link alertKey}) that fired before the close: a hold attaches their re-sends only. */
  readonly firedBeforeClose = new Set<string>();
  /** Alert events that came after the close and before a hold took over (while the close published). */
  readonly sinceClose: { status: 'firing' | 'resolved'; alert: AlertInfo }[] = [];

  constructor(input: IncidentInput) {
    const info = workflowInfo();
    this.state = openingState({
      workflowId: info.workflowId,
      runId: info.runId,
      runbookId: typeof input?.runbookId === 'string' ? clip(input.runbookId, 200) : '(none)',
      trigger: { source: 'cli' },
      dryRun: input?.dryRun === true,
      startedAt: new Date().toISOString(),
    });
  }

  /** The resolved runbook; a phase that needs it runs after resolution, so its absence is a bug. */
  get r(): Resolved {
    if (!this.resolved) throw new Error('the runbook is not resolved yet');
    return this.resolved;
  }

  resolve(runbook: RunbookConfig, temporalUiUrl: string | undefined): void {
    const info = workflowInfo();
    this.resolved = {
      runbook,
      target: diagnosisTarget(runbook),
      ...(temporalUiUrl ? { temporalUiUrl } : {}),
      change: {
        workflowId: info.workflowId,
        runId: info.firstExecutionRunId,
        owner: runbook.gitops.owner,
        repo: runbook.gitops.repo,
        baseBranch: runbook.gitops.baseBranch,
        deploymentPath: runbook.gitops.deploymentPath,
      },
    };
    this.state.target = { namespace: runbook.target.namespace, deployment: runbook.target.deployment };
  }

  /**
   * Records an alert event (bounded; a signal the ingress coalesced counts for every delivery it
   * stands for) and hands it to the hold of re-sends, if the incident closed into one. True when it
   * changes what the Slack message says: the alert resolved, or fires again after resolving.
   */
  recordAlert(status: 'firing' | 'resolved', alert: unknown): boolean {
    const { state } = this;
    const at = new Date().toISOString();
    const wasResolved = state.resolvedAt !== undefined;
    const bounded = boundAlert(alert);
    pushCapped(state.alerts, { status, at, alert: bounded }, STATE_BOUNDS.alertEvents);
    state.alertCounts[status] += bounded.repeats ?? 1;
    if (status === 'resolved') state.resolvedAt = at;
    else delete state.resolvedAt;
    if (status === 'firing' && state.phase !== 'closed' && this.firedBeforeClose.size < 1000) this.firedBeforeClose.add(alertKey(bounded));
    if (this.holding) this.holding(status, bounded);
    else if (this.state.phase === 'closed' && this.sinceClose.length < STATE_BOUNDS.alertEvents) this.sinceClose.push({ status, alert: bounded });
    return status === 'resolved' || wasResolved;
  }

  enter(phase: Phase): void {
    const now = new Date().toISOString();
    const previous = this.state.timings[this.state.phase];
    if (previous && !previous.endedAt) {
      previous.endedAt = now;
      previous.ms = Date.parse(now) - Date.parse(previous.startedAt);
    }
    this.state.phase = phase;
    if (phase !== 'closed') this.state.timings[phase] = { startedAt: now };
    this.showDetails();
  }

  /** Re-renders the Temporal UI's current details (./details.ts) from the state: every change of phase, decision, refusal or publish. */
  showDetails(): void {
    showDetails(this.state, this.resolved?.runbook, this.pending);
  }

  note(text: string): void {
    const line = clip(text, STATE_BOUNDS.noteBytes);
    if (this.state.notes.includes(line)) return;
    this.state.notesDropped += pushCapped(this.state.notes, line, STATE_BOUNDS.notes);
  }

  refuse(refusal: { by: string; decision: 'approve' | 'reject'; channel: DecisionChannel | 'reported'; reason: string; identity?: string | null }): void {
    this.state.refusalsDropped += pushCapped(
      this.state.refusals,
      {
        by: clip(refusal.by || '(missing)', 200),
        decision: refusal.decision,
        channel: refusal.channel,
        ...(refusal.identity !== undefined ? { identity: refusal.identity === null ? null : clip(refusal.identity, 200) } : {}),
        reason: clip(refusal.reason, STATE_BOUNDS.refusalReasonBytes),
        at: new Date().toISOString(),
      },
      STATE_BOUNDS.refusals,
    );
    this.showDetails();
    log.warn('decision refused', { decision: refusal.decision, by: refusal.by, channel: refusal.channel, reason: refusal.reason });
  }

  /** The Slack publishes so far, chained: one at a time, in the order they were asked for. */
  private publishing: Promise<void> = Promise.resolve();

  /**
   * Posts the incident to the runbook's Slack channel the first time, then updates that message.
   * Publishes run one at a time, in order, so an update asked for by a message handler (an alert
   * resolving while the incident waits) never races the main flow's post or overtakes its update.
   */
  publish(): Promise<void> {
    this.showDetails();
    const next = this.publishing.then(() => this.publishNow());
    this.publishing = next;
    return next;
  }

  private async publishNow(): Promise<void> {
    const runbook = this.resolved?.runbook;
    // A dry run is a rehearsal, and a refused start has no channel of its own: neither posts.
    if (!runbook?.slack || this.state.dryRun) return;
    const temporalUiUrl = this.resolved?.temporalUiUrl;
    try {
      // The message never shows the raw diagnosis; leaving it out keeps every activity input small.
      const view: IncidentState = { ...this.state, diagnosis: null };
      this.state.slack = this.state.slack
        ? ((await notify.updateIncidentMessage({ ...this.state.slack, state: view, temporalUiUrl })) ?? this.state.slack)
        : await notify.postIncidentMessage(view, { channel: runbook.slack.channel, temporalUiUrl });
    } catch (err) {
      this.note(`Slack update failed: ${failureText(err)}`);
    }
  }

  /**
   * A short reply in the incident's Slack thread for a step it took (`key`: once per run, found
   * again by its metadata on a retry). Best effort, like every Slack call; in order with the
   * message's updates. None without a thread, in a dry run, or for incidents begun before this.
   */
  replyStep(key: string, text: string): Promise<void> {
    const next = this.publishing.then(async () => {
      const thread = this.state.slack;
      if (!thread || this.state.dryRun || !patched(STEP_REPLIES_PATCH)) return;
      try {
        await notify.postThreadReply({ thread, workflowId: this.state.workflowId, runId: this.state.runId, key, text });
      } catch (err) {
        this.note(`Slack reply (${key}) failed: ${failureText(err)}`);
      }
    });
    this.publishing = next;
    return next;
  }

  async close(outcome: Outcome, note?: string): Promise<IncidentState> {
    if (note) this.note(note);
    this.enter('closed');
    this.state.outcome = outcome;
    this.state.closedAt = new Date().toISOString();
    upsertSearchAttributes([{ key: outcomeKey, value: outcome }]);
    log.info('incident closed', { outcome });
    await this.publish();
    await this.postReport();
    return this.state;
  }

  /**
   * The incident report (domain/report.ts), built by the activity from this run's history, posted as
   * a comment on the PR and a reply in the Slack thread — where there is one. Best effort, like Slack.
   */
  private async postReport(): Promise<void> {
    const change = this.resolved?.change;
    const pr = this.state.pullRequest;
    const onPr = !!pr && !pr.dryRun && pr.number > 0;
    if (!change || this.state.dryRun || (!onPr && !this.state.slack)) return;
    // Incidents begun before the report (no marker) close as they always did.
    if (!patched(INCIDENT_REPORT_PATCH)) return;
    try {
      this.state.report = await notify.postIncidentReport({ state: { ...this.state, diagnosis: null }, owner: change.owner, repo: change.repo });
    } catch (err) {
      this.note(`the incident report could not be posted: ${failureText(err)}`);
    }
  }
}

/**
 * Why something failed, for the state and the notes: the activity that failed, the failure it
 * reported — whose message names the operation and the HTTP status (activities/errors.ts), not just
 * the innermost cause ("Server Error") — its type, the attempt it failed on (recorded by the
 * activity's keep-alive) and why Temporal stopped retrying. E.g.
 * `openRestartPullRequest: GitHub open pull request … → main: HTTP 500: Server Error (UpstreamError; attempt 3, retries exhausted)`.
 */
export function failureText(err: unknown): string {
  const { activity, text } = failureParts(err);
  return activity ? `${activity}: ${text}` : text;
}

/**
 * A diagnosis source's failure as {@link failureText} tells it, without the activity's name: the
 * source is the field it is stored in (and `checkKafkaCredentials: …` would read to the redaction
 * rules as a credential followed by its value).
 */
export function sourceFailureText(err: unknown): string {
  return failureParts(err).text;
}

function failureParts(err: unknown): { activity?: string; text: string } {
  let current: unknown = err;
  let activity: string | undefined;
  let retryState: string | undefined;
  // Past Temporal's wrappers (ActivityFailure, ChildWorkflowFailure) to the failure itself.
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (current instanceof ActivityFailure) activity = current.activityType;
    retryState = current.retryState;
    if (!(current.cause instanceof Error)) break;
    current = current.cause;
  }
  let message = current instanceof Error ? current.message : String(current);
  // A timeout keeps the last attempt's own failure as its cause: that says what was going on.
  if (current instanceof TimeoutFailure && current.cause instanceof Error) message = `${message}; last failure: ${current.cause.message}`;
  const facts: string[] = [];
  if (current instanceof ApplicationFailure && current.type) facts.push(current.type);
  if (current instanceof TimeoutFailure && current.timeoutType) facts.push(`${timeoutName(current.timeoutType)} timeout`);
  const attempt = current instanceof ApplicationFailure ? attemptOf(current.details) : undefined;
  if (attempt !== undefined) facts.push(`attempt ${attempt}`);
  const why = retryState ? RETRY_STATES[retryState] : undefined;
  if (why) facts.push(why);
  return { activity, text: facts.length ? `${message} (${facts.join('; ')})` : message };
}

const RETRY_STATES: Record<string, string | undefined> = {
  NON_RETRYABLE_FAILURE: 'not retryable',
  MAXIMUM_ATTEMPTS_REACHED: 'retries exhausted',
  TIMEOUT: 'out of time for retries',
};

function timeoutName(type: string): string {
  return type.replace(/^TIMEOUT_TYPE_/, '').toLowerCase().replace(/_/g, '-');
}

function attemptOf(details: readonly unknown[] | undefined | null): number | undefined {
  for (const detail of details ?? []) {
    const attempt = typeof detail === 'object' && detail !== null ? (detail as { attempt?: unknown }).attempt : undefined;
    if (typeof attempt === 'number') return attempt;
  }
  return undefined;
}
