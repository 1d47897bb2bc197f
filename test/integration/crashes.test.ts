/**
 * Crashes on the real Temporal dev server: the incident's worker runs in a child process
 * (test/support/child-worker.ts) and is killed with SIGKILL at each point of the runbook where a
 * crash could lose or repeat something — inside a diagnosis call, between the PR branch and the PR,
 * between the PR and the Slack update, while the incident waits for approval, while it waits for the
 * merge, and inside verification. The harness' own worker then takes over. And the Temporal dev
 * server itself is stopped while an incident waits for approval and started again on its SQLite file.
 *
 * Each test asserts where the kill landed, the incident's outcome, and that it did everything
 * exactly once — one branch, one PR, one restart commit, one merge, one Slack message, one Argo CD
 * sync, one rollout — counted from the simulators' own records. How long the new worker took to get
 * the incident moving is printed (`[crash] …`) as a figure; the only bound asserted is the one the
 * fault tests use (the next worker reaches the outside world within 10 s of polling).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../control/incidents';
import { freePort, startDevServer, type DevServer } from '../../devstack/temporal-dev-server';
import type { IncidentState, Phase } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { hang } from '../../sim/fault-queue';
import { apiMethod } from '../../sim/slack';
import { statusQuery } from '../../workflows/messages';
import { startChildWorker, type ChildWorker } from '../support/child-worker';
import { fastRunbook, incidentHarness, pinned, waitForPhase, withMergeWait, type IncidentHarness } from '../support/incident';
import { actions, ONE_OF_EACH, requestCount } from '../support/incident-actions';
import { connectTemporal, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

/** The crashes' runbooks: quick, with room for a worker to die and another to take over. */
const CRASH_WINDOWS = { approval: '5 minutes', verification: '30 seconds' };
const crashRunbook = (r: RunbookConfig): RunbookConfig => fastRunbook(r, CRASH_WINDOWS);
const crashRunbookWithMergeWait = (r: RunbookConfig): RunbookConfig => withMergeWait(r, CRASH_WINDOWS);

const result = (handle: WorkflowHandle) => handle.result() as Promise<IncidentState>;
const status = (handle: WorkflowHandle) => handle.query(statusQuery);

async function approve(c: TemporalTestContext, handle: WorkflowHandle): Promise<void> {
  await decide(c.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
}

const githubRequests = (h: IncidentHarness, method: string, path: RegExp) => h.env.github.requests.filter((r) => r.method === method && path.test(r.path));
const kubeRequests = (h: IncidentHarness, path: RegExp, from = 0) => h.env.kube.requests.slice(from).filter((r) => path.test(r.path));
const slackCalls = (h: IncidentHarness, method: string) => h.env.slack.requests.filter((r) => r.path === `/api/${method}`);

/** The figures of one crash, printed as a `[crash]` line (the README's figures come from these). */
interface Recovery {
  point: string;
  /** SIGKILL → the replacement worker started polling. */
  killToPollMs: number;
  /** Polling → back at work: the interrupted call made again, or (nothing in flight) the incident's next call. */
  pollToResumedMs: number;
  /** Polling → the incident closed (includes approving and merging where the test does that). */
  pollToClosedMs: number;
}

/**
 * An incident on a worker in a child process (the one the test kills) and the harness' own worker
 * as its replacement; the child's clients wait long enough on a hung call that only the crash ends it.
 * Whatever happens, the child is killed and the simulators are stopped.
 */
async function withCrashableWorker(adjust: (r: RunbookConfig) => RunbookConfig, fn: (h: IncidentHarness, child: ChildWorker) => Promise<void>): Promise<void> {
  const h = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust });
  let child: ChildWorker | undefined;
  try {
    child = await startChildWorker(h, { requestTimeoutMs: 60_000 });
    await fn(h, child);
  } finally {
    await child?.crash();
    await h.close();
  }
}

/** SIGKILLs the child as soon as `landed` holds; first checks the incident's phase at that moment. */
async function killWhen(child: ChildWorker, handle: WorkflowHandle, landed: () => boolean | Promise<boolean>, phase: Phase): Promise<number> {
  await expect.poll(landed, { timeout: 30_000, interval: 25 }).toBe(true);
  expect((await status(handle)).phase).toBe(phase);
  await child.crash();
  return Date.now();
}

/**
 * The replacement worker takes over: runs the harness' worker, measures how soon after it polls the
 * incident is back at work (`resumed`; default: its first call to any simulator), runs `meanwhile`
 * (an approval, a merge) alongside, and waits for the outcome.
 */
