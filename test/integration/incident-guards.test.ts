/**
 * The guard rails of issue 7 on the real Temporal dev server, against the simulated torghut
 * environment: whatever arrives stays bounded (§3), the restart acts on the present and not on the
 * alert of an hour ago (§4), the long waits survive worker rollouts (§5), the GitOps side effects are
 * exactly the ones asked for (§6), and refusals are counted beyond their cap (§9). Each test asserts
 * the outcome and the external effects — PRs and comments in the simulated GitHub, the Argo CD sync
 * request, rollouts of the simulated cluster, the Slack message.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../activities';
import { decide, resolveIncidentAlert } from '../../control/incidents';
import { torghutAlertPayload } from '../../devstack/demo-alert';
import { DEMO_SECRETS, demoRunbook, startServices } from '../../devstack/local-stack';
import { startSimEnvironment } from '../../devstack/sim-environment';
import { diagnosisTarget } from '../../domain/collect-diagnosis';
import { RESTARTED_AT_ANNOTATION } from '../../domain/diagnosis';
import type { IncidentState } from '../../domain/incident';
import type { RunbookConfig } from '../../domain/runbook-config';
import { loadScenario, type Scenario } from '../../sim/scenario';
import { alertFiredSignal, approveSignal, rejectSignal, statusQuery } from '../../workflows/messages';
import { incidentHarness, pinned, uniqueRunbook, waitForPhase, type IncidentHarness } from '../support/incident';
import { connectTemporal, createTestWorker, uniqueTaskQueue, type TemporalTestContext } from '../support/temporal';

/** The PR's comments other than the incident report AgentRuns posts on it at close. */
function humanComments(h: IncidentHarness, prNumber: number) {
  return h.env.github.comments(prNumber).filter((c) => !c.body.startsWith('<!-- agentruns-incident-report'));
}

let ctx: TemporalTestContext;
beforeAll(async () => {
  ctx = await connectTemporal();
});
afterAll(async () => {
  await ctx?.close();
});

const KiB = 1024;
const MiB = 1024 * KiB;

const fast = (r: RunbookConfig): RunbookConfig => ({
  ...r,
  gitops: { ...r.gitops, merge: 'auto', mergePollInterval: '200ms' },
  timeouts: { ...r.timeouts, approval: '1 minute', verification: '20 seconds' },
  argo: { enabled: true, application: 'torghut', syncTimeout: '30 seconds' },
});

/** A human merges the PR (`merge: wait`), within `mergeTimeout`. */
const humanMerges =
  (mergeTimeout: string, more: (r: RunbookConfig) => RunbookConfig = (r) => r) =>
  (r: RunbookConfig): RunbookConfig => {
    const base = fast(r);
    return more({ ...base, gitops: { ...base.gitops, merge: 'wait', mergeTimeout, mergePollInterval: '200ms' } });
  };

async function withIncident<T>(
  options: Parameters<typeof incidentHarness>[1],
  fn: (h: IncidentHarness, start: () => Promise<WorkflowHandle>) => Promise<T>,
): Promise<T> {
  const harness = await incidentHarness(ctx, { adjust: fast, ...options });
  try {
    return await harness.run(() => fn(harness, () => harness.start()));
  } finally {
    await harness.close();
  }
}

const result = (handle: WorkflowHandle) => handle.result() as Promise<IncidentState>;
const approve = async (handle: WorkflowHandle, extra: { restartAnyway?: boolean; comment?: string } = {}) =>
  decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-alice', ...extra }));

/** Each event of the history with its JSON-encoded size (payloads as base64, as the proto JSON has them). */
async function historyEvents(handle: WorkflowHandle): Promise<Array<{ type: string; bytes: number }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((event) => {
    const json = JSON.stringify(event);
    return { type: String((JSON.parse(json) as { eventType?: unknown }).eventType), bytes: Buffer.byteLength(json) };
  });
}

