/**
 * Approval → PR opened and approval → remediated (measurements 4 and 7), on one simulated target
 * wired end to end (startSimEnvironment: merging the PR in the simulated GitHub and the Argo CD sync
 * roll the simulated pods at once, and readiness turns 200), with the worker and ingress in this
 * process on the bench's dev server. Each run: alert, wait for approval, a signed Slack click on
 * Approve, then the incident is followed to `remediated`; the next run waits out the (shortened)
 * cool-down. The last run's history is weighed: events, bytes, activity calls.
 */
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { IncidentState } from '../../domain/incident';
import { APPROVE_ACTION_ID } from '../../domain/slack-message';
import { loadScenario } from '../../sim/scenario';
import { blockActionsPayload, buttonValue, signedInteraction } from '../../sim/slack';
import { statusQuery } from '../../workflows/messages';
import { torghutAlertPayload } from '../demo-alert';
import { DEMO_SECRETS, demoRunbook, startServices } from '../local-stack';
import { startSimEnvironment } from '../sim-environment';
import type { DevServer } from '../temporal-dev-server';
import { EXPECTED_CLASS } from './incidents';
import { BenchFailure, figure, type Figure } from './stats';

export interface ApprovalFigures {
  toPullRequest: Figure;
  toRemediated: Figure;
  slackAck: Figure;
  /** Phase durations of the runs (ms), p50 per phase. */
  phases: Record<string, Figure>;
  cost: { events: number; historyJsonBytes: number; activityCalls: number; signals: number; eventsLimit: 10_240; bytesLimit: number };
}

async function poll(client: Client, workflowId: string, done: (s: IncidentState) => boolean, what: string): Promise<IncidentState> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const state = await client.workflow.getHandle(workflowId).query(statusQuery).catch(() => null);
    if (state && done(state)) return state;
    if (state?.phase === 'closed') throw new BenchFailure(`${workflowId} closed ${state.outcome ?? ''} (${state.error ?? state.notes.at(-1) ?? ''}) while the bench waited for ${what}`);
    if (Date.now() > deadline) throw new BenchFailure(`${workflowId} did not reach ${what} within 120 s (phase ${state?.phase ?? 'unknown'})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function measureApproval(server: DevServer, options: { runs: number; callDelayMs: number }): Promise<ApprovalFigures> {
  const env = await startSimEnvironment({
    scenario: 'alpaca-406',
    // The stability watch is a wait by design (runbook verification.stableFor), not work: off here.
    adjustRunbook: (r) => ({ ...demoRunbook(r), timeouts: { ...r.timeouts, cooldown: '1 second' }, verification: { ...r.verification, stableFor: 'off' } }),
    verifyPollIntervalMs: 100,
  });
  env.kube.setCallDelay(options.callDelayMs);
  const services = await startServices({ address: server.address, namespace: server.namespace, taskQueue: 'bench-approval', env }).catch(async (err: unknown) => {
    await env.close();
    throw err;
  });
  const toPr: number[] = [];
  const toDone: number[] = [];
  const acks: number[] = [];
  const phases: Record<string, number[]> = {};
  let last: IncidentState | undefined;
  try {
    const broken = { ...(await loadScenario('alpaca-406')), namespace: env.runbook.target.namespace };
    for (let run = 0; run < options.runs; run++) {
      await new Promise((r) => setTimeout(r, 1_100)); // past the 1 s cool-down of the previous restart
      // The previous run's restart cured the target: break it again, as it was.
      if (run > 0) env.kube.setScenario(broken);
      const answer = await fetch(`${services.ingressUrl}/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
        body: JSON.stringify(torghutAlertPayload({ namespace: env.runbook.target.namespace, fingerprint: `run${run}` })),
      });
      const { incidents } = (await answer.json()) as { incidents: Array<{ workflowId: string }> };
      const workflowId = incidents[0]?.workflowId;
      if (answer.status !== 202 || !workflowId) throw new BenchFailure(`the ingress answered ${answer.status}`);
      const waiting = await poll(services.client, workflowId, (s) => s.phase === 'awaiting-approval' && !!s.slack, 'approval');
      if (waiting.classification?.class !== EXPECTED_CLASS) throw new BenchFailure(`${workflowId} classified ${waiting.classification?.class}`);
      const message = env.slack.messages.find((m) => m.ts === waiting.slack?.ts);
      const value = message ? buttonValue(message, APPROVE_ACTION_ID) : undefined;
      if (!message || !value) throw new BenchFailure(`${workflowId}: no Slack message with an Approve button`);
      const click = signedInteraction({
        signingSecret: DEMO_SECRETS.slackSigningSecret,
        payload: blockActionsPayload({ userId: 'U0ALICE01', actionId: APPROVE_ACTION_ID, value, messageTs: message.ts }),
      });
      const approvedAt = performance.now();
      const ack = await fetch(`${services.ingressUrl}/slack/interactions`, { method: 'POST', headers: click.headers, body: click.body });
      acks.push(performance.now() - approvedAt);
      if (ack.status !== 200) throw new BenchFailure(`the Slack click was answered ${ack.status}`);
      await poll(services.client, workflowId, (s) => !!s.pullRequest?.number, 'an open PR');
      toPr.push(performance.now() - approvedAt);
      const final = await services.client.workflow.getHandle(workflowId).result() as IncidentState;
      toDone.push(performance.now() - approvedAt);
      if (final.outcome !== 'remediated') throw new BenchFailure(`${workflowId} ended ${final.outcome}: ${final.error ?? final.notes.at(-1) ?? ''}`);
      for (const [phase, t] of Object.entries(final.timings)) if (t.ms !== undefined) (phases[phase] ??= []).push(t.ms);
      last = final;
    }
    const history = await services.client.workflow.getHandle(last!.workflowId, last!.runId).fetchHistory();
    const events = history.events ?? [];
    const count = (type: string) => events.filter((e) => e[type as keyof typeof e]).length;
    return {
      toPullRequest: figure(toPr),
      toRemediated: figure(toDone),
      slackAck: figure(acks),
      phases: Object.fromEntries(Object.entries(phases).map(([p, v]) => [p, figure(v)])),
      cost: {
        events: events.length,
        historyJsonBytes: Buffer.byteLength(historyToJSON(history)),
        activityCalls: count('activityTaskScheduledEventAttributes'),
        signals: count('workflowExecutionSignaledEventAttributes'),
        eventsLimit: 10_240,
        bytesLimit: 10 * 2 ** 20,
      },
    };
  } finally {
    await services.stop();
    await env.close();
  }
}
