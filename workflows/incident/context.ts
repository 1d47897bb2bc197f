/**
 * One incident's working set, passed to every phase: its state (what the `status` query returns and
 * the workflow returns at the end — the audit record), the runbook the worker resolved for it, and
 * the few moves every phase makes — enter a phase, note something, publish to Slack, close.
 *
 * Everything kept is bounded (domain/bounds.ts): notes and refusals are capped and counted.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, log, TimeoutFailure, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { clip, pushCapped, STATE_BOUNDS } from '../../domain/bounds';
import { diagnosisTarget } from '../../domain/collect-diagnosis';
import type { DecisionChannel, DecisionRecord } from '../../domain/decision';
import type { DiagnosisTarget } from '../../domain/diagnosis';
import { openingState, type IncidentInput, type IncidentState, type Outcome, type Phase } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { outcomeKey } from '../../domain/search-attributes';
import { notify } from './activities';

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

export class Incident {
  readonly state: IncidentState;
  /** Set by the resolve phase; every later phase runs only once it is. */
  resolved: Resolved | null = null;
  /** The decision accepted for the step the incident waits at; cleared when a new step opens. */
  pending: DecisionRecord | null = null;

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

  enter(phase: Phase): void {
    const now = new Date().toISOString();
    const previous = this.state.timings[this.state.phase];
    if (previous && !previous.endedAt) {
      previous.endedAt = now;
      previous.ms = Date.parse(now) - Date.parse(previous.startedAt);
    }
    this.state.phase = phase;
    if (phase !== 'closed') this.state.timings[phase] = { startedAt: now };
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

  async close(outcome: Outcome, note?: string): Promise<IncidentState> {
    if (note) this.note(note);
    this.enter('closed');
    this.state.outcome = outcome;
    this.state.closedAt = new Date().toISOString();
    upsertSearchAttributes([{ key: outcomeKey, value: outcome }]);
    log.info('incident closed', { outcome });
    await this.publish();
    return this.state;
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
  const text = facts.length ? `${message} (${facts.join('; ')})` : message;
  return activity ? `${activity}: ${text}` : text;
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