/** Control bytes (no line breaks) and JSON full of escaped quotes, each encoded several times larger. */
function garbageLogLines(totalBytes: number): string[] {
  const control = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1))
    .filter((c) => c !== '\n' && c !== '\r')
    .join('');
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < totalBytes; i++) {
    const line =
      i % 2 === 0
        ? `${control.repeat(30)} frame ${i}`
        : JSON.stringify({
            level: 'WARN',
            message: `upstream answered ${JSON.stringify({ T: 'error', code: 406, msg: 'connection "limit" exceeded', raw: '\\"'.repeat(40) })}`,
            nested: JSON.stringify(JSON.stringify({ quote: '"'.repeat(80) })),
            i,
          });
    lines.push(line);
    bytes += Buffer.byteLength(line) + 1;
  }
  return lines;
}

/** A 406 incident whose pods log a megabyte of garbage, read whole (logLimitBytes 1 MiB). */
async function garbageLogScenario(): Promise<Scenario> {
  const scenario = await loadScenario('alpaca-406');
  return { ...scenario, logs: garbageLogLines(1.1 * MiB), secretsInLogs: [] };
}
const readsWholeMegabyte = (r: RunbookConfig): RunbookConfig => ({ ...r, diagnosis: { ...r.diagnosis, logLimitBytes: MiB, logTailLines: 5000 } });

describe('§3 whatever arrives stays bounded', () => {
  it('three 900 KB alerts through the ingress and a 1 MiB log tail of control bytes and escaped JSON → status answers, approved → remediated, no history event reaches 256 KiB', async () => {
    const env = await startSimEnvironment({
      scenario: await garbageLogScenario(),
      adjustRunbook: (r) => uniqueRunbook(demoRunbook(r), (u) => readsWholeMegabyte(fast(u))),
    });
    const services = await startServices({
      address: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      taskQueue: uniqueTaskQueue('guards'),
      env,
      workflowBundle: { code: inject('workflowBundleCode') },
      // Alertmanager repeats the annotations in commonAnnotations: two copies of 900 KB per request.
      ingressBodyLimitBytes: 8 * MiB,
    });
    try {
      const huge = 'x'.repeat(900 * 1000);
      const post = async (n: number) => {
        const response = await fetch(`${services.ingressUrl}/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_SECRETS.alertmanagerToken}` },
          body: JSON.stringify(torghutAlertPayload({ namespace: env.runbook.target.namespace, annotations: { description: huge, summary: `${n}: ${huge}` } })),
        });
        expect(response.status).toBe(202);
        return ((await response.json()) as { incidents: Array<{ workflowId: string }> }).incidents[0]!.workflowId;
      };
      const workflowId = await post(1);
      const handle = ctx.client.workflow.getHandle(workflowId);
      await waitForPhase(handle, ['awaiting-approval']);
      expect(await post(2)).toBe(workflowId);
      expect(await post(3)).toBe(workflowId);

      await expect.poll(async () => (await handle.query(statusQuery)).alertCounts.firing, { timeout: 10_000 }).toBe(3);
      const waiting = await handle.query(statusQuery);
      expect(waiting.classification?.class).toBe('alpaca_406_second_connection');
      // The whole megabyte was read; the incident keeps a bounded excerpt of it.
      const logs = waiting.diagnosis?.logs;
      expect(logs?.ok && logs.value.excerpt?.totalLines).toBeGreaterThan(1000);
      expect(Buffer.byteLength(JSON.stringify(logs))).toBeLessThan(80 * KiB);
      for (const event of waiting.alerts) expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(12 * KiB);
      expect(Buffer.byteLength(JSON.stringify(waiting))).toBeLessThan(256 * KiB);

      await approve(handle);
      const final = (await handle.result()) as IncidentState;
      expect(final.outcome).toBe('remediated');
      expect(env.kube.snapshot().rollouts).toBe(1);

      const events = await historyEvents(handle);
      const largest = events.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      expect(largest.bytes, `largest event: ${largest.type}`).toBeLessThan(256 * KiB);
    } finally {
      await services.stop();
      await env.close();
    }
  });

  it('a 900 KB alertFired signal sent straight to Temporal, past the ingress → status still answers and the incident keeps it bounded', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      const huge = 'y'.repeat(900 * 1000);
      await handle.signal(alertFiredSignal, {
        alertname: 'TorghutWsNotReady',
        labels: { alertname: 'TorghutWsNotReady', namespace: h.runbook.target.namespace },
        annotations: { description: huge },
      });
      await expect.poll(async () => (await handle.query(statusQuery)).alertCounts.firing).toBe(2);
      const state = await handle.query(statusQuery);
      expect(Buffer.byteLength(JSON.stringify(state.alerts.at(-1)))).toBeLessThan(12 * KiB);
      expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThan(128 * KiB);

      await handle.signal(rejectSignal, await pinned(handle, { by: 'oncall-bob' }));
      expect((await result(handle)).outcome).toBe('rejected');
      // The signal's own event holds what its sender sent: Temporal records the payload as received
      // (that is expected, and bounded by Temporal's own 2 MiB limit). Every event the incident itself
      // writes — its commands, activity inputs and results, its final state — stays small.
      const events = await historyEvents(handle);
      const big = events.filter((e) => e.bytes >= 256 * KiB);
      expect(big.map((e) => e.type)).toEqual(['EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED']);
      expect(big[0]!.bytes).toBeGreaterThan(900 * 1000);
      expect(h.env.github.writes()).toEqual([]);
    });
  });
});

