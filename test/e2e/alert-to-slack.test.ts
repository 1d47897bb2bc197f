/**
 * End to end through the ingress, on the suite's real Temporal dev server: a real-shaped
 * Alertmanager webhook starts the incident (repeated sends attach to it), the workflow posts the
 * diagnosis to Slack with buttons, a correctly signed Slack click by an on-call approver approves it,
 * and the incident reaches `remediated` — with the Slack message updated at every step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { torghutAlertPayload } from '../../devstack/demo-alert';
import { DEMO_SECRETS } from '../../devstack/local-stack';
import type { IncidentState } from '../../domain/incident';
import { APPROVE_ACTION_ID } from '../../domain/slack-message';
import { blockActionsPayload, buttonValue, signedInteraction } from '../../sim/slack';
import { startE2eStack, type E2eStack } from '../support/e2e-stack';
import { waitForPhase } from '../support/incident';

let stack: E2eStack;
let ctx: E2eStack['ctx'];
let env: E2eStack['env'];
let services: E2eStack['services'];

beforeAll(async () => {
  stack = await startE2eStack('alpaca-406-two-replicas', 'e2e');
  ({ ctx, env, services } = stack);
});
afterAll(async () => {
  await stack?.close();
});

async function postAlert(): Promise<{ status: number; body: { incidents: Array<{ workflowId: string; attached: boolean }> } }> {
  const response = await fetch(`${services.ingressUrl}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
    body: JSON.stringify(torghutAlertPayload({ namespace: env.runbook.target.namespace })),
  });
  return { status: response.status, body: (await response.json()) as never };
}

describe('alert → Slack approval → remediated', () => {
  it('Alertmanager fires (and re-sends), on-call clicks Approve in Slack, torghut-ws is restarted the GitOps way', async () => {
    const first = await postAlert();
    expect(first.status).toBe(202);
    const workflowId = first.body.incidents[0]!.workflowId;
    expect(first.body.incidents[0]!.attached).toBe(false);

    const handle = ctx.client.workflow.getHandle(workflowId);
    await waitForPhase(handle, ['awaiting-approval']);

    // Alertmanager re-sends the group every group_interval: same incident, one more alert event.
    const again = await postAlert();
    expect(again.status).toBe(202);
    expect(again.body.incidents[0]).toMatchObject({ workflowId, attached: true });
    await expect.poll(async () => (await waitForPhase(handle, ['awaiting-approval'])).alerts.length).toBe(2);

    // The diagnosis is in the channel, with buttons.
    const message = await env.slack.waitFor(() => env.slack.messages.find((m) => buttonValue(m, APPROVE_ACTION_ID)));
    expect(JSON.stringify(message.blocks)).toContain('alpaca_406_second_connection');
    const value = buttonValue(message, APPROVE_ACTION_ID)!;

    // Alice clicks Approve: Slack signs the interaction request.
    const responseUrl = env.slack.newResponseUrl();
    const click = signedInteraction({
      signingSecret: DEMO_SECRETS.slackSigningSecret,
      payload: blockActionsPayload({ userId: 'U0ALICE01', actionId: APPROVE_ACTION_ID, value, responseUrl, messageTs: message.ts, channelId: message.channel }),
    });
    const ack = await fetch(`${services.ingressUrl}/slack/interactions`, { method: 'POST', headers: click.headers, body: click.body });
    expect(ack.status).toBe(200);

    const final = (await handle.result()) as IncidentState;
    expect(final.outcome).toBe('remediated');
    expect(final.decision).toMatchObject({ by: 'oncall-alice', channel: 'slack' });
    expect(final.pullRequest?.merged).toBe(true);
    expect(env.kube.snapshot()).toMatchObject({ replicas: 1 });

    // The message moved with the incident: updated at each step, buttons gone, outcome shown.
    const posted = env.slack.messages.filter((m) => m.ts === message.ts);
    expect(posted).toHaveLength(1);
    expect(message.history.length).toBeGreaterThanOrEqual(2);
    expect(buttonValue(message, APPROVE_ACTION_ID)).toBeUndefined();
    expect(JSON.stringify(message.blocks)).toContain('remediated');
    expect(JSON.stringify(message.blocks)).toContain(final.pullRequest!.url);
    // Alice was told the outcome of her click.
    const reply = await env.slack.waitFor(() => env.slack.responses[0]);
    expect(JSON.stringify(reply.body)).toMatch(/approv/i);

    // A click on that old message later (e.g. its last update was lost) never reaches a newer incident:
    // the button is pinned to its run, which has closed.
    const lateUrl = env.slack.newResponseUrl();
    const late = signedInteraction({
      signingSecret: DEMO_SECRETS.slackSigningSecret,
      payload: blockActionsPayload({ userId: 'U0BOB0002', actionId: APPROVE_ACTION_ID, value, responseUrl: lateUrl, messageTs: message.ts, channelId: message.channel }),
    });
    expect((await fetch(`${services.ingressUrl}/slack/interactions`, { method: 'POST', headers: late.headers, body: late.body })).status).toBe(200);
    const refused = await env.slack.waitFor(() => env.slack.responses.find((r) => lateUrl.endsWith(r.id)));
    expect(JSON.stringify(refused.body)).toMatch(/refused: no open incident .*already closed/);
  });
});
