/**
 * A Slack click storm on one incident waiting for approval, through the production ingress on the
 * suite's real Temporal dev server: 200 signed clicks at once — Approve and Reject from both
 * on-call approvers, each body re-sent several times (Slack retries, double clicks), and stale
 * clicks signed six minutes ago. One decision is taken and authenticated once; every other click
 * is refused (by the ingress's replay window or by the workflow, recorded), none answered with a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { torghutAlertPayload } from '../../devstack/demo-alert';
import { DEMO_SECRETS } from '../../devstack/local-stack';
import type { IncidentState } from '../../domain/incident';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../domain/slack-message';
import { blockActionsPayload, buttonValue, signedInteraction } from '../../sim/slack';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { waitForPhase } from '../support/incident';

let stack: E2eStack;
let ctx: E2eStack['ctx'];
let env: E2eStack['env'];
let services: E2eStack['services'];

beforeAll(async () => {
  stack = await startE2eStack('alpaca-406', 'clicks');
  ({ ctx, env, services } = stack);
});
afterAll(async () => {
  await stack?.close();
});

describe('a Slack click storm', () => {
  it('200 clicks (both buttons, both approvers, duplicates, stale) → one decision, authenticated once, no 5xx', async () => {
    const alert = await fetch(`${services.ingressUrl}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
      body: JSON.stringify(torghutAlertPayload({ namespace: env.runbook.target.namespace })),
    });
    expect(alert.status).toBe(202);
    const workflowId = ((await alert.json()) as { incidents: Array<{ workflowId: string }> }).incidents[0]!.workflowId;
    const handle = ctx.client.workflow.getHandle(workflowId);
    await waitForPhase(handle, ['awaiting-approval']);
    const message = await env.slack.waitFor(() => env.slack.messages.find((m) => buttonValue(m, APPROVE_ACTION_ID)));

    const click = (actionId: string, userId: string, ageSeconds = 0) =>
      signedInteraction({
        signingSecret: DEMO_SECRETS.slackSigningSecret,
        timestampSeconds: Math.floor(Date.now() / 1000) - ageSeconds,
        payload: blockActionsPayload({ userId, actionId, value: buttonValue(message, actionId)!, messageTs: message.ts, channelId: message.channel }),
      });
    const fresh = [click(APPROVE_ACTION_ID, 'U0ALICE01'), click(REJECT_ACTION_ID, 'U0BOB0002'), click(APPROVE_ACTION_ID, 'U0BOB0002'), click(REJECT_ACTION_ID, 'U0ALICE01')];
    const stale = [click(APPROVE_ACTION_ID, 'U0ALICE01', 360), click(REJECT_ACTION_ID, 'U0BOB0002', 360)];
    // Every fifth click stale; the rest the four fresh bodies, each sent about 40 times.
    const clicks = Array.from({ length: 200 }, (_, i) => (i % 5 === 4 ? stale[i % 2]! : fresh[i % 4]!));
    const statuses = await Promise.all(
      clicks.map(async (c) => {
        const answer = await fetch(`${services.ingressUrl}/slack/interactions`, { method: 'POST', headers: c.headers, body: c.body });
        await answer.arrayBuffer();
        return answer.status;
      }),
    );
    const counts = statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // The stale ones are refused by the ingress's replay window (Slack's own rule: 5 minutes).
    expect(statuses.filter((s) => s !== 200)).toHaveLength(40);

    const final = (await handle.result()) as IncidentState;
    expect(final.decision?.channel).toBe('slack');
    expect(['oncall-alice', 'oncall-bob']).toContain(final.decision?.by);
    expect(final.outcome).toBe(final.decision?.decision === 'approve' ? 'remediated' : 'rejected');

    const { events } = await handle.fetchHistory();
    const updates = (events ?? []).filter((e) => e.workflowExecutionUpdateCompletedEventAttributes);
    const taken = updates.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success);
    const authentications = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'authenticateDecision');
    console.log(
      `[clicks] ${clicks.length} clicks → statuses ${JSON.stringify(counts)}; ${updates.length} decide Updates completed in the history, ${taken.length} with a decision ` +
        `(${final.decision?.decision} by ${final.decision?.by}); ${authentications.length} authentication; ${final.refusals.length + final.refusalsDropped} refusals recorded; outcome ${final.outcome}`,
    );
    expect(taken).toHaveLength(1);
    expect(authentications).toHaveLength(1);
    // At most one Slack thread for the incident, its buttons gone.
    expect(env.slack.incidentMessages(workflowId)).toHaveLength(1);
  });
});
