/**
 * The incident report: one incident told from its workflow history — the alert(s), each diagnosis
 * source and what it found, the classification and its evidence, who decided through which channel
 * and when, refusals, the PR, the merge, the Argo CD sync, the verification and the outcome — each
 * step with its time from the start and how long it took. A postmortem can start from it.
 *
 * Pure: it reads a history as `handle.fetchHistory()` returns it (or `historyFromJSON` of a saved
 * one), decodes payloads with the default data converter, and takes the incident's final state
 * when known (the run's result, or the state the closing workflow passes to its report activity)
 * for what only the state holds (the outcome, refusals, notes). Rendered as Markdown (GitHub, the
 * CLI), plain text (the CLI, Slack's code block) or JSON. Every line is redacted again on the way
 * out: a failure message in the history may quote anything.
 */
import { defaultPayloadConverter, type Payload, type ProtoFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { Classification } from './classification';
import type { DecisionRecord } from './decision';
import type { DeploymentFacts, EventFact, GitOpsFacts, KafkaCredentials, LogTail, PodFacts, ProbeResult } from './diagnosis';
import type { IncidentInput, IncidentState, PullRequestRecord, VerificationRecord } from './incident';
import { redact } from './redact';

type HistoryEvent = NonNullable<History['events']>[number];
type Payloads = { payloads?: Payload[] | null } | null | undefined;

export type ReportStepKind = 'alert' | 'diagnosis' | 'classification' | 'decision' | 'refusal' | 'action' | 'verification' | 'notice' | 'outcome';

export interface ReportStep {
  /** ISO time the step began. */
  at: string;
  /** Milliseconds from the incident's start. */
  offsetMs: number;
  /** How long it took (an activity, from scheduled to its result; a wait, from start to end). */
  durationMs?: number;
  kind: ReportStepKind;
  /** What happened, in the runbook's words. */
  step: string;
  /** What it found or did. */
  result: string;
  ok: boolean;
}

export interface IncidentReport {
  workflowId: string;
  runId: string;
  runbookId: string;
  target: string | null;
  startedAt: string;
  closedAt: string | null;
  durationMs: number | null;
  outcome: string | null;
  trigger: string;
  classification: { class: string; procedure: string | null; action: string; evidence: string[] } | null;
  decision: (Pick<DecisionRecord, 'decision' | 'by' | 'step' | 'channel' | 'at'> & { comment?: string; identity: string | null; afterMs: number }) | null;
  refusals: Array<{ by: string; decision: string; channel: string; reason: string; at: string }>;
  pullRequest: { number: number; url: string; merged: boolean; mergedAt?: string } | null;
  verification: { ok: boolean; detail: string } | null;
  /** Per phase, how long the incident was in it (from the state's timings). */
  phases: Array<{ phase: string; ms: number }>;
  timeline: ReportStep[];
  notes: string[];
}

/** Outcomes marked for attention in the timeline: nothing was fixed, or something went wrong. */
const NEEDS_ATTENTION: readonly string[] = ['failed', 'verification-failed', 'needs-human', 'expired', 'refused'];

/** Builds the report of one run from its history (and final state, when known). */
export function incidentReport(history: History, finalState?: IncidentState | null): IncidentReport {
  const events = history.events ?? [];
  const start = events[0]?.workflowExecutionStartedEventAttributes;
  if (!start) throw new Error('not an incident history: the first event is not WorkflowExecutionStarted');
  const t0 = timeOf(events[0]!);
  const input = first<IncidentInput>(start.input);
  const state = finalState ?? resultOf(events);

  const timeline: ReportStep[] = [];
  const add = (event: HistoryEvent, step: Omit<ReportStep, 'at' | 'offsetMs'>, endMs?: number) => {
    const at = timeOf(event);
    timeline.push({ at: iso(at), offsetMs: at - t0, ...(endMs !== undefined ? { durationMs: endMs - at } : {}), ...step });
  };

  add(events[0]!, { kind: 'alert', step: 'incident opened', result: triggerText(input), ok: true });

  const scheduled = new Map<string, { event: HistoryEvent; type: string; args: unknown[] }>();
  const timers = new Map<string, { event: HistoryEvent; summary: string }>();
  const updates = new Map<string, { by: string; decision: string }>();
  let signalIdentity: string | null = null;
  for (const event of events) {
    const id = String(event.eventId ?? '');
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal) {
      const arg = first<Record<string, unknown>>(signal.input);
      const name = signal.signalName ?? '';
      if (name === 'alertsFired') {
        const alerts = (Array.isArray(arg) ? arg : []) as Array<{ alertname?: string; labels?: Record<string, string> } | undefined>;
        const names = [...new Set(alerts.map((a) => a?.alertname ?? a?.labels?.alertname ?? 'alert'))].join(', ');
        add(event, { kind: 'alert', step: `alerts firing: ${alerts.length} (${names})`, result: alertLabels(alerts[0]?.labels), ok: false });
      } else if (name === 'alertFired' || name === 'alertResolved') {
        const alert = arg as { alertname?: string; labels?: Record<string, string> } | undefined;
        const alertname = alert?.alertname ?? alert?.labels?.alertname ?? 'alert';
        add(event, { kind: 'alert', step: name === 'alertFired' ? `alert firing: ${alertname}` : `alert resolved: ${alertname}`, result: alertLabels(alert?.labels), ok: name === 'alertResolved' });
      } else if (name === 'approve' || name === 'reject') {
        signalIdentity = signal.identity || null;
        add(event, { kind: 'decision', step: `\`${name}\` signal (Temporal UI / temporal CLI)`, result: `by ${str(arg?.by)} for step ${str(arg?.step)}; identity ${signal.identity || '(none)'}`, ok: true });
      } else if (name === 'decisionRefused') {
        add(event, { kind: 'refusal', step: `refusal reported by ${str(arg?.channel)}`, result: `${str(arg?.decision)} by ${str(arg?.by)}: ${str(arg?.reason)}`, ok: false });
      } else {
        add(event, { kind: 'notice', step: `signal \`${name}\``, result: '', ok: true });
      }
    }
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted) {
      const request = accepted.acceptedRequest;
      const arg = first<Record<string, unknown>>(request?.input?.args);
      const via = arg?.slack ? 'Slack (via the ingress)' : 'CLI';
      updates.set(request?.meta?.updateId ?? '', { by: str(arg?.by), decision: str(arg?.decision) });
      add(event, { kind: 'decision', step: `\`decide\` Update from ${via}`, result: `${str(arg?.decision)} by ${str(arg?.by)} for step ${str(arg?.step)}; identity ${request?.meta?.identity || '(none)'}`, ok: true });
    }
    const completedUpdate = event.workflowExecutionUpdateCompletedEventAttributes;
    if (completedUpdate?.outcome?.failure) {
      const u = updates.get(completedUpdate.meta?.updateId ?? '');
      add(event, { kind: 'refusal', step: `decision refused${u ? ` (${u.decision} by ${u.by})` : ''}`, result: completedUpdate.outcome.failure.message ?? '', ok: false });
    }

    const activity = event.activityTaskScheduledEventAttributes;
    if (activity) scheduled.set(id, { event, type: activity.activityType?.name ?? '?', args: decodeAll(activity.input) });
    const done =
      event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes ?? event.activityTaskCanceledEventAttributes;
    if (done && !event.activityTaskStartedEventAttributes) {
      const from = scheduled.get(String(done.scheduledEventId ?? ''));
      if (from) {
        const completed = event.activityTaskCompletedEventAttributes;
        const failure = event.activityTaskFailedEventAttributes?.failure ?? event.activityTaskTimedOutEventAttributes?.failure;
        const told = completed
          ? describeActivity(from.type, from.args, first(completed.result))
          : { ...activityStep(from.type, from.args), result: `failed: ${failureMessage(failure) || (event.activityTaskCanceledEventAttributes ? 'cancelled' : 'timed out')}`, ok: false };
        add(from.event, told, timeOf(event));
      }
    }

    const timer = event.timerStartedEventAttributes;
    // The incident's only timer is the wait for a decision; histories before timer summaries name it so too.
    if (timer) {
      const ms = Number(timer.startToFireTimeout?.seconds ?? 0) * 1000;
      timers.set(timer.timerId ?? '', { event, summary: payloadText(event.userMetadata?.summary) ?? `wait for a decision (up to ${formatDuration(ms)})` });
    }
    const ended = event.timerFiredEventAttributes ?? event.timerCanceledEventAttributes;
    if (ended) {
      const from = timers.get(ended.timerId ?? '');
      if (from) add(from.event, { kind: 'notice', step: from.summary, result: event.timerFiredEventAttributes ? 'time ran out' : 'ended: a decision came in', ok: !event.timerFiredEventAttributes }, timeOf(event));
    }
  }

  const completion = events.at(-1);
  if (state?.outcome) {
    const at = state.closedAt ? Date.parse(state.closedAt) : completion ? timeOf(completion) : t0;
    timeline.push({ at: iso(at), offsetMs: at - t0, kind: 'outcome', step: `closed: ${state.outcome}`, result: state.notes.at(-1) ?? '', ok: !NEEDS_ATTENTION.includes(state.outcome) });
  }
  timeline.sort((a, b) => a.offsetMs - b.offsetMs);
  const closedAt = state?.closedAt ?? null;

  return {
    workflowId: start.workflowId ?? state?.workflowId ?? '',
    runId: start.originalExecutionRunId ?? state?.runId ?? '',
    runbookId: state?.runbookId ?? input?.runbookId ?? '',
    target: state?.target ? `${state.target.namespace}/${state.target.deployment}` : null,
    startedAt: iso(t0),
    closedAt,
    durationMs: closedAt ? Date.parse(closedAt) - t0 : null,
    outcome: state?.outcome ?? null,
    trigger: triggerText(input),
    classification: classificationOf(state?.classification ?? null),
    decision: state?.decision
      ? {
          decision: state.decision.decision,
          by: state.decision.by,
          step: state.decision.step,
          channel: state.decision.channel,
          at: state.decision.at,
          ...(state.decision.comment ? { comment: redact(state.decision.comment) } : {}),
          identity: state.decision.identity ?? (state.decision.channel === 'temporal' ? signalIdentity : null),
          afterMs: Date.parse(state.decision.at) - t0,
        }
      : null,
    refusals: (state?.refusals ?? []).map((r) => ({ by: r.by, decision: r.decision, channel: r.channel, reason: redact(r.reason), at: r.at })),
    pullRequest: prOf(state?.pullRequest ?? null),
    verification: state?.verification ? { ok: state.verification.ok, detail: redact(state.verification.detail) } : null,
    phases: Object.entries(state?.timings ?? {})
      .filter(([, t]) => t.ms !== undefined)
      .map(([phase, t]) => ({ phase, ms: t.ms! })),
    timeline: timeline.map((s) => ({ ...s, step: redact(s.step), result: redact(s.result) })),
    notes: (state?.notes ?? []).map(redact),
  };
}