describe('§9 refusals are counted beyond their cap', () => {
  it('mallory sends 60 approvals she may not give → 50 kept in the audit trail, 10 counted as dropped, nothing restarted', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      const attempt = await pinned(handle, { by: 'mallory' });
      for (let i = 0; i < 60; i++) await handle.signal(approveSignal, { ...attempt, comment: `attempt ${i + 1}` });
      await expect.poll(async () => {
        const s = await handle.query(statusQuery);
        return s.refusals.length + s.refusalsDropped;
      }).toBe(60);
      const state = await handle.query(statusQuery);
      expect(state.refusals).toHaveLength(50);
      expect(state.refusalsDropped).toBe(10);
      expect(state.refusals.every((r) => r.by === 'mallory' && r.reason === `mallory is not an approver of runbook ${h.runbook.id}`)).toBe(true);
      expect(state.decision).toBeNull();
      await handle.signal(rejectSignal, await pinned(handle, { by: 'oncall-alice' }));
      expect((await result(handle)).outcome).toBe('rejected');
      expect(h.env.github.writes()).toEqual([]);
      expect(h.env.kube.writes()).toEqual([]);
    });
  });
});

/** The scenario as it is once torghut-ws recovered on its own: readiness 200, same restart annotation. */
function recoveredOnItsOwn(scenario: Scenario, namespace: string): Scenario {
  return { ...scenario, namespace, readiness: { status: 200, body: { status: 'ok', gates: { alpaca_ws: true, kafka: true, trade_updates: true } } } };
}

/** Runs `flip` once, right before the pre-flight's first look at the target (that is, after the approval). */
function beforeFirstLook(flip: () => void): (activities: Activities) => Activities {
  let flipped = false;
  return (activities) => ({
    ...activities,
    lookAtTarget: async (target) => {
      if (!flipped) {
        flipped = true;
        flip();
      }
      return activities.lookAtTarget(target);
    },
  });
}

const ORIGINAL_RESTART = '2026-01-01T09:14:00Z';

