/**
 * The incident report at close, on a real Temporal dev server against the simulated environment: a
 * remediated incident leaves its report as a comment on the restart PR and as a reply in its Slack
 * thread — once each, even when the report activity's first answer is lost — and `agentruns report`
 * prints the same story from the history (text, Markdown, JSON).
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../activities';
import { decide } from '../../control/incidents';
import type { IncidentState } from '../../domain/incident';
import type { IncidentReport } from '../../domain/report';
import { describeRun, jsonOf, runCli } from '../support/cli';
import { STEP_REPLIES_OF_A_REMEDIATION } from '../support/incident-actions';
import { fastRunbook, incidentHarness, pinned, waitForPhase } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

describe('the incident report', () => {
  it('406 remediated → the report on the PR and in the Slack thread, once each though its first answer was lost; agentruns report prints the timeline', { timeout: 180_000 }, async () => {
    let attempts = 0;
    const loseFirstAnswer = (activities: Activities): Activities => ({
      ...activities,
      postIncidentReport: async (input) => {
        attempts += 1;
        const posted = await activities.postIncidentReport(input);
        if (attempts === 1) throw ApplicationFailure.retryable('connection reset after the report was posted', 'UpstreamError');
        return posted;
      },
    });
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: fastRunbook, wrapActivities: loseFirstAnswer });
    try {
      const final = await h.run(async () => {
        const handle = await h.start();
        await waitForPhase(handle, ['awaiting-approval']);
        await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', comment: 'stale socket' }));
        return (await handle.result()) as IncidentState;
      });
      expect(final.outcome, final.notes.join('; ')).toBe('remediated');
      expect(attempts).toBe(2);
      expect(final.notes.filter((n) => n.includes('report'))).toEqual([]);

      // On the PR: one comment, the Markdown report, marked with this run.
      const pr = final.pullRequest!;
      const comments = h.env.github.comments(pr.number).filter((c) => c.body.includes('agentruns-incident-report'));
      expect(comments).toHaveLength(1);
      const comment = comments[0]!.body;
      expect(comment.split('\n')[0]).toBe(`<!-- agentruns-incident-report ${final.workflowId} ${final.runId} -->`);
      expect(comment).toMatch(new RegExp(`^## Incident report — ${h.runbook.target.namespace}/torghut-ws: remediated in `, 'm'));
      expect(comment).toContain('- **Decision:** approve (restart) by oncall-alice via cli');
      for (const step of ['alert firing', 'probe /healthz and /readyz', 'classified: alpaca_406_second_connection (procedure A)', '`decide` Update from CLI', `opened PR #${pr.number}`, `merge PR #${pr.number}`, 'Argo CD sync of torghut', 'verify the rollout and readiness', 'closed: remediated']) {
        // A step marked for attention (⚠) is still the step.
        expect(comment.split('\n').some((l) => l.includes(`| ${step}`) || l.includes(`| ⚠ ${step}`)), step).toBe(true);
      }
      expect(final.report?.comment?.id).toBe(comments[0]!.id);

      // In the Slack thread: a short reply for each step, in order, and the report last; the top message itself untouched by them.
      const thread = h.env.slack.incidentReplies(final.workflowId, final.runId);
      expect(thread.every((m) => m.threadTs === final.slack!.ts)).toBe(true);
      expect(thread.map((m) => m.key)).toEqual(STEP_REPLIES_OF_A_REMEDIATION);
      expect(thread.map((m) => m.text)).toEqual([
        expect.stringMatching(/^:white_check_mark: Approved: the restart by oncall-alice via cli/),
        expect.stringContaining(`Opened the restart PR <${pr.url}|#${pr.number}>`),
        expect.stringContaining(`PR <${pr.url}|#${pr.number}> merged at `),
        expect.stringMatching(/^:arrows_counterclockwise: Argo CD synced torghut \(the Deployment only\): Synced\/Healthy/),
        expect.stringMatching(/^\*Incident report — .*: remediated in .+\*\n```\n/),
      ]);
      const reportReply = thread.at(-1)!;
      expect(reportReply.text).toContain(`merge PR #${pr.number}`);
      expect(final.report?.slackReply).toEqual({ channel: final.slack!.channel, ts: reportReply.ts });
      expect(h.env.slack.incidentMessages(final.workflowId, final.runId)).toHaveLength(1);

      // agentruns report, from the history of the closed run.
      const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace') };
      const [json, markdown, text] = await Promise.all([
        runCli(['report', final.workflowId, '--json'], { env }),
        runCli(['report', final.workflowId, '--markdown'], { env }),
        runCli(['report', final.workflowId, '--run', final.runId], { env }),
      ]);
      for (const r of [json, markdown, text]) expect(r.code, describeRun(r)).toBe(0);
      const report = jsonOf<IncidentReport>(json);
      expect(report).toMatchObject({ workflowId: final.workflowId, runId: final.runId, outcome: 'remediated', decision: { by: 'oncall-alice', channel: 'cli' }, pullRequest: { number: pr.number, merged: true } });
      const steps = report.timeline.map((s) => s.step);
      expect(steps.indexOf(`opened PR #${pr.number}`)).toBeLessThan(steps.indexOf(`merge PR #${pr.number}`));
      expect(steps.indexOf(`merge PR #${pr.number}`)).toBeLessThan(steps.indexOf('verify the rollout and readiness'));
      // The report's own posting is in the history it reads afterwards: one step (its retry inside it).
      expect(report.timeline.filter((s) => s.step === 'post this report').map((s) => s.ok)).toEqual([true]);
      expect(report.timeline.every((s) => s.durationMs === undefined || s.durationMs >= 0)).toBe(true);
      expect(markdown.stdout).toMatch(/^## Incident report — .*: remediated in /);
      expect(markdown.stdout).toContain(`| opened PR #${pr.number} |`);
      expect(text.stdout).toMatch(/^Incident report — .*: remediated in /);
      expect(text.stdout).toMatch(new RegExp(`^ +\\+[\\d.ms ]+ +merge PR #${pr.number} \\(`, 'm'));
    } finally {
      await h.close();
    }
  });

  it('agentruns report: no ID, two formats, or an incident that does not exist → a clear error', async () => {
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: inject('temporalNamespace') };
    const [none, both, missing] = await Promise.all([
      runCli(['report'], { env }),
      runCli(['report', 'x', '--json', '--markdown'], { env }),
      runCli(['report', 'agentruns-no-such-incident'], { env }),
    ]);
    expect(none.code, describeRun(none)).toBe(2);
    expect(none.stderr).toContain('name one incident');
    expect(both.code, describeRun(both)).toBe(2);
    expect(missing.code, describeRun(missing)).toBe(1);
    expect(missing.stderr).toContain('no incident agentruns-no-such-incident');
  });
});
