/**
 * The trust boundary, on the real Temporal dev server: whoever can reach Temporal cannot shape a
 * restart (the worker resolves the runbook), cannot pass a forged decision off as Slack's or as
 * someone else's (the channel is the path, the identity is Temporal's own record, Slack is proven by
 * the ingress's HMAC), and cannot aim a decision at another run or step.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, DecisionRefusedError, openIncident } from '../../control/incidents';
import { signDecision } from '../../domain/decision-proof';
import { incidentWorkflowId, type IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { approveSignal, decideUpdate, INCIDENT_WORKFLOW_TYPE } from '../../workflows/messages';
import { decisionFor, incidentHarness, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

const fast = (r: RunbookConfig): RunbookConfig => ({
  ...r,
  gitops: { ...r.gitops, merge: 'auto', mergePollInterval: '200ms' },
  timeouts: { ...r.timeouts, approval: '1 minute', verification: '20 seconds' },
  argo: { enabled: true, application: 'torghut', syncTimeout: '30 seconds' },
});

async function withHarness<T>(adjust: (r: RunbookConfig) => RunbookConfig, fn: (h: IncidentHarness) => Promise<T>, scenario = 'alpaca-406'): Promise<T> {
  const harness = await incidentHarness(ctx, { scenario, adjust });
  try {
    return await harness.run(() => fn(harness));
  } finally {
    await harness.close();
  }
}

/** A client whose calls Temporal records under `identity`. */
const clientAs = (identity: string) => new Client({ connection: ctx.connection, namespace: ctx.namespace, identity });
const result = (h: { result(): Promise<unknown> }) => h.result() as Promise<IncidentState>;
const nothingWritten = (h: IncidentHarness) => {
  expect(h.env.kube.writes()).toEqual([]);
  expect(h.env.github.writes()).toEqual([]);
  expect(h.env.argo.syncRequests).toEqual([]);
  expect(h.env.slack.messages).toEqual([]);
};

describe('the worker decides what a runbook says', () => {
  it('a forged start carrying its own runbook (mallory approves, auto-merge, 7 replicas) is refused: nothing read, nothing written', async () => {
    await withHarness(fast, async (h) => {
      const forged = {
        ...h.runbook,
        approvers: [{ id: 'mallory' }],
        gitops: { ...h.runbook.gitops, merge: 'auto' },
        target: { ...h.runbook.target, expectedReplicas: 7 },
      };
      const handle = await ctx.client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
        workflowId: incidentWorkflowId(h.runbook.target),
        taskQueue: h.taskQueue,
        args: [{ runbookId: h.runbook.id, runbook: forged, trigger: { source: 'cli', by: 'mallory' } }],
      });
      // mallory tries to approve what would have been her incident.
      await handle.signal(approveSignal, { by: 'mallory', runId: handle.firstExecutionRunId, step: 'restart' }).catch(() => undefined);
      const final = await result(handle);
      expect(final.outcome).toBe('refused');
      expect(final.notes.join(' ')).toMatch(/the start carries "runbook": an incident names its runbook by ID only/);
      expect(final.decision).toBeNull();
      expect(final.diagnosis).toBeNull();
      // Nothing was read from GitHub or the cluster, and nothing was written anywhere.
      expect(h.env.github.requests).toEqual([]);
      expect(h.env.kube.writes()).toEqual([]);
      nothingWritten(h);
      expect(h.env.kube.snapshot().replicas).toBe(1);
    });
  });

  it('a start naming a runbook the worker does not know, or under a foreign workflow ID, is refused', async () => {
    await withHarness(fast, async (h) => {
      const unknown = await ctx.client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
        workflowId: `agentruns-x-${randomUUID().slice(0, 8)}`,
        taskQueue: h.taskQueue,
        args: [{ runbookId: 'not-loaded', trigger: { source: 'cli' } }],
      });
      expect((await result(unknown)).notes).toContain('runbook "not-loaded" is not one this worker loaded');

      // The right runbook under another ID would be a second incident of the same Deployment.
      const foreign = await ctx.client.workflow.start(INCIDENT_WORKFLOW_TYPE, {
        workflowId: `agentruns-second-${randomUUID().slice(0, 8)}`,
        taskQueue: h.taskQueue,
        args: [{ runbookId: h.runbook.id, trigger: { source: 'cli' } }],
      });
      const final = await result(foreign);
      expect(final.outcome).toBe('refused');
      expect(final.notes.join(' ')).toMatch(/is not the incident ID of .*\/torghut-ws \(agentruns-torghut-ws-.*\): one incident per target/);
      nothingWritten(h);
    });
  });
});