describe('§4 pre-flight: the restart acts on the present, not on the alert of an hour ago', () => {
  it('torghut-ws is Ready again by the time Alice approves → recovered-before-action: no PR, no rollout, annotation untouched', async () => {
    const scenario = await loadScenario('alpaca-406');
    let h!: IncidentHarness;
    await withIncident({ scenario, wrapActivities: beforeFirstLook(() => h.env.kube.setScenario(recoveredOnItsOwn(scenario, h.runbook.target.namespace))) }, async (harness, start) => {
      h = harness;
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle, { comment: 'still 503 on my screen' });
      const final = await result(handle);
      expect(final.outcome).toBe('recovered-before-action');
      expect(final.preflights).toEqual([expect.objectContaining({ before: 'pull-request', ready: true, restartedAt: ORIGINAL_RESTART })]);
      expect(final.notes.join(' ')).toMatch(/is Ready again .*nothing was restarted \(approve with restartAnyway to restart regardless\)/);
      expect(final.restart).toBeNull();
      expect(h.env.github.pulls()).toEqual([]);
      expect(h.env.github.writes()).toEqual([]);
      expect(h.env.argo.syncRequests).toEqual([]);
      expect(h.env.kube.writes()).toEqual([]);
      expect(h.env.kube.snapshot()).toMatchObject({ rollouts: 0, templateAnnotations: { [RESTARTED_AT_ANNOTATION]: ORIGINAL_RESTART } });
    });
  });

  it('Ready again, but Alice approved with restartAnyway → restarted the GitOps way → remediated', async () => {
    const scenario = await loadScenario('alpaca-406');
    let h!: IncidentHarness;
    await withIncident({ scenario, wrapActivities: beforeFirstLook(() => h.env.kube.setScenario(recoveredOnItsOwn(scenario, h.runbook.target.namespace))) }, async (harness, start) => {
      h = harness;
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle, { restartAnyway: true, comment: 'the stale session comes back, restart it' });
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.decision).toMatchObject({ restartAnyway: true });
      expect(final.preflights[0]).toMatchObject({ ready: true, finding: expect.stringMatching(/going ahead$/) });
      expect(h.env.github.pulls()).toEqual([expect.objectContaining({ merged: true })]);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
      expect(h.env.kube.snapshot().templateAnnotations[RESTARTED_AT_ANNOTATION]).toBe(final.restart?.restartedAt);
    });
  });

  it('someone ran `kubectl rollout restart` between the diagnosis and the approval and it cured → no second restart, no PR', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      const byHand = new Date().toISOString();
      h.env.kube.restartRollout(byHand);
      await approve(handle);
      const final = await result(handle);
      expect(final.outcome).toBe('recovered-before-action');
      expect(final.notes.join(' ')).toContain(`was restarted by someone else since the diagnosis (restartedAt ${ORIGINAL_RESTART} → ${byHand}): not restarting it a second time`);
      expect(h.env.github.pulls()).toEqual([]);
      expect(h.env.github.writes()).toEqual([]);
      expect(h.env.argo.syncRequests).toEqual([]);
      // Only the restart by hand rolled the pods.
      expect(h.env.kube.snapshot().rollouts).toBe(1);
      expect(h.env.kube.writes()).toEqual([]);
    });
  });

  it('someone restarted it by hand and it is still failing → needs-human, still no second restart', async () => {
    const scenario = await loadScenario('alpaca-406');
    delete scenario.afterRestart;
    await withIncident({ scenario }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      h.env.kube.restartRollout(new Date().toISOString());
      await approve(handle);
      const final = await result(handle);
      expect(final.outcome).toBe('needs-human');
      expect(final.notes.join(' ')).toMatch(/restarted by someone else since the diagnosis/);
      expect(h.env.github.pulls()).toEqual([]);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
    });
  });

  it('merge: wait — torghut-ws recovers while the PR waits for review → the PR is closed with a comment, recovered-before-action, nothing restarted', async () => {
    const scenario = await loadScenario('alpaca-406');
    await withIncident({ scenario, adjust: humanMerges('4 seconds') }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle);
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      h.env.kube.setScenario(recoveredOnItsOwn(scenario, h.runbook.target.namespace));
      const final = await result(handle);
      expect(final.outcome).toBe('recovered-before-action');
      const pr = h.env.github.pulls()[0]!;
      expect(pr).toMatchObject({ number: waiting.pullRequest!.number, state: 'closed', merged: false });
      expect(humanComments(h, pr.number).map((c) => c.body)).toEqual([expect.stringMatching(/^Closed by AgentRuns: .* is Ready again/)]);
      expect(final.pullRequest).toMatchObject({ number: pr.number, closed: true, merged: false });
      expect(final.notes.at(-1)).toMatch(new RegExp(`closed the unmerged PR #${pr.number}$`));
      expect(final.preflights.map((p) => p.before)).toEqual(['pull-request', 'sync']);
      expect(final.restart).toBeNull();
      expect(h.env.argo.syncRequests).toEqual([]);
      expect(h.env.kube.snapshot()).toMatchObject({ rollouts: 0, templateAnnotations: { [RESTARTED_AT_ANNOTATION]: ORIGINAL_RESTART } });
    });
  });

  it('the alert resolves while the incident waits for approval → status.resolvedAt is set and the Slack message says so (until it fires again); the pre-flight still decides', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      // The diagnosis is in the channel.
      await expect.poll(async () => (await handle.query(statusQuery)).slack?.ts).toBeDefined();
      const posted = (await handle.query(statusQuery)).slack!;
      const alert = { alertname: 'TorghutWsNotReady', labels: { alertname: 'TorghutWsNotReady', namespace: h.runbook.target.namespace } };
      expect(await resolveIncidentAlert({ client: ctx.client, taskQueue: h.taskQueue }, h.runbook, alert)).toBe(true);
      await expect.poll(async () => (await handle.query(statusQuery)).resolvedAt).toBeDefined();
      const resolved = await handle.query(statusQuery);
      expect(resolved.alertCounts).toEqual({ firing: 1, resolved: 1 });
      expect(resolved.phase).toBe('awaiting-approval');

      const message = () => h.env.slack.messages.find((m) => m.ts === posted.ts);
      await expect
        .poll(() => JSON.stringify(message()?.blocks ?? []), { timeout: 10_000 })
        .toContain(`The alert resolved at ${resolved.resolvedAt} while this incident waits`);

      // Alertmanager fires again: the message stops saying it resolved.
      await handle.signal(alertFiredSignal, alert);
      await expect.poll(() => JSON.stringify(message()?.blocks ?? []), { timeout: 10_000 }).not.toContain('The alert resolved at');
      expect((await handle.query(statusQuery)).resolvedAt).toBeUndefined();

      // Readiness is still 503: the approval goes ahead.
      await approve(handle);
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.preflights[0]).toMatchObject({ ready: false });
      expect(h.env.kube.snapshot().rollouts).toBe(1);
    });
  });

  it('a human merges the PR late → restart.happenedAt is the merge/sync moment, and the cool-down of the next incident counts from it', async () => {
    const withCooldown = humanMerges('1 minute', (r) => ({ ...r, timeouts: { ...r.timeouts, cooldown: '5 seconds' } }));
    await withIncident({ scenario: 'flapping', adjust: withCooldown }, async (h, start) => {
      const first = await start();
      await waitForPhase(first, ['awaiting-approval']);
      const approved = await approve(first);
      await waitForPhase(first, ['awaiting-merge']);
      // Review takes longer than the cool-down: the restart happens well after the approval.
      await new Promise((r) => setTimeout(r, Date.parse(approved.at) + 6_000 - Date.now()));
      const mergedAt = Date.now();
      await h.env.github.mergePullRequest(h.env.github.pulls()[0]!.number);
      const done = await result(first);
      expect(done.outcome).toBe('remediated');
      expect(Date.parse(done.restart!.happenedAt!)).toBeGreaterThanOrEqual(mergedAt);
      expect(Date.parse(done.restart!.happenedAt!) - Date.parse(approved.at)).toBeGreaterThanOrEqual(5_000);
      expect(done.restart!.happenedAt).toBe(done.argoSync!.at);

      // It relapses a moment later; Alertmanager fires again, within the cool-down of the real restart.
      await expect
        .poll(async () => (await h.env.activities.probePods(diagnosisTarget(h.runbook))).find((p) => p.path === '/readyz')?.status, { timeout: 5000 })
        .toBe(503);
      const second = await start();
      await expect.poll(async () => (await second.query(statusQuery)).outcome, { timeout: 15_000 }).toBe('needs-human');
      // The restartedAt annotation (written at the approval) is older than the cool-down; the restart is not.
      expect((await result(second)).notes.join(' ')).toContain(`(by incident run ${done.runId}, when its restart took effect), within the 5 seconds cool-down`);
      expect(h.env.github.pulls()).toHaveLength(1);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
    });
  });
});

