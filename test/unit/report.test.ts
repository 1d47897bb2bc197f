/**
 * The incident report, rendered from the committed workflow histories (read only): what an on-call
 * engineer or a postmortem reads — the steps in order with their durations, who decided through
 * which channel, refusals, the PR, the outcome — and that nothing secret survives into it.
 */
import { readFileSync } from 'node:fs';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { describe, expect, it } from 'vitest';
import type { IncidentState } from '../../domain/incident';
import { incidentReport, reportMarkdown, reportSlack, reportText, type IncidentReport } from '../../domain/report';

const recorded = (outcome: string): History =>
  historyFromJSON(JSON.parse(readFileSync(`test/fixtures/histories/${outcome}.json`, 'utf8')));

const steps = (r: IncidentReport) => r.timeline.map((s) => s.step);
const stepMatching = (r: IncidentReport, pattern: RegExp) => {
  const found = r.timeline.find((s) => pattern.test(s.step));
  if (!found) throw new Error(`no step ${pattern} in:\n${steps(r).join('\n')}`);
  return found;
};

/** When an event happened, in ms, as the history says. */
function eventMs(history: History, predicate: (e: NonNullable<History['events']>[number]) => boolean): number {
  const event = history.events!.find(predicate)!;
  return Number(event.eventTime!.seconds) * 1000 + Math.floor((event.eventTime!.nanos ?? 0) / 1e6);
}