/** The step an activity stands for, before its result is known. */
function activityStep(type: string, args: unknown[]): Pick<ReportStep, 'kind' | 'step'> {
  const a = (args[0] ?? {}) as Record<string, unknown>;
  const t = a as { namespace?: string; deployment?: string; health?: { readinessPath?: string; livenessPath?: string } };
  const pr = (a.pr as PullRequestRecord | undefined)?.number;
  switch (type) {
    case 'resolveRunbook':
      return { kind: 'notice', step: `resolve runbook ${str(a.runbookId)}` };
    case 'getDeploymentFacts':
      return { kind: 'diagnosis', step: `read Deployment ${t.namespace}/${t.deployment}` };
    case 'listPods':
      return { kind: 'diagnosis', step: `list pods of ${t.deployment}` };
    case 'listEvents':
      return { kind: 'diagnosis', step: `read events of ${t.deployment}` };
    case 'tailLogs':
      return { kind: 'diagnosis', step: `tail the logs of ${t.deployment}` };
    case 'probePods':
      return { kind: 'diagnosis', step: `probe ${t.health?.livenessPath ?? '/healthz'} and ${t.health?.readinessPath ?? '/readyz'} on ${t.deployment}-…` };
    case 'checkKafkaCredentials':
      return { kind: 'diagnosis', step: 'check the KafkaUser and its Secret (metadata only)' };
    case 'readGitOpsFacts':
      return { kind: 'diagnosis', step: `read ${str(a.deploymentPath)} in ${str(a.owner)}/${str(a.repo)}@${str(a.ref)}` };
    case 'classifyIncident':
      return { kind: 'classification', step: 'classify' };
    case 'lastRestartOfTarget':
      return { kind: 'diagnosis', step: 'earlier restarts of this target (cool-down)' };
    case 'authenticateDecision':
      return { kind: 'decision', step: 'authenticate the decision (identity Temporal recorded)' };
    case 'postIncidentMessage':
      return { kind: 'notice', step: 'post to Slack' };
    case 'updateIncidentMessage':
      return { kind: 'notice', step: 'update the Slack message' };
    case 'postThreadReply':
      return { kind: 'notice', step: `reply in the Slack thread (${str(a.key)})` };
    case 'postIncidentReport':
      return { kind: 'notice', step: 'post this report' };
    case 'lookAtTarget':
      return { kind: 'action', step: 'pre-flight: look at the target again before acting' };
    case 'openRestartPullRequest':
      return { kind: 'action', step: 'open the restart PR' };
    case 'mergePullRequest':
      return { kind: 'action', step: `merge PR #${pr ?? str(a.number)}` };
    case 'watchMerge':
      return { kind: 'action', step: `wait for merge of PR #${pr ?? '?'}` };
    case 'closePullRequest':
      return { kind: 'action', step: `close PR #${pr ?? '?'}` };
    case 'openRevertPullRequest':
      return { kind: 'action', step: `open the revert PR of #${pr ?? '?'}` };
    case 'syncArgoApplication':
      return { kind: 'action', step: `Argo CD sync of ${str(a.application)}` };
    case 'patchRestartedAt':
      return { kind: 'action', step: 'emergency restart (API patch)' };
    case 'verifyRestart':
      return { kind: 'verification', step: 'verify the rollout and readiness' };
    case 'watchStability':
      return { kind: 'verification', step: 'watch the new pods stay Ready without restarts' };
    case 'checkPromql':
      return { kind: 'verification', step: `status check: ${str(a.query)}` };
    case 'checkArgoOwnership':
      return { kind: 'action', step: 'check Argo CD applies the restart PR (ownership)' };
    default:
      return { kind: 'notice', step: type };
  }
}