/** Waits until a worker runs the activity (one of the long waits' windows) for the incident. */
async function watching(handle: WorkflowHandle, activity: 'watchMerge' | 'verifyRestart'): Promise<void> {
  await expect
    .poll(async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      // PENDING_ACTIVITY_STATE_STARTED: a worker has it.
      return pending.some((a) => a.activityType?.name === activity && Number(a.state) === 2);
    }, { timeout: 15_000, interval: 100 })
    .toBe(true);
}

describe('§5 long waits survive worker rollouts', () => {
  it('three worker rollouts while the PR waits for review and one during verification → remediated: one PR, never closed, no close comment, one rollout', async () => {
    const h = await incidentHarness(ctx, { scenario: 'alpaca-406', adjust: humanMerges('3 minutes'), shutdownGraceTime: '500 milliseconds' });
    let worker: Worker = h.worker;
    let running = worker.run();
    const rollOut = async () => {
      worker.shutdown();
      await running;
      worker = await createTestWorker(ctx, h.taskQueue, h.activities, { shutdownGraceTime: '500 milliseconds' });
      running = worker.run();
    };
    try {
      const handle = await h.start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle);
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      for (let i = 0; i < 3; i++) {
        await watching(handle, 'watchMerge');
        await rollOut();
      }
      expect((await handle.query(statusQuery)).phase).toBe('awaiting-merge');

      // The reviewer merges; right after the rollout the pods are slow to answer readiness.
      h.env.kube.setFault('proxy', 503);
      await h.env.github.mergePullRequest(waiting.pullRequest!.number);
      const verifying = await waitForPhase(handle, ['verifying']);
      await watching(handle, 'verifyRestart');
      await rollOut();
      h.env.kube.setFault('proxy', undefined);

      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.verification?.ok).toBe(true);
      expect(verifying.pullRequest?.merged).toBe(true);
      const pulls = h.env.github.pulls();
      expect(pulls).toEqual([expect.objectContaining({ number: waiting.pullRequest!.number, merged: true })]);
      expect(humanComments(h, pulls[0]!.number)).toEqual([]);
      expect(final.notes.join(' ')).not.toMatch(/closed the unmerged PR/);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
      expect(h.env.argo.syncCount('torghut')).toBe(1);
      // Each rollout cut a watch window short and the next worker simply watched on: no attempt was
      // lost to a timeout or failed.
      const events = (await handle.fetchHistory()).events ?? [];
      const windows = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchMerge');
      expect(windows.length).toBeGreaterThanOrEqual(4);
      expect(events.filter((e) => e.activityTaskTimedOutEventAttributes || e.activityTaskFailedEventAttributes)).toEqual([]);
    } finally {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await h.close();
    }
  });
});

