/**
 * Alertmanager keeps re-sending an alert that stays firing (every `repeat_interval`). After a close
 * that changed nothing (needs-human, healthy-no-action) the incident holds those re-sends for the
 * runbook's `timeouts.resendHold`: they are counted on its record with one reply in its Slack
 * thread, not opened as new incidents. The alert resolving ends the hold (the next firing is a new
 * incident), and a change — an alert the incident never saw, a start by hand — opens a new incident
 * at once, as a new run of the same workflow ID. Real dev server, production activities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIncident, resolveIncidentAlert } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { statusQuery } from '../../workflows/messages';
import { incidentHarness, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

const hold = (window: string) => (r: RunbookConfig): RunbookConfig => ({ ...r, timeouts: { ...r.timeouts, resendHold: window } });

const alertOf = (h: IncidentHarness, alertname = 'TorghutWsNotReady') => ({
  alertname,
  fingerprint: `fp-${alertname}-${h.runbook.target.namespace}`,
  labels: { alertname, namespace: h.runbook.target.namespace },
});

/** Alertmanager's re-send, as the ingress delivers it: signal-with-start of the target's incident. */
const resend = (h: IncidentHarness, alertname?: string) =>
  openIncident({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, { source: 'alertmanager', alert: alertOf(h, alertname) });

const firstAlert = async (h: IncidentHarness) => {
  const opened = await resend(h);
  return ctx.client.workflow.getHandle(opened.workflowId, opened.runId);
};

/** The runs of the target's workflow ID, oldest first. */
async function runsOf(workflowId: string) {
  const runs: { runId: string; status: string }[] = [];
  for await (const wf of ctx.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: wf.runId, status: wf.status.name });
  return runs.reverse();
}

const threadReplies = (h: IncidentHarness, state: IncidentState, key: string) =>
  h.env.slack.messages.filter((m) => {
    const payload = (m.metadata as { event_payload?: { runId?: unknown; key?: unknown } } | undefined)?.event_payload;
    return m.threadTs === state.slack?.ts && payload?.runId === state.runId && payload.key === key;
  });

async function pollState(workflowId: string, runId: string, until: (s: IncidentState) => boolean, timeoutMs = 20_000): Promise<IncidentState> {
  const deadline = Date.now() + timeoutMs;
  let last: IncidentState | undefined;
  while (Date.now() < deadline) {
    last = await ctx.client.workflow.getHandle(workflowId, runId).query(statusQuery);
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`state never matched; last: ${JSON.stringify(last?.resends)} ${last?.notes.join('; ')}`);
}