/** The step with what its result says. */
function describeActivity(type: string, args: unknown[], result: unknown): Omit<ReportStep, 'at' | 'offsetMs'> {
  const base = activityStep(type, args);
  const told = (text: string, ok = true) => ({ ...base, result: text, ok });
  switch (type) {
    case 'resolveRunbook':
      return result ? told('resolved from the worker\'s config') : told('not a runbook this worker loaded: start refused', false);
    case 'getDeploymentFacts': {
      const d = result as DeploymentFacts;
      return told(`replicas ${d.replicas}, ready ${d.readyReplicas}, generation ${d.observedGeneration}/${d.generation}`, d.readyReplicas >= 1);
    }
    case 'listPods': {
      const pods = (result as PodFacts[]).filter((p) => !p.ignored);
      return told(pods.map((p) => `${p.name} ${p.phase}${p.ready ? ' ready' : ' not ready'}, ${p.restarts} restarts`).join('; ') || 'no pods', pods.some((p) => p.ready));
    }
    case 'listEvents': {
      const list = result as EventFact[];
      const warnings = list.filter((e) => e.type === 'Warning');
      return told(`${list.length} events, ${warnings.length} warnings${warnings[0] ? `: ${warnings[0].reason} — ${warnings[0].message}` : ''}`, warnings.length === 0);
    }
    case 'tailLogs': {
      const l = result as LogTail;
      return told(`${l.lines.length} lines kept from ${l.pod}/${l.container}${l.excerpt ? ` (${l.excerpt.totalLines} read)` : ''}`);
    }
    case 'probePods': {
      const probes = result as ProbeResult[];
      return told(probes.map((p) => `${p.path} ${p.status ?? 'unreachable'} on ${p.pod}${p.status !== 200 && p.body ? ` ${clipText(p.body, 100)}` : ''}`).join('; '), probes.every((p) => p.status === 200));
    }
    case 'checkKafkaCredentials': {
      const k = result as KafkaCredentials;
      return told(`KafkaUser ${k.kafkaUser.name} ${k.kafkaUser.found ? `found, Ready=${k.kafkaUser.ready}` : 'not found'}; ${k.missingSecrets.length ? `missing Secret ${k.missingSecrets.map((m) => m.secret).join(', ')}` : 'no missing Secret'}`, k.kafkaUser.found && k.missingSecrets.length === 0);
    }
    case 'readGitOpsFacts': {
      const g = result as GitOpsFacts | null;
      return g ? told(`replicas ${g.replicas ?? '-'}, restartedAt ${g.restartedAt ?? 'none'}, KAFKA_BOOTSTRAP ${g.kafkaBootstrap ?? '-'}`) : told('no GitOps reader configured');
    }
    case 'classifyIncident': {
      const c = result as Classification;
      return { ...base, step: `classified: ${c.class}${c.procedure ? ` (procedure ${c.procedure})` : ''}`, result: `${c.basis}: ${c.action}`, ok: c.procedure !== null || c.class === 'healthy' };
    }
    case 'lastRestartOfTarget': {
      const r = result as { runId: string; happenedAt: string } | null;
      return told(r ? `restart by run ${r.runId} at ${r.happenedAt}` : 'none within the cool-down');
    }
    case 'authenticateDecision':
      return told(`identity ${(result as { identity?: string | null })?.identity ?? '(none)'}`);
    case 'postIncidentMessage':
    case 'updateIncidentMessage':
    case 'postThreadReply':
      return told(result ? `message ${(result as { ts: string }).ts} in ${(result as { channel: string }).channel}` : 'Slack not configured');
    case 'lookAtTarget': {
      const l = result as { ready: boolean; replicas: number | null; detail: string };
      return told(`${l.ready ? 'Ready' : 'not ready'}, replicas ${l.replicas ?? '-'}: ${l.detail}`);
    }
    case 'openRestartPullRequest':
    case 'openRevertPullRequest': {
      const pr = result as PullRequestRecord;
      return { ...base, step: pr.dryRun ? `${base.step} (dry run)` : `opened PR #${pr.number}`, result: `${pr.url} ${pr.changes.join('; ')}`.trim(), ok: true };
    }
    case 'mergePullRequest':
    case 'closePullRequest': {
      const pr = result as PullRequestRecord;
      return told(pr.merged ? `merged${pr.mergedAt ? ` at ${pr.mergedAt}` : ''}${pr.mergeSha ? ` (${pr.mergeSha.slice(0, 12)})` : ''}` : pr.closed ? 'closed without merging' : 'open');
    }
    case 'watchMerge': {
      const w = result as { state: string; pr: PullRequestRecord };
      return told(w.state === 'merged' ? `merged${w.pr.mergedAt ? ` at ${w.pr.mergedAt}` : ''}` : w.state, w.state !== 'closed');
    }
    case 'syncArgoApplication': {
      const s = result as NonNullable<IncidentState['argoSync']>;
      return told(`${s.status}/${s.health}${s.operation ? `, operation ${s.operation}` : ''}${s.revision ? ` at ${s.revision.slice(0, 12)}` : ''}`, s.status === 'Synced');
    }
    case 'patchRestartedAt':
      return told('restartedAt patched on the Deployment (Argo CD shows drift until Git is reconciled)');
    case 'verifyRestart': {
      const v = result as VerificationRecord;
      return told(v.detail, v.ok);
    }
    case 'postIncidentReport':
      return told('posted');
    case 'watchStability': {
      const look = result as { stable: boolean; detail: string };
      return told(look.detail, look.stable);
    }
    case 'checkPromql': {
      const look = result as { holds: boolean; detail: string; unchecked?: string };
      return told(look.unchecked ?? look.detail, look.holds);
    }
    case 'checkArgoOwnership': {
      const o = result as { ok?: boolean; summary?: string } | null;
      return told(o?.summary ?? '', o?.ok !== false);
    }
    default:
      return told('');
  }
}

