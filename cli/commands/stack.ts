/**
 * `agentruns stack` runs the local stack until Ctrl-C; `agentruns demo` also fires a demo incident
 * through the ingress (a real Alertmanager webhook request) and follows it to its outcome.
 */
import { parseArgs } from 'node:util';
import { decide, incidentStatus } from '../../control/incidents';
import { torghutAlertPayload } from '../../devstack/demo-alert';
import { DEMO_SECRETS, startLocalStack, type LocalStack } from '../../devstack/local-stack';
import type { IncidentState } from '../../domain/incident';
import { incidentReport, reportText } from '../../domain/report';
import { CliError, EXIT } from '../errors';


function describeStack(stack: LocalStack): string {
  const { temporal, services, env, kubeconfigPath } = stack;
  return [
    'AgentRuns local stack is up:',
    `  Temporal          ${temporal.address} (namespace ${temporal.namespace})`,
    `  Temporal Web UI   ${temporal.uiUrl}`,
    `  ingress           ${services.ingressUrl}  (POST /alertmanager with "Authorization: Bearer ${DEMO_SECRETS.alertmanagerToken}", /metrics, /healthz, /readyz)`,
    `  simulated GitHub  ${env.github.url}   Argo CD ${env.argo.url}   Slack ${env.slack.url}`,
    `  simulated cluster KUBECONFIG=${kubeconfigPath}  (try: agentruns diagnose --kubeconfig ${kubeconfigPath})`,
    `  CLI               TEMPORAL_ADDRESS=${temporal.address} agentruns list`,
  ].join('\n');
}

interface StopRequest {
  /** True once Ctrl-C (SIGINT) or SIGTERM arrived. */
  readonly requested: boolean;
  /** Resolves when it arrives. */
  readonly whenRequested: Promise<void>;
  dispose(): void;
}

/**
 * Listens for Ctrl-C / SIGTERM from now on, so that the stack is stopped — by the caller, in its
 * `finally` — whatever the command was doing (starting, following the incident, waiting). A second
 * one exits at once; the dev server's exit hook still stops the Temporal server then.
 */
