/**
 * The second half of an incident on a real Temporal dev server, against the simulated torghut
 * environment: approval gate, GitOps PR, merge, Argo CD sync, verification, and the guard rails.
 * Each test asserts the external effects — the PR's diff in the simulated GitHub, the simulated
 * cluster's pods — and the final state.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../activities';
import { decide, DecisionRefusedError } from '../../control/incidents';
import { diagnosisTarget } from '../../domain/collect-diagnosis';
import type { IncidentState } from '../../domain/incident';
import { loadScenario } from '../../sim/scenario';
import { approveSignal, rejectSignal } from '../../workflows/messages';
import { decisionFor, fastRunbook, incidentHarness, pinned, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, createTestWorker, type TemporalTestContext } from '../support/temporal';

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

async function withIncident<T>(
  options: Parameters<typeof incidentHarness>[1],
  fn: (h: IncidentHarness, handle: () => Promise<WorkflowHandle>) => Promise<T>,
): Promise<T> {
  const harness = await incidentHarness(ctx, { adjust: fastRunbook, ...options });
  try {
    return await harness.run(() => fn(harness, () => harness.start()));
  } finally {
    await harness.close();
  }
}

const result = (handle: WorkflowHandle) => handle.result() as Promise<IncidentState>;

describe('gated actuation of torghut-ws', () => {
  it('406 with two replicas → approve → PR changes only restartedAt and replicas → Argo sync → remediated', async () => {
    await withIncident({ scenario: 'alpaca-406-two-replicas', adjust: (r) => ({ ...fastRunbook(r), gitops: { ...fastRunbook(r).gitops, merge: 'wait' } }) }, async (h, start) => {
      const podsBefore = h.env.kube.snapshot().pods.map((p) => p.name);
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      const record = await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', comment: 'stale socket, restart' }));
      expect(record).toMatchObject({ decision: 'approve', by: 'oncall-alice', channel: 'cli' });

      // merge: wait — a human merges the PR in GitHub.
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      const pr = waiting.pullRequest!;
      // One branch per incident run: a later incident of the same target never adopts this PR.
      expect(pr.branch).toBe(`agentruns/${handle.workflowId}/${(await handle.describe()).runId.slice(0, 8)}`);
      const diff = await h.env.github.diff(pr.number);
      const changed = diff.split('\n').filter((l) => /^[+-](?![+-])/.test(l));
      expect(changed).toEqual([
        '-  replicas: 2',
        '+  replicas: 1',
        // The comment on the annotation line survives the edit.
        expect.stringMatching(/^-\s+kubectl\.kubernetes\.io\/restartedAt: "2026-01-01T09:14:00Z" # last GitOps restart$/),
        expect.stringMatching(/^\+\s+kubectl\.kubernetes\.io\/restartedAt: "\d{4}-\d\d-\d\dT[\d:.]+Z" # last GitOps restart$/),
      ]);
      const body = h.env.github.pulls()[0]!.body ?? '';
      expect(body).toContain('alpaca_406_second_connection');
      expect(body).toContain('oncall-alice');
      expect(body).toContain(handle.workflowId);
      await h.env.github.mergePullRequest(pr.number);

      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.pullRequest).toMatchObject({ number: pr.number, merged: true });
      expect(final.argoSync).toMatchObject({ application: 'torghut', status: 'Synced', health: 'Healthy' });
      expect(final.verification?.ok).toBe(true);
      expect(final.decision).toMatchObject({ by: 'oncall-alice' });
      for (const phase of ['diagnosing', 'awaiting-approval', 'opening-pr', 'awaiting-merge', 'syncing', 'verifying']) {
        expect(final.timings[phase]?.ms, phase).toBeGreaterThanOrEqual(0);
      }
      // The cluster rolled: new pods, one replica, Ready; Argo synced exactly once.
      const after = h.env.kube.snapshot();
      expect(after.replicas).toBe(1);
      expect(after.pods.map((p) => p.name)).not.toEqual(expect.arrayContaining(podsBefore));
      expect(after.pods.every((p) => p.ready)).toBe(true);
      expect(h.env.argo.syncCount('torghut')).toBe(1);
      expect(h.env.github.pulls()).toHaveLength(1);
    });
  });

  it('reject → rejected, nothing written', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await handle.signal(rejectSignal, await pinned(handle, { by: 'oncall-bob', comment: 'market closed, leave it' }));
      const final = await result(handle);
      expect(final.outcome).toBe('rejected');
      expect(final.decision).toMatchObject({ decision: 'reject', by: 'oncall-bob', channel: 'temporal' });
      expect(h.env.github.writes()).toEqual([]);
      expect(h.env.kube.writes()).toEqual([]);
    });
  });

  it('no decision within the approval timeout → expired, nothing written', async () => {
    await withIncident(
      { scenario: 'alpaca-406', adjust: (r) => ({ ...fastRunbook(r), timeouts: { ...r.timeouts, approval: '2 seconds' } }) },
      async (h, start) => {
        const final = await result(await start());
        expect(final.outcome).toBe('expired');
        expect(final.decision).toBeNull();
        expect(h.env.github.writes()).toEqual([]);
      },
    );
  });

  it('an approver not in the runbook is refused at once (Update) and recorded (signal); the incident keeps waiting', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await expect(decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'mallory' }))).rejects.toThrow(
        new DecisionRefusedError(`mallory is not an approver of runbook ${h.runbook.id}`),
      );
      await handle.signal(approveSignal, await pinned(handle, { by: 'mallory', comment: 'let me in' }));
      const state = await waitForPhase(handle, ['awaiting-approval']);
      // Both attempts are in the audit trail: the refused Update (recorded by the client) and the signal.
      await expect.poll(async () => (await waitForPhase(handle, ['awaiting-approval'])).refusals.length).toBe(2);
      const refusals = (await waitForPhase(handle, ['awaiting-approval'])).refusals;
      expect(refusals.map((r) => [r.by, r.channel])).toEqual([
        ['mallory', 'reported'],
        ['mallory', 'temporal'],
      ]);
      // The client reported its refused Update (recorded as reported, with where it saw it).
      expect(refusals[0]!.reason).toBe(`cli: mallory is not an approver of runbook ${h.runbook.id}`);
      expect(state.decision).toBeNull();
      await handle.signal(rejectSignal, await pinned(handle, { by: 'oncall-alice' }));
      expect((await result(handle)).outcome).toBe('rejected');
      expect(h.env.github.writes()).toEqual([]);
    });
  });

  it('procedure B (Alpaca 401/403): approval without the credential-rotation confirmation is refused; with it → remediated', async () => {
    await withIncident({ scenario: 'alpaca-auth' }, async (h, start) => {
      const handle = await start();
      const waiting = await waitForPhase(handle, ['awaiting-approval']);
      expect(waiting.classification?.procedure).toBe('B');
      expect(waiting.prerequisite).toMatch(/SealedSecrets/);
      await expect(decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }))).rejects.toThrow(/prerequisite/);
      await handle.signal(approveSignal, await pinned(handle, { by: 'oncall-alice' }));
      await expect.poll(async () => (await waitForPhase(handle, ['awaiting-approval'])).refusals.length).toBe(2);
      expect(h.env.github.writes()).toEqual([]);

      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', prerequisiteConfirmed: true, comment: 'keys rotated in sealed-secrets.yaml' }));
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.decision).toMatchObject({ prerequisiteConfirmed: true });
      expect(h.env.github.pulls()).toHaveLength(1);
    });
  });

  it('a worker restarted while the incident waits for approval loses nothing: the new worker carries it to remediated', async () => {
    const harness = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: fastRunbook });
    try {
      const { handle, waiting } = await harness.run(async () => {
        const h = await harness.start();
        return { handle: h, waiting: await waitForPhase(h, ['awaiting-approval']) };
      });
      // The first worker is gone; the incident waits in Temporal, and a decision can still be sent.
      await handle.signal(approveSignal, decisionFor(waiting, 'oncall-alice', { comment: 'approved while no worker ran' }));
      const replacement = await createTestWorker(ctx, harness.taskQueue, harness.env.activities);
      const final = await replacement.runUntil(result(handle));
      expect(final.outcome).toBe('remediated');
      expect(final.decision).toMatchObject({ by: 'oncall-alice' });
      expect(harness.env.github.pulls()).toHaveLength(1);
      expect(harness.env.kube.snapshot().rollouts).toBe(1);
    } finally {
      await harness.close();
    }
  });

  it('nobody merges the PR within the merge timeout → failed, and the unmerged PR is closed with a comment', async () => {
    await withIncident(
      {
        scenario: 'alpaca-406',
        adjust: (r) => ({ ...fastRunbook(r), gitops: { ...fastRunbook(r).gitops, merge: 'wait', mergeTimeout: '2 seconds', mergePollInterval: '200ms' } }),
      },
      async (h, start) => {
        const handle = await start();
        await waitForPhase(handle, ['awaiting-approval']);
        await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
        const final = await result(handle);
        expect(final.outcome).toBe('failed');
        expect(final.error).toMatch(/merge|time/i);
        const pr = h.env.github.pulls()[0]!;
        expect(pr).toMatchObject({ state: 'closed', merged: false });
        expect(h.env.github.comments(pr.number).map((c) => c.body).join('\n')).toMatch(/Closed by AgentRuns: not merged within 2 seconds; incident .* gave up waiting/);
        expect(final.notes).toContain(`closed the unmerged PR #${pr.number}`);
        expect(h.env.kube.snapshot().rollouts).toBe(0);
      },
    );
  });

  it('healthy → healthy-no-action without asking anyone', async () => {
    await withIncident({ scenario: 'healthy' }, async (h, start) => {
      const final = await result(await start());
      expect(final.outcome).toBe('healthy-no-action');
      expect(final.phase).toBe('closed');
      expect(final.timings['awaiting-approval']).toBeUndefined();
      expect(h.env.github.writes()).toEqual([]);
    });
  });

  it('the PR activity retried after the PR was created → still one PR and one commit', async () => {
    // Fault injection on the real activity: the first attempt opens the PR, then the answer is lost.
    let attempts = 0;
    const loseFirstAnswer = (activities: Activities): Activities => ({
      ...activities,
      openRestartPullRequest: async (input) => {
        attempts += 1;
        const record = await activities.openRestartPullRequest(input);
        if (attempts === 1) throw ApplicationFailure.retryable('connection reset after the PR was created', 'UpstreamError');
        return record;
      },
    });
    await withIncident({ scenario: 'alpaca-406', wrapActivities: loseFirstAnswer }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(attempts).toBe(2);
      expect(h.env.github.pulls()).toHaveLength(1);
      const onBranch = await h.env.github.commits(final.pullRequest!.branch);
      const seed = await h.env.github.commits(onBranch[onBranch.length - 1]!.sha);
      // The branch is the seed commit plus exactly one restart commit.
      expect(onBranch).toHaveLength(seed.length + 1);
    });
  });

  it('flapping: restarted, then failing again within the cool-down → the next incident escalates as needs-human', async () => {
    await withIncident({ scenario: 'flapping' }, async (h, start) => {
      const first = await start();
      await waitForPhase(first, ['awaiting-approval']);
      await decide(ctx.client, first.workflowId, 'approve', await pinned(first, { by: 'oncall-alice' }));
      expect((await result(first)).outcome).toBe('remediated');
      // Readiness relapses (as the probes see it); Alertmanager fires again.
      const target = diagnosisTarget(h.runbook);
      await expect
        .poll(async () => (await h.env.activities.probePods(target)).find((p) => p.path === '/readyz')?.status, { timeout: 5000 })
        .toBe(503);
      const second = await start();
      expect(second.workflowId).toBe(first.workflowId);
      const final = await result(second);
      expect(final.outcome).toBe('needs-human');
      expect(final.notes.join(' ')).toMatch(/cool-down/);
      expect(h.env.github.pulls()).toHaveLength(1);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
    });
  });

  it('restart does not cure → verification-failed with a new diagnosis and a rollback PR behind its own approval', async () => {
    const scenario = await loadScenario('alpaca-406');
    delete scenario.afterRestart;
    await withIncident(
      { scenario, adjust: (r) => ({ ...fastRunbook(r), timeouts: { ...r.timeouts, approval: '1 minute', verification: '3 seconds' } }) },
      async (h, start) => {
        const handle = await start();
        await waitForPhase(handle, ['awaiting-approval']);
        await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
        const offered = await waitForPhase(handle, ['awaiting-rollback-approval']);
        expect(offered.verification).toMatchObject({ ok: false, rediagnosedClass: 'alpaca_406_second_connection' });
        expect(offered.rollback).toMatchObject({ offered: true });
        const before = await h.env.github.fileAt('main', h.runbook.gitops.deploymentPath);
        await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-bob', comment: 'roll it back' }));
        const final = await result(handle);
        expect(final.outcome).toBe('verification-failed');
        expect(final.rollback?.decision).toMatchObject({ by: 'oncall-bob' });
        const revert = final.rollback!.pullRequest!;
        expect(revert.branch).toBe(`agentruns/${handle.workflowId}/${(await handle.describe()).runId.slice(0, 8)}-revert`);
        expect(h.env.github.pulls()).toHaveLength(2);
        const revertDiff = await h.env.github.diff(revert.number);
        expect(revertDiff).toMatch(/^-\s+kubectl\.kubernetes\.io\/restartedAt: "\d{4}-\d\d-\d\dT/m);
        expect(revertDiff).toMatch(/^\+\s+kubectl\.kubernetes\.io\/restartedAt: "2026-/m);
        expect(before).not.toBeNull();
      },
    );
  });

  it('dry run computes the change and writes nothing', async () => {
    const harness = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: fastRunbook });
    try {
      await harness.run(async () => {
        const handle = await harness.start({ dryRun: true });
        await waitForPhase(handle, ['awaiting-approval']);
        await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice' }));
        const final = await result(handle);
        expect(final.outcome).toBe('needs-human');
        expect(final.pullRequest).toMatchObject({ dryRun: true, number: 0 });
        expect(final.pullRequest?.changes.join(' ')).toMatch(/restartedAt/);
        expect(harness.env.github.writes()).toEqual([]);
        expect(harness.env.kube.writes()).toEqual([]);
      });
    } finally {
      await harness.close();
    }
  });

  it('emergency direct restart: refused while the runbook disables it; when enabled, patched with a drift warning → remediated', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await expect(decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', emergency: true }))).rejects.toThrow(/emergency direct restart is disabled/);
      await handle.terminate('test done');
    });
    await withIncident(
      { scenario: 'alpaca-406', adjust: (r) => ({ ...fastRunbook(r), emergency: { directRestartEnabled: true } }) },
      async (h, start) => {
        const handle = await start();
        await waitForPhase(handle, ['awaiting-approval']);
        await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', emergency: true, comment: 'market open, no time for a PR' }));
        const final = await result(handle);
        expect(final.outcome).toBe('remediated');
        expect(final.pullRequest).toBeNull();
        expect(final.notes.join(' ')).toMatch(/Argo CD will show drift/);
        expect(h.env.github.writes()).toEqual([]);
        expect(h.env.kube.writes().map((r) => r.method)).toEqual(['PATCH']);
      },
    );
  });
});