/** Wraps `closePullRequest` so the reviewer's merge lands just before the incident gives up on it. */
function mergedAsTheTimeoutPasses(merge: () => Promise<unknown>): (activities: Activities) => Activities {
  return (activities) => ({
    ...activities,
    closePullRequest: async (input) => {
      if (/not merged within/.test(input.comment)) await merge();
      return activities.closePullRequest(input);
    },
  });
}

const argoSyncOf = (h: IncidentHarness) => [{ group: 'apps', kind: 'Deployment', name: 'torghut-ws', namespace: h.runbook.target.namespace }];

describe('§6 the GitOps side effects are exactly the ones asked for', () => {
  it('the Argo CD sync after the merge names only Deployment torghut-ws, not the whole application', async () => {
    await withIncident({ scenario: 'alpaca-406' }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle);
      expect((await result(handle)).outcome).toBe('remediated');
      expect(h.env.argo.syncRequests).toHaveLength(1);
      expect(h.env.argo.syncRequests[0]).toMatchObject({ application: 'torghut' });
      expect(h.env.argo.syncRequests[0]!.body.resources).toEqual(argoSyncOf(h));
    });
  });

  it('the reviewer merges the PR right as the merge timeout passes → counted as merged and verified → remediated, never "closed the unmerged PR"', async () => {
    let h!: IncidentHarness;
    const merge = () => h.env.github.mergePullRequest(h.env.github.pulls()[0]!.number);
    await withIncident({ scenario: 'alpaca-406', adjust: humanMerges('2 seconds'), wrapActivities: mergedAsTheTimeoutPasses(merge) }, async (harness, start) => {
      h = harness;
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle);
      const final = await result(handle);
      expect(final.outcome).toBe('remediated');
      expect(final.error).toBeUndefined();
      expect(final.pullRequest).toMatchObject({ merged: true });
      expect(final.pullRequest?.closed).toBeUndefined();
      expect(final.notes.join(' ')).not.toMatch(/closed the unmerged PR/);
      expect(final.verification?.ok).toBe(true);
      const pr = h.env.github.pulls()[0]!;
      expect(pr).toMatchObject({ state: 'closed', merged: true });
      expect(humanComments(h, pr.number)).toEqual([]);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
      expect(Date.parse(final.restart!.happenedAt!)).toBeGreaterThanOrEqual(Date.parse(pr.mergedAt!));
    });
  });

  it('the restart did not cure, the rollback is approved with merge: auto → the revert PR is merged, synced and its rollout seen', async () => {
    // The first rollout does not bring it back; the revert's rollout (the second) does.
    const scenario = { ...(await loadScenario('alpaca-406')), restartsUntilCured: 2 };
    const adjust = (r: RunbookConfig): RunbookConfig => ({ ...fast(r), timeouts: { ...fast(r).timeouts, verification: '3 seconds' } });
    await withIncident({ scenario, adjust }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle);
      await waitForPhase(handle, ['awaiting-rollback-approval']);
      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-bob', comment: 'put it back' }));
      const final = await result(handle);
      expect(final.outcome).toBe('verification-failed');
      const revert = final.rollback?.pullRequest;
      expect(revert).toMatchObject({ merged: true });
      // …and the verification says which pods it looked at (the current ReplicaSet's).
      expect(final.rollback?.result).toMatch(
        new RegExp(`^revert PR #${revert!.number} merged and rolled out \\(rollout with restartedAt=${ORIGINAL_RESTART} complete: 1 pod of ReplicaSet torghut-ws-\\w+\\)$`),
      );
      const pulls = h.env.github.pulls();
      expect(pulls.map((p) => [p.number === revert!.number ? 'revert' : 'restart', p.merged])).toEqual([
        ['restart', true],
        ['revert', true],
      ]);
      expect(pulls[1]!.body).toContain('when Argo CD syncs it, the\nDeployment rolls out once more (a new ReplicaSet; the pods restart one more time)');
      // Two rollouts: the restart, and the revert of its annotation (which rolled the pods once more).
      expect(h.env.kube.snapshot()).toMatchObject({ rollouts: 2, templateAnnotations: { [RESTARTED_AT_ANNOTATION]: ORIGINAL_RESTART } });
      expect(h.env.argo.syncRequests.map((s) => s.body.resources)).toEqual([argoSyncOf(h), argoSyncOf(h)]);
    });
  });

  it('the rollback is approved with merge: wait and nobody merges the revert → it is closed with a comment as the incident ends: verification-failed', async () => {
    const scenario = await loadScenario('alpaca-406');
    delete scenario.afterRestart;
    const adjust = humanMerges('4 seconds', (r) => ({ ...r, timeouts: { ...r.timeouts, verification: '2 seconds' } }));
    await withIncident({ scenario, adjust }, async (h, start) => {
      const handle = await start();
      await waitForPhase(handle, ['awaiting-approval']);
      await approve(handle);
      const waiting = await waitForPhase(handle, ['awaiting-merge']);
      await h.env.github.mergePullRequest(waiting.pullRequest!.number);
      await waitForPhase(handle, ['awaiting-rollback-approval']);
      await decide(ctx.client, handle.workflowId, 'approve', await pinned(handle, { by: 'oncall-bob' }));
      const final = await result(handle);
      expect(final.outcome).toBe('verification-failed');
      const revert = h.env.github.pulls().find((p) => p.number !== waiting.pullRequest!.number)!;
      expect(revert).toMatchObject({ state: 'closed', merged: false });
      expect(humanComments(h, revert.number).map((c) => c.body)).toEqual([
        expect.stringMatching(/^Closed by AgentRuns: not merged within 4 seconds; incident .* gave up waiting\./),
      ]);
      expect(final.rollback?.pullRequest).toMatchObject({ number: revert.number, merged: false, closed: true });
      expect(final.rollback?.result).toMatch(new RegExp(`^revert PR #${revert.number} not merged: PR #${revert.number} was not merged within 4 seconds \\(closed it\\)$`));
      expect(final.notes).toContain(`closed the unmerged PR #${revert.number}`);
      expect(h.env.kube.snapshot().rollouts).toBe(1);
    });
  });
});