function classificationOf(c: Classification | null): IncidentReport['classification'] {
  if (!c) return null;
  return { class: c.class, procedure: c.procedure, action: c.action, evidence: c.evidence.map((e) => `[${e.source}] ${redact(e.text)}`) };
}

function prOf(pr: PullRequestRecord | null): IncidentReport['pullRequest'] {
  if (!pr || pr.dryRun || pr.number === 0) return null;
  return { number: pr.number, url: pr.url, merged: pr.merged, ...(pr.mergedAt ? { mergedAt: pr.mergedAt } : {}) };
}

function resultOf(events: HistoryEvent[]): IncidentState | null {
  return first<IncidentState>(events.at(-1)?.workflowExecutionCompletedEventAttributes?.result) ?? null;
}

function triggerText(input: IncidentInput | undefined): string {
  const trigger = input?.trigger;
  if (!trigger) return 'unknown trigger';
  const alert = trigger.alert?.alertname ?? trigger.alert?.labels.alertname;
  return `${trigger.source}${alert ? ` alert ${alert}` : ''}${trigger.by ? ` by ${trigger.by}` : ''}${input.dryRun ? ' (dry run)' : ''}`;
}

function alertLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function decodeAll(payloads: Payloads): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p);
    } catch {
      return undefined;
    }
  });
}

