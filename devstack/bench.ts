/**
 * Timing figures, printed rather than asserted (`npm run bench`): webhook latency of the ingress
 * (first alert = signal-with-start, later ones attach), time from alert to a classified incident
 * waiting for approval, and time from approval to `remediated` — on a fresh dev server and the
 * simulated environment, loopback only, bounded in count.
 */
import { incidentStatus } from '../control/incidents';
import type { IncidentState } from '../domain/incident';
import { APPROVE_ACTION_ID } from '../domain/slack-message';
import { blockActionsPayload, buttonValue, signedInteraction } from '../sim/slack';
import { torghutAlertPayload } from './demo-alert';
import { DEMO_SECRETS, demoRunbook, startServices, type Services } from './local-stack';
import { startSimEnvironment, type SimEnvironment } from './sim-environment';
import { quietTemporalRuntime, startDevServer } from './temporal-dev-server';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 50);
quietTemporalRuntime('ERROR');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function waitFor(client: Parameters<typeof incidentStatus>[0], id: string, done: (s: IncidentState) => boolean): Promise<number> {
  const started = performance.now();
  for (;;) {
    const state = await incidentStatus(client, id).catch(() => null);
    if (state && done(state)) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(services: Services, env: SimEnvironment): Promise<void> {
  const latencies: number[] = [];
  let workflowId = '';
  let toApproval = 0;
  for (let i = 0; i < ALERTS; i++) {
    const started = performance.now();
    const response = await fetch(`${services.ingressUrl}/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
      body: JSON.stringify(torghutAlertPayload()),
    });
    const body = (await response.json()) as { incidents: Array<{ workflowId: string }> };
    latencies.push(performance.now() - started);
    if (response.status !== 202) throw new Error(`ingress answered ${response.status}`);
    if (i === 0) {
      workflowId = body.incidents[0]!.workflowId;
      toApproval = await waitFor(services.client, workflowId, (s) => s.phase === 'awaiting-approval') + latencies[0]!;
    }
  }
  // Approve as on-call does: a signed click on the Approve button of the posted Slack message.
  const message = await env.slack.waitFor(() => env.slack.messages.find((m) => buttonValue(m, APPROVE_ACTION_ID)));
  const click = signedInteraction({
    signingSecret: DEMO_SECRETS.slackSigningSecret,
    payload: blockActionsPayload({ userId: 'U0ALICE01', actionId: APPROVE_ACTION_ID, value: buttonValue(message, APPROVE_ACTION_ID)!, messageTs: message.ts }),
  });
  const approvedAt = performance.now();
  const ack = await fetch(`${services.ingressUrl}/slack/interactions`, { method: 'POST', headers: click.headers, body: click.body });
  const ackMs = performance.now() - approvedAt;
  if (ack.status !== 200) throw new Error(`Slack interaction answered ${ack.status}`);
  const final = await waitFor(services.client, workflowId, (s) => s.phase === 'closed');
  const toRemediated = performance.now() - approvedAt;
  const state = await incidentStatus(services.client, workflowId);
  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`webhook → 202, ${ALERTS} alerts (1 start, ${ALERTS - 1} attach): p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, max ${ms(sorted.at(-1)!)}`);
  console.log(`alert → classified, awaiting approval: ${ms(toApproval)}`);
  console.log(`Slack click → ack (Slack allows 3 s): ${ms(ackMs)}`);
  console.log(`approval → ${state.outcome} (PR, merge, Argo sync, verification): ${ms(toRemediated)} (poll ${ms(final)})`);
  for (const [phase, t] of Object.entries(state.timings)) console.log(`  phase ${phase.padEnd(20)} ${t.ms === undefined ? '-' : ms(t.ms)}`);
}

// Each part stopped in `finally`, so that a failure at any step leaves nothing running.
const server = await startDevServer({ headless: true });
try {
  const env = await startSimEnvironment({ scenario: 'alpaca-406', adjustRunbook: demoRunbook, verifyPollIntervalMs: 100 });
  try {
    const services = await startServices({ address: server.address, namespace: server.namespace, taskQueue: 'bench', env });
    try {
      await measure(services, env);
    } finally {
      await services.stop();
    }
  } finally {
    await env.close();
  }
} finally {
  await server.stop();
}