describe('re-sends after a close that changed nothing', () => {
  it('healthy-no-action: re-sends are counted on the closed incident with one Slack reply; the alert resolving ends the hold, and the next firing is a new incident', async () => {
    const h = await incidentHarness(ctx, { scenario: 'healthy', adjust: hold('10 minutes') });
    try {
      await h.run(async () => {
        const handle = await firstAlert(h);
        const closed = await waitForPhase(handle, ['closed']);
        expect(closed.outcome).toBe('healthy-no-action');
        await h.env.slack.waitFor(() => h.env.slack.incidentMessages(handle.workflowId, closed.runId).length === 1);
        const messagesBefore = h.env.slack.messages.filter((m) => !m.threadTs).length;

        // Six re-sends, two of them coalesced by the ingress into one signal (repeats).
        const answers = [];
        for (let i = 0; i < 4; i++) answers.push(await resend(h));
        answers.push(await openIncident({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, { source: 'alertmanager', alert: { ...alertOf(h), repeats: 2 } }));
        expect(answers.every((a) => a.attached && a.runId === closed.runId)).toBe(true);

        const held = await pollState(handle.workflowId, closed.runId, (s) => s.resends?.count === 6 && s.resends.reply !== undefined && s.resends.reply !== null);
        expect(held.outcome).toBe('healthy-no-action');
        expect(held.alertCounts.firing).toBe(7);
        // One reply in the thread, whatever the number of re-sends; no new top-level message.
        await h.env.slack.waitFor(() => threadReplies(h, held, 'resend-hold').length === 1);
        const [reply] = threadReplies(h, held, 'resend-hold');
        expect(reply!.text).toMatch(/still sending TorghutWsNotReady.*closed as \*healthy-no-action\*.*counted here instead of opening new incidents/s);
        expect(h.env.slack.messages.filter((m) => !m.threadTs)).toHaveLength(messagesBefore);
        // The top message shows the count.
        await h.env.slack.waitFor(() => {
          const [top] = h.env.slack.incidentMessages(handle.workflowId, held.runId);
          return JSON.stringify(top?.blocks ?? []).includes('6 re-sends of the alert after the close attached here');
        });
        expect(await runsOf(handle.workflowId)).toHaveLength(1);

        // The alert resolves: the hold ends and the incident's run completes.
        await resolveIncidentAlert({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, alertOf(h));
        const final = (await handle.result()) as IncidentState;
        expect(final.resends).toMatchObject({ count: 6, ended: { why: 'resolved' } });
        expect(threadReplies(h, final, 'resend-hold')).toHaveLength(1);

        // Firing again after that is a new incident: a new run, diagnosed again, its own message.
        const again = await resend(h);
        expect(again.attached).toBe(false);
        expect(again.runId).not.toBe(final.runId);
        const second = await waitForPhase(ctx.client.workflow.getHandle(again.workflowId, again.runId), ['closed']);
        expect(second.outcome).toBe('healthy-no-action');
        expect(second.diagnosis).not.toBeNull();
        // Its close posts its message (after the phase says closed).
        await h.env.slack.waitFor(() => h.env.slack.incidentMessages(handle.workflowId, second.runId).length === 1);
      });
    } finally {
      await h.close();
    }
  });

  it('needs-human: an alert the incident never saw opens a new incident at once (a new run of the same ID, the alert its trigger); a start by hand does too', async () => {
    const h = await incidentHarness(ctx, { scenario: 'unknown', adjust: hold('10 minutes') });
    try {
      await h.run(async () => {
        const handle = await firstAlert(h);
        const closed = await waitForPhase(handle, ['closed']);
        expect(closed.outcome).toBe('needs-human');
        await resend(h);
        await pollState(handle.workflowId, closed.runId, (s) => s.resends?.count === 1);

        const other = await resend(h, 'TorghutWsDown');
        expect(other.attached).toBe(true);
        const runs = await pollUntil(() => runsOf(handle.workflowId), (r) => r.length === 2 && r[1]!.status === 'RUNNING' && r[0]!.status === 'CONTINUED_AS_NEW');
        const reopened = await waitForPhase(ctx.client.workflow.getHandle(handle.workflowId, runs[1]!.runId), ['closed']);
        expect(reopened.runId).toBe(runs[1]!.runId);
        expect(reopened.outcome).toBe('needs-human');
        expect(reopened.diagnosis).not.toBeNull();
        expect(reopened.trigger.reopened).toMatch(new RegExp(`an alert this incident had not seen \\(TorghutWsDown\\), after run ${closed.runId} closed as needs-human`));
        expect(reopened.alerts[0]).toMatchObject({ status: 'firing', alert: { alertname: 'TorghutWsDown' } });
        expect(reopened.alertCounts.firing).toBe(1);
        expect(reopened.notes.join('\n')).toMatch(/^opened: an alert this incident had not seen/m);
        // Its own Slack thread (posted as it closed); the old message says a new incident opened.
        await h.env.slack.waitFor(() => h.env.slack.incidentMessages(handle.workflowId, reopened.runId).length === 1);
        const [old] = h.env.slack.incidentMessages(handle.workflowId, closed.runId);
        expect(JSON.stringify(old!.blocks)).toContain('a new incident opened at');

        // The new incident holds too; a start by hand opens another at once.
        await openIncident({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, { source: 'cli', by: 'oncall-alice' });
        const third = await pollUntil(() => runsOf(handle.workflowId), (r) => r.length === 3 && r[2]!.status === 'RUNNING');
        const byHand = await waitForPhase(ctx.client.workflow.getHandle(handle.workflowId, third[2]!.runId), ['closed']);
        expect(byHand.trigger).toMatchObject({ source: 'cli', by: 'oncall-alice' });
        expect(byHand.trigger.reopened).toMatch(/^started by hand by oncall-alice/);
      });
    } finally {
      await h.close();
    }
  });

  it('the window passing ends the hold: the run completes with what it counted', async () => {
    const h = await incidentHarness(ctx, { scenario: 'healthy', adjust: hold('3 seconds') });
    try {
      await h.run(async () => {
        const handle = await firstAlert(h);
        await waitForPhase(handle, ['closed']);
        await resend(h);
        const final = (await handle.result()) as IncidentState;
        expect(final.resends).toMatchObject({ count: 1, ended: { why: 'window' } });
        expect(Date.parse(final.resends!.ended!.at)).toBeGreaterThanOrEqual(Date.parse(final.resends!.until));
        expect(await runsOf(handle.workflowId)).toEqual([{ runId: final.runId, status: 'COMPLETED' }]);
      });
    } finally {
      await h.close();
    }
  });

  it("'off': nothing is held, the run completes at its close", async () => {
    const h = await incidentHarness(ctx, { scenario: 'healthy', adjust: hold('off') });
    try {
      await h.run(async () => {
        const final = (await (await firstAlert(h)).result()) as IncidentState;
        expect(final.outcome).toBe('healthy-no-action');
        expect(final.resends).toBeUndefined();
      });
    } finally {
      await h.close();
    }
  });
});

async function pollUntil<T>(fn: () => Promise<T>, until: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}