function first<T>(payloads: Payloads): T | undefined {
  return decodeAll(payloads)[0] as T | undefined;
}

function payloadText(payload: Payload | null | undefined): string | undefined {
  if (!payload) return undefined;
  const value = decodeAll({ payloads: [payload] })[0];
  return typeof value === 'string' ? value : undefined;
}

function failureMessage(failure: ProtoFailure | null | undefined): string {
  const parts: string[] = [];
  for (let f = failure; f && parts.length < 3; f = f.cause) if (f.message) parts.push(f.message);
  return parts.join(': ');
}

function timeOf(event: HistoryEvent): number {
  const t = event.eventTime;
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '?' : JSON.stringify(value);
}

function clipText(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `+1m 02.3s`, `+0.4s`: a time or a duration at a glance. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${(s - m * 60).toFixed(0).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function headline(r: IncidentReport): string {
  return `${r.target ?? r.workflowId}: ${r.outcome ?? 'still open'}${r.durationMs !== null ? ` in ${formatDuration(r.durationMs)}` : ''}`;
}

function facts(r: IncidentReport): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ['Incident', `${r.workflowId} (run ${r.runId}), runbook ${r.runbookId}`],
    ['Opened', `${r.startedAt} by ${r.trigger}`],
  ];
  if (r.closedAt) out.push(['Closed', `${r.closedAt}: ${r.outcome}`]);
  if (r.classification) out.push(['Class', `${r.classification.class}${r.classification.procedure ? ` (procedure ${r.classification.procedure})` : ''} — ${r.classification.action}`]);
  if (r.decision) {
    const d = r.decision;
    out.push(['Decision', `${d.decision} (${d.step}) by ${d.by} via ${d.channel}, identity ${d.identity ?? '(none)'}, at ${d.at} (${formatDuration(d.afterMs)} after the start)${d.comment ? `: “${d.comment}”` : ''}`]);
  }
  if (r.refusals.length) out.push(['Refusals', String(r.refusals.length)]);
  if (r.pullRequest) out.push(['PR', `#${r.pullRequest.number} ${r.pullRequest.url} ${r.pullRequest.merged ? `merged${r.pullRequest.mergedAt ? ` at ${r.pullRequest.mergedAt}` : ''}` : 'not merged'}`]);
  if (r.verification) out.push(['Verification', `${r.verification.ok ? 'passed' : 'failed'}: ${r.verification.detail}`]);
  if (r.phases.length) out.push(['Phases', r.phases.map((p) => `${p.phase} ${formatDuration(p.ms)}`).join(', ')]);
  return out;
}