describe('incident report from a recorded history', () => {
  it('remediated 406: alert → every diagnosis source → class → CLI approval → PR → merge → Argo sync → verified → remediated, in that order', () => {
    const report = incidentReport(recorded('remediated'));
    expect(report.outcome).toBe('remediated');
    expect(report.target).toBe('rec-remediated/torghut-ws');
    const order = [
      /^incident opened$/,
      /^alert firing: TorghutWsNotReady$/,
      /^read Deployment rec-remediated\/torghut-ws$/,
      /^classified: alpaca_406_second_connection \(procedure A\)$/,
      /^`decide` Update from CLI$/,
      /^pre-flight/,
      /^opened PR #1$/,
      /^merge PR #1$/,
      /^Argo CD sync of torghut$/,
      /^verify the rollout and readiness$/,
      /^closed: remediated$/,
    ];
    const at = order.map((pattern) => report.timeline.indexOf(stepMatching(report, pattern)));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    // Every diagnosis source is there with what it found.
    for (const source of [/^list pods/, /^read events/, /^tail the logs/, /^probe \/healthz and \/readyz/, /^check the KafkaUser/, /^read argocd\/applications\/torghut\/ws\/deployment\.yaml/]) {
      expect(stepMatching(report, source).kind).toBe('diagnosis');
    }
    expect(stepMatching(report, /^probe/).result).toContain('/readyz 503');
    expect(stepMatching(report, /^probe/).ok).toBe(false);
    expect(stepMatching(report, /^read Deployment/).result).toBe('replicas 2, ready 1, generation 15/15');
    expect(stepMatching(report, /^Argo CD sync/).result).toMatch(/^Synced\/Healthy/);
    expect(stepMatching(report, /^opened PR #1$/).result).toContain('replicas: 2 → 1');

    expect(report.decision).toMatchObject({ decision: 'approve', by: 'oncall-alice', channel: 'cli', step: 'restart', comment: 'recorded run' });
    expect(report.decision!.afterMs).toBeGreaterThan(0);
    expect(report.pullRequest).toMatchObject({ number: 1, merged: true });
    expect(report.verification?.ok).toBe(true);
    expect(report.classification?.evidence.some((e) => e.startsWith('[readyz]'))).toBe(true);
  });

  it('durations are the history\'s own: an activity from scheduled to its result, the incident from start to close', () => {
    const history = recorded('remediated');
    const report = incidentReport(history);
    const merge = stepMatching(report, /^merge PR #1$/);
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'mergePullRequest')!;
    const done = eventMs(history, (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled.eventId));
    expect(merge.durationMs).toBe(done - eventMs(history, (e) => e === scheduled));
    const start = eventMs(history, (e) => !!e.workflowExecutionStartedEventAttributes);
    expect(merge.offsetMs).toBe(eventMs(history, (e) => e === scheduled) - start);
    expect(report.durationMs).toBe(Date.parse(report.closedAt!) - start);
    expect(report.phases.map((p) => p.phase)).toEqual(['diagnosing', 'awaiting-approval', 'opening-pr', 'awaiting-merge', 'syncing', 'verifying']);
  });

  it('rejected from the Temporal UI: the `reject` signal, by whom, the channel `temporal`', () => {
    const report = incidentReport(recorded('rejected'));
    expect(report.outcome).toBe('rejected');
    expect(stepMatching(report, /^`reject` signal/).result).toMatch(/^by oncall-bob for step restart/);
    expect(report.decision).toMatchObject({ decision: 'reject', by: 'oncall-bob', channel: 'temporal' });
    expect(report.pullRequest).toBeNull();
    expect(steps(report).some((s) => /PR/.test(s))).toBe(false);
  });

  it('expired: the wait for a decision ran out, marked for attention', () => {
    const report = incidentReport(recorded('expired'));
    const wait = stepMatching(report, /^wait for a decision/);
    expect(wait).toMatchObject({ result: 'time ran out', ok: false });
    expect(wait.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(stepMatching(report, /^closed: expired$/).ok).toBe(false);
    expect(report.decision).toBeNull();
  });

  it('refused start: no target, no classification, the reason as the last word', () => {
    const report = incidentReport(recorded('refused'));
    expect(report).toMatchObject({ outcome: 'refused', target: null, classification: null });
    expect(stepMatching(report, /^closed: refused$/).result).toContain('names its runbook by ID only');
  });

  it('an open incident (the history cut before the close, no state) is reported as far as it got', () => {
    const history = recorded('remediated');
    const cut = history.events!.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'openRestartPullRequest');
    const report = incidentReport({ events: history.events!.slice(0, cut) });
    expect(report.outcome).toBeNull();
    expect(report.closedAt).toBeNull();
    expect(reportText(report)).toMatch(/^Incident report — agentruns-torghut-ws-rec-remediated: still open/);
    expect(steps(report).at(-1)).toMatch(/^pre-flight/);
  });

  it('refusals from the final state, and a failed activity, are in it — redacted', () => {
    const token = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
    const history = recorded('rejected');
    const events = [...history.events!];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'getDeploymentFacts')!;
    const completedAt = events.findIndex((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled.eventId));
    events[completedAt] = {
      ...events[completedAt],
      activityTaskCompletedEventAttributes: null,
      activityTaskFailedEventAttributes: { scheduledEventId: scheduled.eventId, failure: { message: `read Deployment: HTTP 500 (Authorization: token ${token})` } },
    };
    const final = defaultPayloadConverter.fromPayload<IncidentState>(history.events!.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!);
    const state: IncidentState = {
      ...final,
      refusals: [{ by: 'mallory', decision: 'approve', channel: 'temporal', reason: `mallory is not an approver of runbook rec-rejected; token=${token}`, at: final.startedAt }],
    };
    const report = incidentReport({ events }, state);

    const failed = stepMatching(report, /^read Deployment/);
    expect(failed.ok).toBe(false);
    expect(failed.result).toMatch(/^failed: read Deployment: HTTP 500/);
    expect(report.refusals).toEqual([expect.objectContaining({ by: 'mallory', channel: 'temporal' })]);
    for (const rendered of [reportMarkdown(report), reportText(report), reportSlack(report), JSON.stringify(report)]) {
      expect(rendered).not.toContain(token);
      expect(rendered).toContain('mallory');
    }
  });

  it('Markdown: the facts, the evidence and one table row per step, cells with a `|` escaped', () => {
    const report = incidentReport(recorded('remediated'));
    const md = reportMarkdown(report);
    expect(md).toMatch(/^## Incident report — rec-remediated\/torghut-ws: remediated in \d/);
    expect(md).toContain('- **Decision:** approve (restart) by oncall-alice via cli');
    expect(md).toContain('- **PR:** #1 http://127.0.0.1:44003/proompteng/lab/pull/1 merged');
    const rows = md.split('\n').filter((l) => /^\| \+/.test(l));
    expect(rows).toHaveLength(report.timeline.length);
    // Four cells per row: no unescaped pipe from a result broke the table.
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length).toBe(6);
    expect(md).toContain('`agentruns report agentruns-torghut-ws-rec-remediated`');
  });

  it('Slack: the headline in bold, the timeline in one code block', () => {
    const text = reportSlack(incidentReport(recorded('remediated')));
    expect(text.split('\n')[0]).toMatch(/^\*Incident report — rec-remediated\/torghut-ws: remediated in .+\*$/);
    expect(text.match(/```/g)).toHaveLength(2);
    expect(text).toContain('merge PR #1');
  });
});