function listenForStop(): StopRequest {
  let requested = false;
  let resolveRequested!: () => void;
  const whenRequested = new Promise<void>((resolve) => (resolveRequested = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      console.error(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    requested = true;
    console.log('\nstopping…');
    resolveRequested();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get requested() {
      return requested;
    },
    whenRequested,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function waitForStop(stop: StopRequest): Promise<void> {
  console.log('\nCtrl-C stops the stack.');
  await stop.whenRequested;
}

/** Starts the local stack, runs `body` with it and always stops it afterwards — also on errors and Ctrl-C. */
async function withLocalStack<T>(scenario: string | undefined, body: (stack: LocalStack, stop: StopRequest) => Promise<T>): Promise<T> {
  const stop = listenForStop();
  try {
    const stack = await startLocalStack({ scenario });
    try {
      if (stop.requested) throw new CliError('interrupted', EXIT.failure);
      return await body(stack, stop);
    } finally {
      await stack.stop();
    }
  } finally {
    stop.dispose();
  }
}

export async function stackCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { scenario: { type: 'string' } }, strict: true });
  return withLocalStack(values.scenario, async (stack, stop) => {
    console.log(describeStack(stack));
    await waitForStop(stop);
    return EXIT.ok;
  });
}

async function fireAlert(stack: LocalStack): Promise<string> {
  const response = await fetch(`${stack.services.ingressUrl}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
    body: JSON.stringify(torghutAlertPayload()),
  });
  const body = (await response.json()) as { incidents?: Array<{ workflowId: string }>; error?: string };
  const id = body.incidents?.[0]?.workflowId;
  if (response.status !== 202 || !id) throw new CliError(`the ingress answered ${response.status}: ${JSON.stringify(body)}`, EXIT.failure);
  return id;
}

async function follow(
  stack: LocalStack,
  stop: StopRequest,
  workflowId: string,
  until: (s: IncidentState) => boolean,
  timeoutMs: number,
): Promise<IncidentState> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (stop.requested) throw new CliError(`interrupted while following incident ${workflowId}`, EXIT.failure);
    const state = await incidentStatus(stack.services.client, workflowId).catch(() => null);
    if (state) {
      const line = `  phase ${state.phase}${state.outcome ? ` → ${state.outcome}` : ''}`;
      if (line !== last) console.log(line);
      last = line;
      if (until(state)) return state;
    }
    if (Date.now() > deadline) throw new CliError(`incident ${workflowId} did not progress within ${timeoutMs / 1000} s`, EXIT.failure);
    await Promise.race([new Promise((r) => setTimeout(r, 300)), stop.whenRequested]);
  }
}

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { scenario: { type: 'string' }, 'auto-approve': { type: 'boolean' }, keep: { type: 'boolean' } },
    strict: true,
  });
  const interactive = Boolean(process.stdin.isTTY) && values['auto-approve'] !== true;
  const keep = values.keep ?? interactive;
  // The stack is stopped whatever happens: an error, Ctrl-C, or (with keep) Ctrl-C after the outcome.
  return withLocalStack(values.scenario ?? 'alpaca-406', async (stack, stop) => {
    console.log(describeStack(stack));
    console.log('\nFiring the demo alert TorghutWsNotReady through the ingress (Alertmanager webhook)…');
    const id = await fireAlert(stack);
    const uiLink = `${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows/${encodeURIComponent(id)}`;
    console.log(`incident ${id}\n  ${uiLink}`);
    const waiting = await follow(stack, stop, id, (s) => s.phase === 'awaiting-approval' || s.phase === 'closed', 60_000);
    if (waiting.phase === 'awaiting-approval') {
      console.log(`\nclass ${waiting.classification?.class} → procedure ${waiting.classification?.procedure}: ${waiting.classification?.action}`);
      console.log(`Slack message posted to ${stack.env.runbook.slack?.channel ?? '(no channel)'} in the simulated Slack.`);
      const approval = JSON.stringify({ by: 'oncall-alice', runId: waiting.runId, step: 'restart', comment: 'restart' });
      if (interactive) {
        console.log(
          [
            '\nWaiting for your approval. Approve it in one of these ways:',
            `  Temporal UI:  open ${uiLink} → "Send a Signal" → name: approve, input: ${approval}`,
            `  CLI:          TEMPORAL_ADDRESS=${stack.temporal.address} npx agentruns approve ${id} --by oncall-alice --run ${waiting.runId} --step restart`,
            `  temporal:     temporal workflow signal --address ${stack.temporal.address} --workflow-id ${id} --run-id ${waiting.runId} --name approve --input '${approval}'`,
          ].join('\n'),
        );
      } else {
        console.log('\nauto-approving as oncall-alice through the decide Update (no terminal, or --auto-approve)…');
        await decide(stack.services.client, id, 'approve', { by: 'oncall-alice', runId: waiting.runId, step: 'restart', comment: 'demo auto-approval' });
      }
    }
    const final = await follow(stack, stop, id, (s) => s.phase === 'closed', 30 * 60_000);
    console.log(`\noutcome: ${final.outcome}`);
    if (final.pullRequest) console.log(`PR: ${final.pullRequest.url} (${final.pullRequest.changes.join('; ')})`);
    if (final.argoSync) console.log(`Argo CD: ${final.argoSync.application} ${final.argoSync.status}/${final.argoSync.health}`);
    if (final.verification) console.log(`verification: ${final.verification.detail}`);
    for (const check of final.verification?.checks ?? []) console.log(`  ${check.name} check ${check.result}: ${check.what} — ${check.detail}`);
    const pods = stack.env.kube.snapshot().pods.map((p) => `${p.name}${p.ready ? ' (Ready)' : ''}`);
    console.log(`pods now: ${pods.join(', ')}`);
    // The incident report, as `agentruns report` renders it from the history (also on the PR and in the Slack thread).
    const history = await stack.services.client.workflow.getHandle(id, final.runId).fetchHistory();
    const where = [final.report?.comment ? `PR comment ${final.report.comment.url}` : null, final.report?.slackReply ? 'the Slack thread' : null].filter(Boolean);
    console.log(`\nincident report${where.length ? ` (posted as ${where.join(' and in ')})` : ''}:\n${reportText(incidentReport(history, final))}`);
    console.log(`history (the audit trail): ${uiLink}`);
    if (keep) await waitForStop(stop);
    return final.outcome === 'remediated' ? EXIT.ok : EXIT.failure;
  });
}