/** Markdown: the PR comment and `agentruns report --markdown`. */
export function reportMarkdown(r: IncidentReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ');
  const lines = [
    `## Incident report — ${headline(r)}`,
    '',
    ...facts(r).map(([k, v]) => `- **${k}:** ${cell(v)}`),
  ];
  if (r.classification?.evidence.length) lines.push('', '**Evidence**', '', ...r.classification.evidence.map((e) => `- ${cell(e)}`));
  if (r.refusals.length) lines.push('', '**Refused decisions**', '', ...r.refusals.map((x) => `- ${x.at} ${cell(x.decision)} by ${cell(x.by)} via ${x.channel}: ${cell(x.reason)}`));
  lines.push('', '**Timeline**', '', '| at | took | step | result |', '|---:|---:|---|---|');
  for (const s of r.timeline) {
    lines.push(`| +${formatDuration(s.offsetMs)} | ${s.durationMs !== undefined ? formatDuration(s.durationMs) : ''} | ${s.ok ? '' : '⚠ '}${cell(s.step)} | ${cell(clipText(s.result, 300))} |`);
  }
  if (r.notes.length) lines.push('', '**Notes**', '', ...r.notes.map((n) => `- ${cell(n)}`));
  lines.push('', `_Built by AgentRuns from the workflow history of ${r.workflowId}; \`agentruns report ${r.workflowId}\` prints it again._`);
  return `${lines.join('\n')}\n`;
}