async function takeOver(
  h: IncidentHarness,
  handle: WorkflowHandle,
  point: string,
  killedAt: number,
  options: { meanwhile?: () => Promise<void>; resumed?: () => boolean } = {},
): Promise<{ final: IncidentState; recovery: Recovery }> {
  return h.run(async () => {
    const polling = Date.now();
    const before = requestCount(h);
    const resumed = options.resumed ?? (() => requestCount(h) > before);
    const alongside = options.meanwhile?.();
    await expect.poll(resumed, { timeout: 30_000, interval: 25 }).toBe(true);
    const resumedAt = Date.now();
    await alongside;
    const final = await result(handle);
    const recovery: Recovery = { point, killToPollMs: polling - killedAt, pollToResumedMs: resumedAt - polling, pollToClosedMs: Date.now() - polling };
    console.log(`[crash] ${JSON.stringify(recovery)}`);
    // The bound of the fault tests: the next worker is back at work within 10 s of polling.
    expect(recovery.pollToResumedMs).toBeLessThan(10_000);
    return { final, recovery };
  });
}

describe('the worker killed (SIGKILL) at each point of the runbook', () => {
  it('killed while a diagnosis call hangs (pod log) → the next worker reads the log again: diagnosis complete, one of each, remediated', async () => {
    await withCrashableWorker(crashRunbook, async (h, child) => {
      h.env.kube.stallNext(hang({ method: 'GET', path: /\/log$/ }));
      const handle = await h.start();
      const killedAt = await killWhen(child, handle, () => kubeRequests(h, /\/log$/).length > 0, 'diagnosing');

      const { final } = await takeOver(h, handle, 'diagnosing', killedAt, {
        // Sources the dead worker had not started yet run at once: back at work means the log read again.
        resumed: () => kubeRequests(h, /\/log$/).length > 1,
        meanwhile: async () => {
          await waitForPhase(handle, ['awaiting-approval']);
          await approve(ctx, handle);
        },
      });

      expect(final.outcome, final.error).toBe('remediated');
      expect(kubeRequests(h, /\/log$/)).toHaveLength(2);
      expect(final.diagnosis?.degraded ?? []).toEqual([]);
      expect(final.diagnosis?.logs).toMatchObject({ ok: true });
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('killed after the PR branch was pushed and before the PR was opened → the next worker reuses the branch: one branch, one commit, one PR, remediated', async () => {
    await withCrashableWorker(crashRunbook, async (h, child) => {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      h.env.github.failNext(hang({ method: 'POST', path: /\/pulls$/ }));
      await approve(ctx, handle);
      const killedAt = await killWhen(child, handle, () => githubRequests(h, 'POST', /\/pulls$/).some((r) => r.fault === 'hung'), 'opening-pr');
      // Where the kill landed: the branch carries the restart commit, and there is no PR.
      const branches = await h.env.github.branches(`agentruns/${handle.workflowId}/`);
      expect(branches).toHaveLength(1);
      expect((await h.env.github.commits(branches[0]!)).filter((c) => c.subject.startsWith('Restart '))).toHaveLength(1);
      expect(h.env.github.pulls()).toEqual([]);

      const { final } = await takeOver(h, handle, 'opening-pr', killedAt);

      expect(final.outcome, final.error).toBe('remediated');
      expect(githubRequests(h, 'POST', /\/pulls$/).map((r) => r.fault ?? r.status)).toEqual(['hung', 201]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('killed after the PR was opened and before the Slack message was updated → the next worker updates the same message: one PR, one message, remediated', async () => {
    await withCrashableWorker(crashRunbook, async (h, child) => {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      h.env.slack.failNext(hang(apiMethod('chat.update')));
      await approve(ctx, handle);
      const killedAt = await killWhen(child, handle, () => slackCalls(h, 'chat.update').length > 0, 'awaiting-merge');
      // Where the kill landed: the PR is open, not merged; the message still shows the approval request.
      expect(h.env.github.pulls().map((p) => p.state)).toEqual(['open']);
      const [message] = h.env.slack.incidentMessages(handle.workflowId);
      expect(message?.history).toEqual([]);

      const { final } = await takeOver(h, handle, 'awaiting-merge (Slack update)', killedAt);

      expect(final.outcome, final.error).toBe('remediated');
      const [updated, ...more] = h.env.slack.incidentMessages(final.workflowId, final.runId);
      expect(more).toEqual([]);
      expect(final.slack).toEqual({ channel: updated!.channel, ts: updated!.ts });
      // The update the crash interrupted was made by the next worker: some version shows the open PR.
      const versions = [...updated!.history, updated!].map((v) => JSON.stringify(v.blocks ?? []));
      expect(versions.some((v) => v.includes(final.pullRequest!.url))).toBe(true);
      expect(final.notes.filter((n) => n.startsWith('Slack update failed'))).toEqual([]);
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('killed while the incident waits for approval → the next worker takes the approval: one of each, remediated', async () => {
    await withCrashableWorker(crashRunbook, async (h, child) => {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      // Quiet: the Slack post is done and recorded, nothing runs.
      const killedAt = await killWhen(child, handle, async () => (await status(handle)).slack !== null, 'awaiting-approval');
      expect(h.env.github.requests.filter((r) => r.method !== 'GET')).toEqual([]);

      const { final } = await takeOver(h, handle, 'awaiting-approval', killedAt, { meanwhile: () => approve(ctx, handle) });

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.decision).toMatchObject({ decision: 'approve', by: 'oncall-alice' });
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('killed while the incident waits for the PR to be merged → the next worker watches the same PR and sees the merge: one of each, remediated', async () => {
    await withCrashableWorker(crashRunbookWithMergeWait, async (h, child) => {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(ctx, handle);
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      const number = waiting.pullRequest!.number;
      const polls = () => githubRequests(h, 'GET', new RegExp(`/pulls/${number}$`)).length;
      // The watch is in its loop: it has polled the PR more than once.
      const watched = polls();
      const killedAt = await killWhen(child, handle, () => polls() >= watched + 2, 'awaiting-merge');

      const { final } = await takeOver(h, handle, 'awaiting-merge (watching)', killedAt, {
        meanwhile: async () => {
          // A human merges once the next worker is watching.
          const before = polls();
          await expect.poll(() => polls() > before, { timeout: 30_000, interval: 25 }).toBe(true);
          await h.env.github.mergePullRequest(number);
        },
      });

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.pullRequest).toMatchObject({ number, merged: true });
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });

  it('killed during verification (the readiness probe hangs) → the next worker verifies the same rollout: one rollout, remediated', async () => {
    await withCrashableWorker(crashRunbookWithMergeWait, async (h, child) => {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(ctx, handle);
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      // The pre-flight probes are behind us: the next readiness probe is verification's.
      const from = h.env.kube.requests.length;
      h.env.kube.stallNext(hang({ method: 'GET', path: /\/proxy\/readyz$/ }));
      await h.env.github.mergePullRequest(waiting.pullRequest!.number);
      const killedAt = await killWhen(child, handle, () => kubeRequests(h, /\/proxy\/readyz$/, from).length > 0, 'verifying');
      expect(h.env.kube.snapshot().rollouts).toBe(1);

      const { final } = await takeOver(h, handle, 'verifying', killedAt);

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.verification).toMatchObject({ ok: true, restarted: true });
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    });
  });
});

/** A client and a worker connection of our own, on a dev server of our own. */
async function connectTo(address: string, namespace: string): Promise<TemporalTestContext> {
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection, namespace }),
    connection,
    nativeConnection,
    namespace,
    uiUrl: '',
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** Waits until the server answers this client again (its channel reconnects on its own). */
async function reachable(c: TemporalTestContext, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await c.connection.workflowService.getSystemInfo({});
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the restarted dev server did not answer within ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** How long the dev server stays down. */
const OUTAGE_MS = 15_000;

describe('the Temporal server stopped and started again', () => {
  // What the test starts, stopped here whatever happened to it.
  let dir: string | undefined;
  let server: DevServer | undefined;
  let own: TemporalTestContext | undefined;
  afterAll(async () => {
    try {
      await own?.close().catch(() => undefined);
      await server?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dev server stopped while the incident waits for approval, started again on its SQLite file → the same run approved, one of each, remediated', async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentruns-crash-server-'));
    const dbFile = join(dir, 'temporal.sqlite');
    const port = await freePort();
    server = await startDevServer({ dbFile, port, headless: true });
    own = await connectTo(server.address, server.namespace);
    const h = await incidentHarness(own, { scenario: 'alpaca-406', adjust: crashRunbook });
    try {
      // One worker throughout: it rides out the outage and reconnects as production workers do.
      const final = await h.run(async () => {
        const handle = await h.start();
        await waitForPhase(handle, ['awaiting-approval']);
        await expect.poll(async () => (await status(handle)).slack !== null, { timeout: 30_000, interval: 50 }).toBe(true);
        const before = await status(handle);

        const stopped = server!;
        await stopped.stop();
        const stoppedAt = Date.now();
        // Really gone, its file kept.
        expect(stopped.process.exitCode ?? stopped.process.signalCode).not.toBeNull();
        expect(statSync(dbFile).size).toBeGreaterThan(0);
        // Down long enough that the worker's polls and the client's calls fail and back off.
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        server = await startDevServer({ dbFile, port, headless: true });
        const upAt = Date.now();
        await reachable(own!);

        const after = await waitForPhase(handle, ['awaiting-approval']);
        const answeredAt = Date.now();
        expect(after.runId).toBe(before.runId);
        expect(after.slack).toEqual(before.slack);
        await approve(own!, handle);
        const state = await result(handle);
        console.log(
          `[crash] ${JSON.stringify({ point: 'Temporal dev server restarted', downMs: upAt - stoppedAt, upToQueryAnsweredMs: answeredAt - upAt, approvedToClosedMs: Date.now() - answeredAt })}`,
        );
        return state;
      });

      expect(final.outcome, final.error).toBe('remediated');
      expect(final.decision).toMatchObject({ decision: 'approve', by: 'oncall-alice' });
      expect(await actions(h, final)).toEqual(ONE_OF_EACH);
    } finally {
      await h.close();
    }
  });
});
