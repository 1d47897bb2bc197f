/**
 * Alert → ready for approval, the way on-call sees it: from the Alertmanager webhook POST to the
 * incident's Slack message with its diagnosis (it is posted right after the incident enters
 * `awaiting-approval`). The same for the floor, started by the same signal-with-start the ingress
 * makes. Each round opens its incidents at once, waits for every one, checks each is really waiting
 * for approval with the expected class (else the bench fails), and terminates them, so the next
 * round starts on closed targets.
 */
import { randomUUID } from 'node:crypto';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import type { SlackSimMessage } from '../../sim/slack';
import { statusQuery } from '../../workflows/messages';
import { torghutAlertPayload } from '../demo-alert';
import { BENCH_SECRETS } from './ingress-process';
import { FLOOR_TASK_QUEUE, type BenchStack } from './stack';
import { BenchFailure } from './stats';

const READY_TIMEOUT_MS = Number(process.env.BENCH_READY_TIMEOUT_MS ?? 120_000);
export const EXPECTED_CLASS = 'alpaca_406_second_connection';

/** One run of a round, for reading its history afterwards. */
export interface Run {
  workflowId: string;
  runId?: string;
}

/** Resolves each workflow ID's wait when a Slack message naming it is posted after the watch began. */
function watchSlack(messages: SlackSimMessage[]) {
  let seen = messages.length;
  const waiting = new Map<string, (at: number) => void>();
  const timer = setInterval(() => {
    for (; seen < messages.length; seen++) {
      const m = messages[seen]!;
      const said = `${m.text ?? ''} ${JSON.stringify(m.metadata ?? '')}`;
      for (const [id, resolve] of waiting) {
        if (said.includes(id)) {
          waiting.delete(id);
          resolve(performance.now());
        }
      }
    }
  }, 5);
  return {
    posted(id: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiting.delete(id);
          reject(new BenchFailure(`no Slack message for ${id} within ${READY_TIMEOUT_MS} ms: the incident did not reach approval`));
        }, READY_TIMEOUT_MS);
        waiting.set(id, (at) => {
          clearTimeout(t);
          resolve(at);
        });
      });
    },
    stop: () => clearInterval(timer),
  };
}

export async function postAlert(stack: BenchStack, runbook: RunbookConfig, fingerprint = '5f3c9a1b2d4e6f70'): Promise<{ status: number; workflowId?: string }> {
  const response = await fetch(`${stack.ingress.url}/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_SECRETS.alertmanagerToken}` },
    body: JSON.stringify(torghutAlertPayload({ namespace: runbook.target.namespace, fingerprint })),
  });
  const body = (await response.json()) as { incidents?: Array<{ workflowId: string }> };
  return { status: response.status, workflowId: body.incidents?.[0]?.workflowId };
}

/**
 * One round of the product: every target alerted at once; ms from POST to Slack message, per
 * incident. The runs' workflow IDs are added to `seen` when given (their histories stay readable).
 */
export async function productRound(stack: BenchStack, targets: RunbookConfig[], seen?: Run[]): Promise<number[]> {
  const watch = watchSlack(stack.fleet.systems.slack.messages);
  const ids: string[] = [];
  try {
    const times = await Promise.all(
      targets.map(async (runbook) => {
        const started = performance.now();
        const answer = await postAlert(stack, runbook);
        if (answer.status !== 202 || !answer.workflowId) throw new BenchFailure(`the ingress answered ${answer.status} for ${runbook.id}`);
        ids.push(answer.workflowId);
        return (await watch.posted(answer.workflowId)) - started;
      }),
    );
    const states = await Promise.all(ids.map((id) => expectAwaitingApproval(stack, id)));
    seen?.push(...states.map((state) => ({ workflowId: state.workflowId, runId: state.runId })));
    return times;
  } finally {
    watch.stop();
    await terminate(stack, ids);
  }
}

/** One round of the floor on the same server and worker settings (workflow IDs added to `seen`). */
export async function floorRound(stack: BenchStack, count: number, seen?: Run[]): Promise<number[]> {
  const watch = watchSlack(stack.fleet.systems.slack.messages);
  try {
    return await Promise.all(
      Array.from({ length: count }, async () => {
        const workflowId = `floor-${randomUUID()}`;
        seen?.push({ workflowId });
        const started = performance.now();
        await stack.client.workflow.start('floorWorkflow', { workflowId, taskQueue: FLOOR_TASK_QUEUE, args: [{ workflowId }] });
        return (await watch.posted(workflowId)) - started;
      }),
    );
  } finally {
    watch.stop();
  }
}

async function expectAwaitingApproval(stack: BenchStack, workflowId: string): Promise<IncidentState> {
  const state = await stack.client.workflow.getHandle(workflowId).query(statusQuery);
  if (state.phase !== 'awaiting-approval' || state.classification?.class !== EXPECTED_CLASS) {
    throw new BenchFailure(`${workflowId} is in ${state.phase} (class ${state.classification?.class ?? 'none'}; ${state.error ?? state.notes.join('; ')}), not awaiting approval of a ${EXPECTED_CLASS} restart`);
  }
  return state;
}

export async function terminate(stack: BenchStack, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => stack.client.workflow.getHandle(id).terminate('bench round over').catch(() => undefined)));
}