/** Plain text: `agentruns report` and the body of the Slack reply. */
export function reportText(r: IncidentReport, options: { maxResult?: number } = {}): string {
  const max = options.maxResult ?? 160;
  const width = Math.max(...r.timeline.map((s) => formatDuration(s.offsetMs).length)) + 1;
  const lines = [`Incident report — ${headline(r)}`, ...facts(r).map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`)];
  if (r.classification?.evidence.length) lines.push('Evidence:', ...r.classification.evidence.map((e) => `  ${clipText(e, max)}`));
  for (const x of r.refusals) lines.push(`Refused:      ${x.at} ${x.decision} by ${x.by} via ${x.channel}: ${x.reason}`);
  lines.push('Timeline:');
  for (const s of r.timeline) {
    const took = s.durationMs !== undefined ? ` (${formatDuration(s.durationMs)})` : '';
    lines.push(`  ${`+${formatDuration(s.offsetMs)}`.padStart(width)} ${s.ok ? ' ' : '!'} ${s.step}${took}${s.result ? ` — ${clipText(s.result, max)}` : ''}`);
  }
  for (const n of r.notes) lines.push(`Note:         ${n}`);
  return `${lines.join('\n')}\n`;
}

/** The Slack thread reply: the headline, then the text report in a code block (Slack's 40 000-character cap kept). */
export function reportSlack(r: IncidentReport): string {
  const body = reportText(r, { maxResult: 120 });
  const clipped = body.length > 38_000 ? `${body.slice(0, 38_000)}\n…` : body;
  return `*Incident report — ${headline(r)}*\n\`\`\`\n${clipped.replace(/```/g, "'''")}\`\`\``;
}