describe('who decided, and through which channel, is established, not claimed', () => {
  it('a signal claiming to be a Slack click is recorded as a Temporal signal, with the identity Temporal recorded', async () => {
    await withHarness(fast, async (h) => {
      const handle = await h.start();
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      await clientAs('mallory@laptop')
        .workflow.getHandle(handle.workflowId)
        .signal(approveSignal, { ...decisionFor(waiting, 'oncall-alice'), channel: 'slack' } as never);
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.decision).toMatchObject({ by: 'oncall-alice', channel: 'temporal', identity: 'mallory@laptop' });
      expect(final.decision?.slackUser).toBeUndefined();
    });
  });

  it('an Update with a forged Slack proof is refused; one signed by the ingress key is recorded as Slack', async () => {
    await withHarness(fast, async (h) => {
      const handle = await h.start();
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      const issuedAt = new Date().toISOString();
      const base = { ...decisionFor(waiting, 'oncall-alice'), decision: 'approve' as const };
      const forged = { ...base, slack: { user: 'U0ALICE01', issuedAt, signature: signDecision('not-the-ingress-key-but-32-chars-long!!', proven(waiting, issuedAt)) } };
      // The Update fails (WorkflowUpdateFailedError) with the workflow's refusal as its cause.
      await expect(handle.executeUpdate(decideUpdate, { args: [forged] })).rejects.toMatchObject({
        name: 'WorkflowUpdateFailedError',
        cause: { message: expect.stringMatching(/^Slack decision not verified: the Slack proof does not match/) },
      });

      const signed = { ...base, slack: { user: 'U0ALICE01', issuedAt, signature: signDecision(h.env.decisionKey, proven(waiting, issuedAt)) } };
      const record = await handle.executeUpdate(decideUpdate, { args: [signed] });
      expect(record).toMatchObject({ by: 'oncall-alice', channel: 'slack', slackUser: 'U0ALICE01' });
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.refusals).toEqual([expect.objectContaining({ by: 'oncall-alice', channel: 'slack', reason: expect.stringMatching(/not verified/) })]);
    });
  });

  it('an approver who lists Temporal identities: a signal from another identity is refused and recorded; from a listed one it counts', async () => {
    const withIdentities = (r: RunbookConfig): RunbookConfig => ({
      ...fast(r),
      approvers: r.approvers.map((a) => (a.id === 'oncall-alice' ? { ...a, temporalIdentities: ['alice@sso.example'] } : a)),
    });
    await withHarness(withIdentities, async (h) => {
      const handle = await h.start();
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      await clientAs('mallory@laptop').workflow.getHandle(handle.workflowId).signal(approveSignal, decisionFor(waiting, 'oncall-alice'));
      await expect.poll(async () => (await waitForPhase(handle, ['awaiting-approval'])).refusals.length).toBe(1);
      const refused = (await waitForPhase(handle, ['awaiting-approval'])).refusals[0]!;
      expect(refused).toMatchObject({ by: 'oncall-alice', channel: 'temporal', identity: 'mallory@laptop' });
      expect(refused.reason).toBe('Temporal identity "mallory@laptop" may not act for oncall-alice (approvers[].temporalIdentities)');

      // Through the CLI path too (the Update), the identity must be one of hers.
      await expect(decide(clientAs('mallory@laptop'), handle.workflowId, 'approve', decisionFor(waiting, 'oncall-alice'))).rejects.toThrow(
        DecisionRefusedError,
      );
      const record = await decide(clientAs('alice@sso.example'), handle.workflowId, 'approve', decisionFor(waiting, 'oncall-alice'));
      expect(record).toMatchObject({ by: 'oncall-alice', channel: 'cli', identity: 'alice@sso.example' });
      expect((await result(handle)).outcome).toBe('remediated');
    });
  });

  it('a channel the runbook does not allow cannot approve', async () => {
    const slackOnly = (r: RunbookConfig): RunbookConfig => ({ ...fast(r), approval: { channels: ['slack'] } });
    await withHarness(slackOnly, async (h) => {
      const handle = await h.start();
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      await expect(decide(ctx.client, handle.workflowId, 'approve', decisionFor(waiting, 'oncall-alice'))).rejects.toThrow(
        `runbook ${h.runbook.id} does not accept decisions through cli (approval.channels: slack)`,
      );
      await handle.signal(approveSignal, decisionFor(waiting, 'oncall-alice'));
      await expect.poll(async () => (await waitForPhase(handle, ['awaiting-approval'])).refusals.map((r) => r.channel)).toEqual(['reported', 'temporal']);
      expect((await waitForPhase(handle, ['awaiting-approval'])).decision).toBeNull();
      await handle.terminate('test done');
      expect(h.env.github.writes()).toEqual([]);
    });
  });

  it('a CLI decision aimed at a finished run is refused, and never reaches the newer incident of the target', async () => {
    await withHarness(fast, async (h) => {
      const first = await h.start();
      const waiting = await waitForPhase(first, ['awaiting-approval']);
      await first.terminate('the first incident ended');
      const second = await h.start();
      const newer = await waitForPhase(second, ['awaiting-approval']);
      expect(newer.runId).not.toBe(waiting.runId);

      await expect(decide(ctx.client, first.workflowId, 'approve', decisionFor(waiting, 'oncall-alice'))).rejects.toThrow(
        /no open incident .* \(run .*\): it has already closed|not found/,
      );
      expect((await waitForPhase(second, ['awaiting-approval'])).decision).toBeNull();
      // A decision naming the old run but sent to the workflow ID alone (the newest run) is refused by the run check.
      await ctx.client.workflow.getHandle(second.workflowId).signal(approveSignal, decisionFor(waiting, 'oncall-alice'));
      await expect
        .poll(async () => (await waitForPhase(second, ['awaiting-approval'])).refusals.map((r) => r.reason))
        .toContain(`this decision is for run ${waiting.runId}, but this incident is run ${newer.runId}`);
      await second.terminate('test done');
      expect(h.env.github.writes()).toEqual([]);
    });
  });
});

describe('opened once per target', () => {
  it('concurrent first alerts of one target start one incident and attach the rest, and say so', async () => {
    await withHarness(fast, async (h) => {
      const alert = { alertname: 'TorghutWsNotReady', labels: { alertname: 'TorghutWsNotReady', namespace: h.runbook.target.namespace } };
      const opened = await Promise.all(
        Array.from({ length: 8 }, () => openIncident({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, { source: 'alertmanager', alert })),
      );
      expect(new Set(opened.map((o) => o.runId)).size).toBe(1);
      expect(opened.filter((o) => !o.attached)).toHaveLength(1);
      const handle = ctx.client.workflow.getHandle(opened[0]!.workflowId);
      await expect.poll(async () => (await waitForPhase(handle, ['awaiting-approval'])).alertCounts.firing).toBe(8);
      await handle.terminate('test done');
    });
  });
});

function proven(state: IncidentState, issuedAt: string) {
  return {
    workflowId: state.workflowId,
    runId: state.runId,
    step: 'restart' as const,
    decision: 'approve' as const,
    by: 'oncall-alice',
    prerequisiteConfirmed: false,
    emergency: false,
    restartAnyway: false,
    user: 'U0ALICE01',
    issuedAt,
  };
}
